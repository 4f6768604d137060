"""Test bodies of the satellite blocks, each run in Amaranth's simulator and through cocotb
(:mod:`tb.dual`): the stimulus, the golden model and the checks live here once.

Parameters (``bench.params``) are JSON values: ``seed``, ``idle`` and ``stall`` always, the
block's own ones as each body documents.
"""

from __future__ import annotations

import numpy as np

from models.framing import check_downlink
from models.health import HealthConfig, run_health_tests
from models.qrng import (
    FAULT_BIASED,
    FAULT_NONE,
    FAULT_STUCK,
    qrng_offered,
    qrng_words,
    source_words,
)
from models.rnd_cache import CacheStatus, cache_lookup
from models.symbols import SAFE_SYMBOL, DriveLut, MapperConfig, Symbols, map_symbols
from models.transmitter import QrngFault, laser_schedule, symbol_path_holds, transmitted_symbols
from rtl.common.payload import pack, pack_array, unpack, unpack_array
from rtl.satellite.layouts import (
    CacheAnswer,
    CacheQuery,
    DownlinkWord,
    HealthAlarm,
    LutWrite,
    SafeCounts,
    Symbol,
    mapped_beat,
    qrng_beat,
    symbol_beat,
)
from rtl.satellite.layouts import MapperConfig as MapperConfigLayout
from tb.dual import Bench, Receive, Send
from tb.packing import cache_rows, mapped_beats, qrng_beats, symbol_beats

FAULTS = {"healthy": FAULT_NONE, "stuck": FAULT_STUCK, "biased": FAULT_BIASED}


def faulty_words(kind: str, seed: int, beats: int, lanes: int, fault_at: int) -> np.ndarray:
    """``[beats, lanes]`` QRNG words, from beat ``fault_at`` on of source fault ``kind``."""
    pulses = np.arange(beats * lanes)
    words = qrng_words(seed, pulses)
    words[fault_at * lanes:] = source_words(seed, pulses[fault_at * lanes:], FAULTS[kind])
    return words.reshape(beats, lanes)


async def mapper(bench: Bench) -> None:
    """SymbolMapper against :func:`models.symbols.map_symbols`: ``lanes``, ``beats``,
    ``thresholds`` (signal, decoy, Z), optional ``lut`` (``{"im": [...], "pm": [...]}``, written
    through ``lut_write``, ``im_off`` included)."""
    p = bench.params
    lanes, beats = p["lanes"], p["beats"]
    config = MapperConfig(*p["thresholds"])
    lut = (DriveLut(**{k: tuple(v) if isinstance(v, list) else v for k, v in p["lut"].items()})
           if "lut" in p else DriveLut())
    await bench.reset()
    bench.set("thresholds", pack(MapperConfigLayout, {
        "signal_below": config.signal_below, "decoy_below": config.decoy_below,
        "z_below": config.z_below}))
    if "lut" in p:
        for addr, value in enumerate(lut.registers()):
            bench.set("lut_write", pack(LutWrite, {"en": 1, "addr": addr, "data": value}))
            await bench.ticks(1)
        bench.set("lut_write", 0)
    words = qrng_words(p["seed"], np.arange(beats * lanes)).reshape(beats, lanes)
    got = await bench.transfer({"i": Send(qrng_beats(words), idle=p["idle"])},
                               {"o": Receive(beats, stall=p["stall"])})
    bench.compare("mapper", got["o"], mapped_beats(map_symbols(words, config, lut)),
                  layout=mapped_beat(lanes))


