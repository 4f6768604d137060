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
from models.symbols import SAFE_SYMBOL, DriveLut, MapperConfig, map_symbols
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