async def health(bench: Bench) -> None:
    """QrngHealthIntake against :func:`models.health.run_health_tests`, one run per entry of
    ``kinds`` (healthy, stuck, biased), each after a reset: ``lanes``, ``beats``, ``fault_at``,
    optional ``apt_window`` (the DUT's :class:`HealthConfig`)."""
    p = bench.params
    lanes = p["lanes"]
    config = HealthConfig(apt_window=p.get("apt_window", HealthConfig.apt_window))
    for kind in p["kinds"]:
        words = faulty_words(kind, p["seed"], p["beats"], lanes, p["fault_at"])
        verdict = run_health_tests(words, config)
        passed = p["beats"] if verdict.fail_beat is None else verdict.fail_beat
        await bench.reset()
        got = await bench.transfer({"i": Send(qrng_beats(words), idle=p["idle"])},
                                   {"o": Receive(passed, stall=p["stall"])})
        await bench.ticks(20)
        bench.compare(f"health-{kind}", got["o"], qrng_beats(words[:passed]),
                      layout=qrng_beat(lanes))
        alarm = pack(HealthAlarm, {"rct": int(verdict.rct), "apt": int(verdict.apt)})
        assert bench.get("alarm") == alarm, f"{kind}: alarm {bench.get('alarm'):#x}, {verdict}"


async def framer(bench: Bench) -> None:
    """SyncFramer against :func:`models.framing.check_downlink`: one run per entry of ``words``
    (downlink words taken), each after a reset, fed random payload words as fast as the framer
    takes them (the framer fills idle slots itself)."""
    p = bench.params
    for run, words_out in enumerate(p["words"]):
        await bench.reset()
        payload = [bench.rng.randrange(1, 1 << 32) for _ in range(words_out)]
        got = await bench.transfer(
            {"payload": Send(payload, idle=p["idle"], background=True)},
            {"o": Receive(words_out, stall=p["stall"])})
        out = unpack_array(DownlinkWord, got["o"])
        mismatches, consumed = check_downlink(out["data"], out["kind"].astype(np.uint8),
                                              np.array(payload, dtype=np.uint64))
        assert mismatches == 0, f"run {run}: {mismatches} downlink words differ from the model"
        assert 0 < consumed <= words_out, f"run {run}: {consumed} payload words"


async def rnd_cache(bench: Bench) -> None:
    """RndCache against :func:`models.rnd_cache.cache_lookup` under concurrent writes and
    lookups, in ``runs`` runs each after a reset: ``lanes``, ``rows``, ``beats`` written,
    ``queries`` random lookups around the moving window. Every status must occur."""
    p = bench.params
    lanes, beats = p["lanes"], p["beats"]
    capacity = lanes * p["rows"]
    symbols = map_symbols(qrng_words(p["seed"], np.arange(beats * lanes)).reshape(beats, lanes))
    codes = pack_array(Symbol, {"intensity": symbols.intensity.ravel(),
                                "basis": symbols.basis.ravel(), "bit": symbols.bit.ravel()})
    for run in range(p.get("runs", 1)):
        await bench.reset()
        queries = np.array([bench.rng.randrange(0, beats * lanes + 16)
                            for _ in range(p["queries"])], dtype=np.uint64)
        got = await bench.transfer(
            {"write": Send(cache_rows(symbols), idle=p["write_idle"]),
             "query": Send(pack_array(CacheQuery, {"pulse": queries}), idle=p["idle"])},
            {"answer": Receive(len(queries), stall=p["stall"])})
        answers = got["answer"]
        assert len(answers) == len(queries), f"run {run}: {len(answers)} answers"
        ans = unpack_array(CacheAnswer, answers)
        pulse, status = ans["pulse"], ans["status"]
        want_status = cache_lookup(pulse, ans["head"], capacity)
        ok = want_status == CacheStatus.OK
        want_symbol = np.where(ok, codes[np.minimum(pulse, beats * lanes - 1).astype(int)], 0)
        assert np.array_equal(pulse, queries), f"run {run}: answers out of query order"
        assert np.array_equal(status, want_status), f"run {run}: status mismatches"
        assert np.array_equal(pack_array(Symbol, ans["symbol"]), want_symbol), (
            f"run {run}: symbol mismatches")
        for s in CacheStatus:
            assert (status == s).any(), f"run {run}: no {s.name} answer exercised"


# Directed edge cases: each case states its expected outputs; the body checks the golden model
# and the RTL against them (not only against each other).


def edge_word(u_intensity: int, u_basis: int, bit: int) -> int:
    """The QRNG word whose mapper fields are exactly these draws (layout of :mod:`models.qrng`)."""
    return u_intensity | u_basis << 8 | bit << 16


def mapper_case(thresholds: tuple[int, int, int], rows: list[tuple]) -> dict:
    """A directed mapper case (:func:`mapper_edges`, :func:`tx_threshold_edges`); ``rows``:
    (u_intensity, u_basis, bit, intensity, basis) per word, or (word, intensity, basis, bit) for
    a raw word."""
    words, want = [], []
    for row in rows:
        if len(row) == 5:
            u_i, u_b, bit, intensity, basis = row
            words.append(edge_word(u_i, u_b, bit))
        else:
            word, intensity, basis, bit = row
            words.append(word)
        want.append([int(intensity), int(basis), bit])
    return {"thresholds": thresholds, "words": words, "want": want}


def mapper_edge_model(case: dict, lanes: int
                      ) -> tuple[MapperConfig, np.ndarray, np.ndarray, Symbols]:
    """Check the golden model on one directed mapper case (:func:`mapper_edges`); returns the
    thresholds, the words and expected [intensity, basis, bit] as ``[beats, lanes]`` arrays and
    the model's symbols."""
    config = MapperConfig(*case["thresholds"])
    words = np.array(case["words"], dtype=np.uint32).reshape(-1, lanes)
    want = np.array(case["want"], dtype=np.uint8).reshape(-1, lanes, 3)
    model = map_symbols(words, config)
    got_model = np.stack([model.intensity, model.basis, model.bit], axis=-1)
    assert np.array_equal(got_model, want), (
        f"model at thresholds {case['thresholds']}: {got_model.tolist()} != {want.tolist()}")
    return config, words, want, model


async def mapper_edges(bench: Bench) -> None:
    """SymbolMapper on directed words: ``lanes``, ``cases`` (each ``thresholds``, ``words`` and
    ``want`` [intensity, basis, bit] per word; a multiple of ``lanes`` words), each after a
    reset with its thresholds written."""
    p = bench.params
    lanes = p["lanes"]
    for case in p["cases"]:
        config, words, want, model = mapper_edge_model(case, lanes)
        await bench.reset()
        bench.set("thresholds", pack(MapperConfigLayout, {
            "signal_below": config.signal_below, "decoy_below": config.decoy_below,
            "z_below": config.z_below}))
        got = await bench.transfer({"i": Send(qrng_beats(words), idle=p["idle"])},
                                   {"o": Receive(len(words), stall=p["stall"], settle=4)})
        sym = unpack_array(mapped_beat(lanes), got["o"])["symbol"]
        got_rtl = np.stack([sym["intensity"], sym["basis"], sym["bit"]], axis=-1)
        assert np.array_equal(got_rtl.astype(np.uint8), want), (
            f"RTL at thresholds {case['thresholds']}: {got_rtl.tolist()} != {want.tolist()}")
        bench.compare("mapper-edges", got["o"], mapped_beats(model), layout=mapped_beat(lanes))


def health_edge_words(case: dict, lanes: int, seed: int) -> np.ndarray:
    """``[beats, lanes]`` words of a directed health case: random QRNG words, except channel 0
    (lane 0, byte 0) and channel 1 (lane 0, byte 1), which follow ``1 + beat % 255`` (never 0,
    never repeating, each value at most 3 times in 512 beats) with the value 0 written at
    ``case["rct"]`` (channel 0, a run) and ``case["apt"]`` (channel 1, scattered hits)."""
    beats = case["beats"]
    words = qrng_words(seed, np.arange(beats * lanes)).reshape(beats, lanes)
    filler = (1 + np.arange(beats) % 255).astype(np.uint32)
    byte0 = filler.copy()
    byte1 = filler.copy()
    byte0[np.array(case.get("rct", []), dtype=np.int64)] = 0
    byte1[np.array(case.get("apt", []), dtype=np.int64)] = 0
    words[:, 0] = (words[:, 0] & np.uint32(0xFFFF_0000)) | byte0 | byte1 << np.uint32(8)
    return words


async def health_edges(bench: Bench) -> None:
    """QrngHealthIntake on directed cases: ``lanes``, ``cases`` (each ``beats``, the beats
    where channel 0 / 1 carry the value 0 (:func:`health_edge_words`) and ``want``:
    ``[fail_beat or None, rct, apt]``), each after a reset. The model's verdict must be ``want``;
    the RTL must forward exactly the beats before ``fail_beat`` and raise that alarm."""
    p = bench.params
    lanes = p["lanes"]
    config = HealthConfig(apt_window=p.get("apt_window", HealthConfig.apt_window))
    for case in p["cases"]:
        words = health_edge_words(case, lanes, p["seed"])
        fail_beat, rct, apt = case["want"]
        verdict = run_health_tests(words, config)
        assert (verdict.fail_beat, verdict.rct, verdict.apt) == (fail_beat, rct, apt), (
            f"{case['name']}: model {verdict}, want {case['want']}")
        passed = case["beats"] if fail_beat is None else fail_beat
        await bench.reset()
        got = await bench.transfer({"i": Send(qrng_beats(words), idle=p["idle"])},
                                   {"o": Receive(passed, stall=p["stall"], settle=8)},
                                   max_cycles=20 * case["beats"] + 200)
        await bench.ticks(4)
        bench.compare(f"health-{case['name']}", got["o"], qrng_beats(words[:passed]),
                      layout=qrng_beat(lanes))
        alarm = pack(HealthAlarm, {"rct": int(rct), "apt": int(apt)})
        assert bench.get("alarm") == alarm, (
            f"{case['name']}: alarm {bench.get('alarm'):#x}, want rct={rct} apt={apt}")


async def framer_edges(bench: Bench) -> None:
    """SyncFramer at its frame boundaries: ``runs``, each after a reset: ``frames`` whole frames
    plus ``extra`` words, with ``payload`` words 1, 2, ... offered as fast as taken (0: none),
    all of which must be sent.
    ``want``: ``{word index: [data, kind]}`` stated by the test; every word must also equal
    :func:`models.framing.check_downlink`'s expectation, and the ``frame`` register must read
    ``want_frame`` at the end."""
    p = bench.params
    for run in p["runs"]:
        count = run["frames"] * p["frame_words"] + run["extra"]
        payload = list(range(1, run["payload"] + 1))
        await bench.reset()
        got = await bench.transfer(
            {"payload": Send(payload, idle=p["idle"], background=True)} if payload else {},
            {"o": Receive(count, stall=p["stall"])})
        assert len(got["o"]) == count, f"{len(got['o'])} downlink words, want {count}"
        out = unpack_array(DownlinkWord, got["o"])
        mismatches, consumed = check_downlink(out["data"], out["kind"].astype(np.uint8),
                                              np.array(payload, dtype=np.uint64))
        assert mismatches == 0, f"{mismatches} words differ from the model"
        assert consumed == len(payload), f"{consumed} of {len(payload)} payload words sent"
        for index, (word, kind) in run["want"].items():
            k = int(index)
            assert (int(out["data"][k]), int(out["kind"][k])) == (word, kind), (
                f"word {k}: {int(out['data'][k]):#010x} kind {int(out['kind'][k])}, "
                f"want {word:#010x} kind {kind}")
        await bench.ticks(2)
        assert bench.get("frame") == run["want_frame"], f"frame register {bench.get('frame')}"


async def rnd_cache_edges(bench: Bench) -> None:
    """RndCache lookups around its window edges: ``lanes``, ``runs`` (each ``beats`` written
    first, then ``queries``, ``want`` status per query, after a reset). The head every answer
    carries must be ``beats * lanes``; OK answers carry the written symbol, the others 0; the
    model must give ``want`` too; ``expired_count`` / ``pending_count`` count the run."""
    p = bench.params
    lanes, rows = p["lanes"], p["rows"]
    for run in p["runs"]:
        beats = run["beats"]
        symbols = map_symbols(qrng_words(p["seed"], np.arange(beats * lanes)).reshape(beats, lanes))
        codes = pack_array(Symbol, {"intensity": symbols.intensity.ravel(),
                                    "basis": symbols.basis.ravel(), "bit": symbols.bit.ravel()})
        head = beats * lanes
        queries = np.array(run["queries"], dtype=np.uint64)
        want = np.array(run["want"], dtype=np.uint8)
        model = cache_lookup(queries, np.full(len(queries), head, dtype=np.uint64), lanes * rows)
        assert np.array_equal(model, want), f"model {model.tolist()} != {want.tolist()}"
        await bench.reset()
        await bench.transfer({"write": Send(cache_rows(symbols), idle=p["write_idle"])}, {})
        await bench.ticks(2)
        got = await bench.transfer(
            {"query": Send(pack_array(CacheQuery, {"pulse": queries}), idle=p["idle"])},
            {"answer": Receive(len(queries), stall=p["stall"], settle=6)})
        ans = unpack_array(CacheAnswer, got["answer"])
        assert np.array_equal(ans["pulse"], queries), f"answers {ans['pulse'].tolist()}"
        assert (ans["head"] == head).all(), f"heads {ans['head'].tolist()}, want {head}"
        assert np.array_equal(ans["status"], want), f"status {ans['status'].tolist()}"
        ok = want == CacheStatus.OK
        want_symbol = np.where(ok, codes[np.minimum(queries, head - 1).astype(np.int64)], 0)
        assert np.array_equal(pack_array(Symbol, ans["symbol"]), want_symbol), (
            f"symbols {pack_array(Symbol, ans['symbol']).tolist()}, want {want_symbol.tolist()}")
        await bench.ticks(2)
        counts = (bench.get("expired_count"), bench.get("pending_count"))
        assert counts == (int((want == CacheStatus.EXPIRED).sum()),
                          int((want == CacheStatus.PENDING).sum())), f"counters {counts}"


async def laser_tx(bench: Bench) -> None:
    """:class:`rtl.simonly.sourced_tx.SourcedTx` (the transmitter, its seeded QRNG source and
    symbol-path holds) against :mod:`models.transmitter`: ``lanes``, ``cache_rows``,
    ``qrng_idle`` and ``symbol_hold`` (per 1024, as built), ``fault`` (``{"code",
    "from_beat"}``), ``beats`` symbol beats taken (every one: the laser does not wait) while
    ``queries`` random RND cache lookups run. Checks every beat (pulse index, random or safe
    symbols, drive codes), the safe-pulse counters against the pulses sent, the alarm, and
    every answer (safe pulses answered with the safe symbol)."""
    p = bench.params
    lanes, seed = p["lanes"], p["seed"]
    fault = QrngFault(**p.get("fault", {}))
    bench.set("fault", fault.code)
    bench.set("fault_from", fault.from_beat)
    await bench.reset()
    queries = np.array([bench.rng.randrange(0, p["beats"] * lanes) for _ in range(p["queries"])],
                       dtype=np.uint64)
    got = await bench.transfer(
        {"query": Send(pack_array(CacheQuery, {"pulse": queries}), idle=p["idle"])},
        {"symbols": Receive(p["beats"]), "answer": Receive(len(queries), stall=p["stall"])})
    fired = bench.get("fired")
    safe = unpack(SafeCounts, bench.get("safe"))
    alarm = unpack(HealthAlarm, bench.get("alarm"))

    sent = len(got["symbols"])
    horizon = max(sent, fired // lanes) + 1
    schedule = laser_schedule(seed, lanes, qrng_offered(seed, p["qrng_idle"], horizon),
                              symbol_path_holds(seed, p["symbol_hold"], horizon), fault)
    pulses = np.arange(sent * lanes, dtype=np.uint64).reshape(sent, lanes)
    bench.compare("laser", got["symbols"],
                  symbol_beats(transmitted_symbols(seed, pulses, schedule, lanes)),
                  layout=symbol_beat(lanes))
    want_safe = schedule.safe_pulses(lanes, fired // lanes)
    assert {"underflow": safe["underflow"], "alarm": safe["alarm"]} == want_safe, (
        f"safe counters {safe} after {fired} pulses, model {want_safe}")
    assert (alarm["rct"], alarm["apt"]) == (int(schedule.rct), int(schedule.apt)), (
        f"alarm {alarm}, model alarm beat {schedule.alarm_beat}")
    if fault.code != FAULT_NONE:
        assert schedule.alarm_beat is not None and safe["alarm"] > 0, "the fault raised no alarm"

    ans = unpack_array(CacheAnswer, got["answer"])
    status = ans["status"]
    want_status = cache_lookup(ans["pulse"], ans["head"], lanes * p["cache_rows"])
    ok = want_status == CacheStatus.OK
    want_symbol = np.zeros(len(queries), dtype=np.uint8)
    want_symbol[ok] = transmitted_symbols(seed, ans["pulse"][ok], schedule, lanes).packed()
    assert np.array_equal(ans["pulse"], queries), "answers out of query order"
    assert np.array_equal(status, want_status), "cache status mismatches"
    assert np.array_equal(pack_array(Symbol, ans["symbol"]), want_symbol), "cache symbols differ"
    assert np.any(ok & (want_symbol == SAFE_SYMBOL)), "no safe pulse looked up in the cache"


async def tx_threshold_edges(bench: Bench) -> None:
    """SatelliteTx (intake, mapper, timebase, RND cache) on directed QRNG words, offered one
    beat per cycle: ``lanes``, ``cases`` as :func:`mapper_edges`'s, each after a reset with its
    thresholds written. The fired beats that are not safe (those before the first word are) must
    be the stated symbols with the model's drive codes, on consecutive pulses; a lookup of each
    of those pulses must answer OK with its symbol; no health alarm."""
    p = bench.params
    lanes = p["lanes"]
    for case in p["cases"]:
        config, words, want, model = mapper_edge_model(case, lanes)
        beats = len(words)
        await bench.reset()
        bench.set("thresholds", pack(MapperConfigLayout, {
            "signal_below": config.signal_below, "decoy_below": config.decoy_below,
            "z_below": config.z_below}))
        got = await bench.transfer({"qrng": Send(qrng_beats(words))},
                                   {"symbols": Receive(beats, settle=8)})
        fired = unpack_array(symbol_beat(lanes), got["symbols"])
        real = ~(fired["symbol"]["intensity"] == SAFE_SYMBOL).all(axis=1)
        first = int(fired["pulse"][real][0]) if real.any() else 0
        bench.compare("tx-edges", np.asarray(got["symbols"])[real].tolist(),
                      symbol_beats(model, first), layout=symbol_beat(lanes))
        queries = first + np.arange(beats * lanes, dtype=np.uint64)
        answers = await bench.transfer(
            {"query": Send(pack_array(CacheQuery, {"pulse": queries}))},
            {"answer": Receive(len(queries), settle=4)})
        ans = unpack_array(CacheAnswer, answers["answer"])
        assert (ans["status"] == CacheStatus.OK).all(), f"cache status {ans['status'].tolist()}"
        got_cache = np.stack([ans["symbol"][k] for k in ("intensity", "basis", "bit")], axis=-1)
        assert np.array_equal(got_cache.reshape(-1, lanes, 3).astype(np.uint8), want), (
            f"cache at thresholds {case['thresholds']}: {got_cache.tolist()}")
        assert bench.get("alarm") == 0, "health alarm"
