"""Test bodies of the ground blocks, each run in Amaranth's simulator and through cocotb
(:mod:`tb.dual`): stimulus (named streams of :mod:`tb.ground.streams`), golden model and checks.

Parameters (``bench.params``) are JSON values: ``seed``, ``idle`` and ``stall`` always, the
block's own ones as each body documents.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from models.constants import FABRIC_CLOCK_PS
from models.ground.calibration import phase_histogram
from models.ground.squash import Detection, squash
from models.ground.sync import FrameEvent as FrameEventModel
from models.ground.sync import SyncConfig, detect
from models.ground.sync_join import JoinConfig, JoinResult, run_join
from models.ground.tdc import ChannelConfig, run_channel
from models.ground.tdc_calibration import run_calibrator
from models.ground.tdc_merge import MASK64, Coarse, MergeInput, MergeResult, run_merge
from models.ground.time_tagger import run_time_tagger
from models.ground.timing import IndexerConfig, Record, Status, index_stream
from rtl.common.payload import pack
from rtl.ground.layouts import RawHit, Tag, TimingRecord
from rtl.ground.sync import FrameEvent
from rtl.sifting.layouts import DetectionRecord
from tb.dual import Bench, Receive, Send
from tb.ground import edges as edge_stimulus
from tb.ground import sync_join as join_tb
from tb.ground import tdc_merge as merge_tb
from tb.ground import time_tagger as tagger_tb
from tb.ground.streams import squash_case, sync_bits, tag_stream
from tb.ground.tdc import calibrator_case, line_case
from tb.packing import detection_payloads, frame_event_payloads, record_payloads, tag_payloads

SETTLE = 50  # cycles after the last expected beat in which no further beat may come


async def squasher(bench: Bench) -> None:
    """Squasher against :func:`models.ground.squash.squash`: indexer records of a high-rate
    stretch (stimulus ``seed``), hash seed ``squash_seed`` (the DUT's)."""
    p = bench.params
    records, want = squash_case(p["seed"], p["squash_seed"])
    await bench.reset()
    got = await bench.transfer(
        {"records": Send(record_payloads(records), idle=p["idle"])},
        {"detections": Receive(len(want), stall=p["stall"], settle=SETTLE)})
    bench.compare("detections", got["detections"], detection_payloads(want),
                  layout=DetectionRecord)


async def indexer(bench: Bench) -> None:
    """PulseIndexer against :func:`models.ground.timing.index_stream`: tag stream ``tags``
    (specs of :func:`tb.ground.streams.tag_stream`), registers ``delta`` and ``gate_half``,
    the DUT built with pending ``depth``; every record and the slip counter."""
    p = bench.params
    cfg = IndexerConfig(delta=p["delta"], depth=p["depth"], gate_half=p.get("gate_half", 400))
    tags = tag_stream(p["tags"])
    result = index_stream(*tags, cfg)
    await bench.reset()
    bench.set("delta", cfg.delta)
    bench.set("gate_half", cfg.gate_half)
    got = await bench.transfer(
        {"tags": Send(tag_payloads(*tags), idle=p["idle"])},
        {"records": Receive(len(result.records), stall=p["stall"], settle=SETTLE)})
    bench.compare("records", got["records"], record_payloads(result.records),
                  layout=TimingRecord)
    assert bench.get("slips") == result.slips, f"slips {bench.get('slips')}, {result.slips}"


async def sync(bench: Bench) -> None:
    """SyncDetector against :func:`models.ground.sync.detect`: bits of
    :func:`tb.ground.streams.sync_bits` (``bits``: its arguments), ``frame_bits``,
    ``max_misses``; every frame event, the loss counter, nothing dropped."""
    p = bench.params
    cfg = SyncConfig(frame_bits=p["frame_bits"], max_misses=p["max_misses"])
    bits = sync_bits(**p["bits"])
    want = detect(bits, cfg)
    await bench.reset()
    got = await bench.transfer(
        {"bits": Send(bits.tolist(), idle=p["idle"])},
        {"frames": Receive(len(want.events), stall=p["stall"], settle=SETTLE)})
    bench.compare("frames", got["frames"], frame_event_payloads(want.events), layout=FrameEvent)
    await bench.ticks(2)
    assert (bench.get("losses"), bench.get("dropped")) == (want.losses, 0), (
        f"losses {bench.get('losses')} (model {want.losses}), dropped {bench.get('dropped')}")


async def _channel_run(bench: Bench, cfg: ChannelConfig, hits: list[int], cycles: int,
                       counters: Sequence[str]) -> dict[str, int]:
    """Reset the TDC channel, set its registers, take every raw hit for ``cycles`` cycles (the
    sink never stalls: a TDC cannot wait), compare them with ``hits``; returns ``counters``."""
    await bench.reset()
    bench.set("dead_cycles", cfg.dead_cycles)
    bench.set("stuck_cycles", cfg.stuck_cycles)
    bench.set("clear", 0)
    got = await bench.transfer({}, {"hits": Receive(len(hits), settle=cycles)})
    bench.compare("hits", got["hits"], hits, layout=RawHit)
    return {name: bench.get(name) for name in counters}


async def tdc_channel(bench: Bench) -> None:
    """TdcChannel on the replayed delay line (:func:`tb.ground.tdc.line_dut`) against
    :func:`models.ground.tdc.run_channel`: every raw hit in order, then every counter and flag
    (parameters of :func:`tb.ground.tdc.line_case`). The sink never stalls: a TDC cannot wait."""
    p = bench.params
    line, rises, widths, cfg = line_case(p)
    want = run_channel(line.codes(rises, widths, p["cycles"]), cfg)
    hits = [pack(RawHit, {"coarse": int(c), "fine": int(f), "channel": cfg.channel,
                          "calibration": int(k)})
            for c, f, k in zip(want.coarse.tolist(), want.fine.tolist(),
                               want.calibration.tolist(), strict=True)]
    counters = await _channel_run(bench, cfg, hits, p["cycles"], (
        "lost_dead", "lost_pileup", "lost_overflow", "coverage_errors", "stuck_events",
        "lost_calibration"))
    assert counters == {"lost_dead": want.lost_dead, "lost_pileup": want.lost_pileup,
                        "lost_overflow": 0, "coverage_errors": want.coverage_errors,
                        "stuck_events": want.stuck_events,
                        "lost_calibration": want.lost_calibration}, counters


async def _phased(bench: Bench, now: Coarse, sends: dict[str, list[tuple[int, int]]],
                  out: str, out_cycles: Sequence[int]) -> list[int]:
    """Run a stimulus whose ``now_ps`` is constant per phase (the phases of ``now``): per
    phase, set ``now_ps``, send each port's beats of the phase (``(model cycle, payload)``)
    with idle, and receive the outputs the model gives in that phase, with backpressure."""
    p = bench.params
    got: list[int] = []
    starts = [max(c, 0) for c in now.cycles]
    for k, start in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else 1 << 62
        bench.set("now_ps", now.values[k] & MASK64)
        items = {name: Send([b for c, b in beats if start <= c < end], idle=p["idle"])
                 for name, beats in sends.items()}
        count = sum(start <= c < end for c in out_cycles)
        r = await bench.transfer(items, {out: Receive(count, stall=p["stall"], settle=SETTLE)})
        got += r[out]
    return got


async def tdc_merge(bench: Bench) -> None:
    """TimeOrderedMerge against :func:`models.ground.tdc_merge.run_merge` on the phased stimulus
    of :func:`tb.ground.tdc_merge.phased_merge_case` (``seed``, ``lags``, ``phases``), the DUT
    built with FIFO ``depth``: every tag in order, the late and overflow counters."""
    p = bench.params
    lags = p["lags"]
    inputs, now = merge_tb.phased_merge_case(p["seed"], lags, p["phases"])
    want = run_merge(inputs, now, lags, p["depth"])
    words = await _merge_run(bench, lags, inputs, now, want)
    assert words == {"late": want.late, "overflow": want.overflow}, (words, want.late)


async def _merge_run(bench: Bench, lags: Sequence[int], inputs: Sequence[MergeInput],
                     now: Coarse, want: MergeResult) -> dict[str, list[int]]:
    """Reset the merge, set ``max_lag_ps``, run the phased ``inputs``, compare every output tag
    with ``want``'s (its cycles split the outputs into phases); returns the per-input
    ``late`` and ``overflow`` counters."""
    sends = {f"i{i}": [(int(c), pack(Tag, {"time": int(t), "channel": int(ch), "frame": int(f)}))
                       for c, t, ch, f in zip(inp.cycle.tolist(), inp.time.tolist(),
                                              inp.channel.tolist(), inp.frame.tolist(),
                                              strict=True)]
             for i, inp in enumerate(inputs)}
    await bench.reset()
    bench.set("max_lag_ps", sum(lag << (32 * i) for i, lag in enumerate(lags)))
    got = await _phased(bench, now, sends, "o", want.cycle.tolist())
    bench.compare("o", got, [pack(Tag, {"time": int(t), "channel": int(c), "frame": int(f)})
                             for t, c, f in zip(want.time.tolist(), want.channel.tolist(),
                                                want.frame.tolist(), strict=True)], layout=Tag)
    return {name: [(bench.get(name) >> (32 * i)) & 0xFFFF_FFFF for i in range(len(lags))]
            for name in ("late", "overflow")}


async def _join_run(bench: Bench, cfg: JoinConfig, s: join_tb.JoinStimulus, now: Coarse,
                    want: JoinResult) -> dict[str, int]:
    """Reset the join, set its registers, run the phased stimulus ``s``, compare every joined
    tag with ``want``'s (its cycles split the outputs into phases); returns the counters."""
    sends = {"events": list(zip(s.event_cycles, join_tb.event_payloads(s), strict=True)),
             "strobes": list(zip(s.strobe_cycles, join_tb.strobe_payloads(s), strict=True))}
    await bench.reset()
    for name, value in join_tb.registers(cfg).items():
        bench.set(name, value)
    got = await _phased(bench, now, sends, "o", want.cycle.tolist())
    bench.compare("o", got, [pack(Tag, {"time": int(t), "channel": 4, "frame": int(f)})
                             for t, f in zip(want.time.tolist(), want.frame.tolist(),
                                             strict=True)], layout=Tag)
    await bench.ticks(2)
    return {n: bench.get(n) for n in ("missing", "ambiguous", "extra", "overflow")}


async def sync_join(bench: Bench) -> None:
    """SyncJoin against :func:`models.ground.sync_join.run_join` on the phased stimulus of
    :func:`tb.ground.sync_join.phased_join_case` (``seed``, ``phases``; registers ``offset_ps``,
    ``tolerance_ps``, ``strobe_lag_ps``): every joined tag in order and every counter."""
    p = bench.params
    cfg = JoinConfig(offset_ps=p["offset_ps"], tolerance_ps=p["tolerance_ps"],
                     strobe_lag_ps=p["strobe_lag_ps"])
    s, now = join_tb.phased_join_case(p["seed"], p["phases"], cfg)
    want = run_join(s.frames, s.event_cycles, s.strobe_times, s.strobe_cycles, now, cfg)
    counters = await _join_run(bench, cfg, s, now, want)
    assert counters == {"missing": want.missing, "ambiguous": want.ambiguous,
                        "extra": want.extra, "overflow": want.overflow}, counters


async def time_tagger(bench: Bench) -> None:
    """TimeTagger on replayed lines and events (:func:`tb.ground.time_tagger.tagger_dut`)
    against :func:`models.ground.time_tagger.run_time_tagger` from the same codes: every tag in
    order, then every counter of every block (parameters of
    :func:`tb.ground.time_tagger.tagger_case`)."""
    p = bench.params
    case = tagger_tb.tagger_case(p)
    want = tagger_tb.run_model(case)
    tags = want.tags
    await bench.reset()
    for name, value in tagger_tb.registers(case.cfg).items():
        bench.set(name, value)
    got = await bench.transfer({}, {"tags": Receive(len(tags.time), stall=p["stall"],
                                                    settle=SETTLE)})
    bench.compare("tags", got["tags"], tag_payloads(tags.time, tags.channel, tags.frame),
                  layout=Tag)
    await bench.ticks(case.cycles + tagger_tb.SETTLE_CYCLES)
    got_counters = {name: bench.get(name) for name in tagger_tb.COUNTERS}
    assert got_counters == tagger_tb.model_counters(want), got_counters


def stated(name: str, model: Any, want: Any) -> None:
    """Assert that the golden model gives the value a directed edge case states (the RTL is
    then compared with the stated value too, so model and RTL cannot agree on a wrong one)."""
    assert model == want, f"{name}: model gives {model}, the case states {want}"


def tag_columns(rows: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(time, channel, frame)`` arrays of tag rows ``[time, channel, frame]``."""
    time, channel, frame = zip(*rows, strict=True)
    return (np.array(time, dtype=np.uint64), np.array(channel),
            np.array(frame, dtype=np.uint64))


async def indexer_edges(bench: Bench) -> None:
    """PulseIndexer at its edges, one run per entry of ``runs`` (``name``, registers ``delta``
    and ``gate_half``, tag ``rows`` of ``[time, channel, frame]``, the stated records ``want``
    as ``[n, channel, r16, status]`` and the stated slip count ``slips``), the DUT built with
    pending ``depth``: :func:`models.ground.timing.index_stream` and the RTL must both give the
    stated records and count; reset between runs."""
    p = bench.params
    for run in p["runs"]:
        cfg = IndexerConfig(delta=run["delta"], depth=p["depth"], gate_half=run["gate_half"])
        model = index_stream(*tag_columns(run["rows"]), cfg)
        want = [Record(n, ch, r16, Status(s)) for n, ch, r16, s in run["want"]]
        stated(run["name"], (model.records, model.slips), (want, run["slips"]))
        await bench.reset()
        bench.set("delta", cfg.delta)
        bench.set("gate_half", cfg.gate_half)
        got = await bench.transfer(
            {"tags": Send(tag_payloads(*tag_columns(run["rows"])), idle=p["idle"])},
            {"records": Receive(len(want), stall=p["stall"], settle=SETTLE)})
        bench.compare(run["name"], got["records"], record_payloads(want), layout=TimingRecord)
        assert bench.get("slips") == run["slips"], (run["name"], bench.get("slips"))


async def sync_edges(bench: Bench) -> None:
    """SyncDetector at its edges: the frames ``frames`` of :func:`tb.ground.edges.sync_edge_bits`
    (``lead``, ``bits_seed``; detector built with ``frame_bits``, ``max_misses``,
    ``lock_hits``); the model
    and the RTL must both give the stated events ``want`` (``[counter, frame index, flywheel]``,
    the frame index counting from the first frame) and ``losses``."""
    p = bench.params
    cfg = SyncConfig(frame_bits=p["frame_bits"], max_misses=p["max_misses"],
                     lock_hits=p["lock_hits"])
    bits = edge_stimulus.sync_edge_bits(p["frames"], cfg.frame_bits, p["lead"], p["bits_seed"])
    model = detect(bits, cfg)
    want = [FrameEventModel(k, p["lead"] + i * cfg.frame_bits, bool(f)) for k, i, f in p["want"]]
    stated("sync events, losses", (model.events, model.losses), (want, p["losses"]))
    await bench.reset()
    got = await bench.transfer(
        {"bits": Send(bits.tolist(), idle=p["idle"])},
        {"frames": Receive(len(want), stall=p["stall"], settle=SETTLE)})
    bench.compare("frames", got["frames"], frame_event_payloads(want), layout=FrameEvent)
    await bench.ticks(2)
    assert (bench.get("losses"), bench.get("dropped")) == (p["losses"], 0), (
        f"losses {bench.get('losses')} (stated {p['losses']}), dropped {bench.get('dropped')}")


async def tdc_channel_edges(bench: Bench) -> None:
    """TdcChannel at its edges on the codes of :func:`tb.ground.edges.tdc_edge_line`
    (parameters of :func:`tb.ground.edges.tdc_edge_dut`; registers ``dead_cycles``,
    ``stuck_cycles``): :func:`models.ground.tdc.run_channel` and the RTL must both give the
    stated hits ``want`` (``[cycle, fine, calibration]``; coarse ``epoch + cycle *
    FABRIC_CLOCK_PS`` modulo 2**64) and counters ``counters``. Coarse times come from the sample,
    so the stated values hold for any pipeline depth."""
    p = bench.params
    cfg = ChannelConfig(channel=p["channel"], dead_cycles=p["dead_cycles"],
                        stuck_cycles=p["stuck_cycles"], epoch=p["epoch"],
                        cal_period=p["cal_period"])
    line = edge_stimulus.tdc_edge_line(p["events"], p["taps"])
    model = run_channel(line.codes, cfg, line.rows, p["cycles"])
    want = [pack(RawHit, {"coarse": (cfg.epoch + c * FABRIC_CLOCK_PS) & MASK64, "fine": f,
                          "channel": cfg.channel, "calibration": k}) for c, f, k in p["want"]]
    model_hits = [[c, f, int(k)] for c, f, k in zip(model.cycle.tolist(), model.fine.tolist(),
                                                   model.calibration.tolist(), strict=True)]
    model_counters = {n: getattr(model, n) for n in p["counters"]}
    stated("tdc hits, counters", (model_hits, model_counters), (p["want"], p["counters"]))
    counters = await _channel_run(bench, cfg, want, p["cycles"], p["counters"])
    assert counters == p["counters"], counters


def join_edge_case(phases: Sequence[dict]) -> tuple[join_tb.JoinStimulus, Coarse]:
    """Stimulus of directed join phases (``now``: the coarse time of the phase, ``events``:
    frame counters, ``strobes``: strobe times), :data:`tb.ground.sync_join.PHASE_CYCLES`
    cycles each, in the form of :func:`tb.ground.sync_join.phased_join_case`; a last phase
    moves ``now`` past every deadline."""
    s = join_tb.JoinStimulus([], [], [], [], [])
    for k, phase in enumerate(phases):
        base = k * join_tb.PHASE_CYCLES
        for j, frame in enumerate(phase["events"]):
            s.frames.append(frame)
            s.flywheel.append(0)
            s.event_cycles.append(base + 3 + 4 * j)
        for j, t in enumerate(phase["strobes"]):
            s.strobe_times.append(t & MASK64)
            s.strobe_cycles.append(base + 2 + 4 * j)
    starts = [-1] + [k * join_tb.PHASE_CYCLES for k in range(1, len(phases) + 1)]
    last = max(max([p["now"], *p["strobes"]]) for p in phases) + (1 << 40)
    return s, Coarse.steps_at(starts, [p["now"] for p in phases] + [last])


async def sync_join_edges(bench: Bench) -> None:
    """SyncJoin at its edges on the phases of :func:`join_edge_case` (``phases``; registers
    ``offset_ps``, ``tolerance_ps``, ``strobe_lag_ps``): :func:`models.ground.sync_join.run_join`
    and the RTL must both give the stated joined tags ``want`` (``[time, frame]``) and
    ``counters``. Inside a phase the outcome does not depend on arrival cycles, so the stated
    values hold for any pipeline depth."""
    p = bench.params
    cfg = JoinConfig(offset_ps=p["offset_ps"], tolerance_ps=p["tolerance_ps"],
                     strobe_lag_ps=p["strobe_lag_ps"])
    s, now = join_edge_case(p["phases"])
    model = run_join(s.frames, s.event_cycles, s.strobe_times, s.strobe_cycles, now, cfg)
    model_counters = {"missing": model.missing, "ambiguous": model.ambiguous,
                      "extra": model.extra, "overflow": model.overflow}
    stated("joined tags, counters",
           ([[t, f] for t, f in zip(model.time.tolist(), model.frame.tolist(), strict=True)],
            model_counters), (p["want"], p["counters"]))
    counters = await _join_run(bench, cfg, s, now, model)
    assert counters == p["counters"], counters


def merge_edge_case(phases: Sequence[dict]) -> tuple[list[MergeInput], Coarse]:
    """Inputs of directed merge phases (``now``: the coarse time of the phase, ``tags``: the
    times per input; both unwrapped), :data:`tb.ground.tdc_merge.PHASE_CYCLES` cycles each,
    tags two cycles apart from the phase start as in
    :func:`tb.ground.tdc_merge.phased_merge_case` (input ``i`` tags carry channel ``i``, frame
    ``7 i``); a last phase moves ``now`` past every bound."""
    width = len(phases[0]["tags"])
    times: list[list[int]] = [[] for _ in range(width)]
    cycles: list[list[int]] = [[] for _ in range(width)]
    for k, phase in enumerate(phases):
        for i, ts in enumerate(phase["tags"]):
            times[i] += ts
            cycles[i] += [k * merge_tb.PHASE_CYCLES + 2 + 2 * j for j in range(len(ts))]
    starts = [-1] + [k * merge_tb.PHASE_CYCLES for k in range(1, len(phases) + 1)]
    now = Coarse.steps_at(starts, [p["now"] for p in phases] + [phases[-1]["now"] + (1 << 40)])
    return [MergeInput(np.array([t & MASK64 for t in times[i]], dtype=np.uint64),
                       np.array(cycles[i], dtype=np.int64), channel=i, frame=7 * i)
            for i in range(width)], now


async def tdc_merge_edges(bench: Bench) -> None:
    """TimeOrderedMerge at its edges on the phases of :func:`merge_edge_case` (``phases``,
    registers ``lags``, the DUT built with FIFO ``depth``): :func:`models.ground.tdc_merge.
    run_merge` and the RTL must both give the stated tags ``want`` (``[time, input, phase]``:
    the phase in which each leaves) and counters ``late``, ``overflow``. Inside a phase ``now``
    is constant, so nothing stated depends on the merge's latency (below a phase)."""
    p = bench.params
    inputs, now = merge_edge_case(p["phases"])
    model = run_merge(inputs, now, p["lags"], p["depth"])
    leaves = [[t, i, c // merge_tb.PHASE_CYCLES] for t, i, c in
              zip(model.time.tolist(), model.input.tolist(), model.cycle.tolist(), strict=True)]
    stated("merged tags, late, overflow", (leaves, model.late, model.overflow),
           (p["want"], p["late"], p["overflow"]))
    words = await _merge_run(bench, p["lags"], inputs, now, model)
    assert words == {"late": p["late"], "overflow": p["overflow"]}, words


async def calibrator_fill_edges(bench: Bench) -> None:
    """TdcCalibrator of :func:`tb.ground.tdc.calibrator_dut` at its histogram-full threshold:
    ``cal_hits - 1`` calibration hits build no table, the next builds one, and one more sent
    right behind it (back to back, ``idle`` 0) is dropped while the build walks the histogram.
    The model (:func:`models.ground.tdc_calibration.run_calibrator` on the same schedule) and
    the RTL must both give the stated counters; the waits are the model's clearing walk
    (``taps`` cycles) plus margin, so a deeper build pipeline stays within them."""
    p = bench.params
    cfg = calibrator_case(p)[0]
    n, walk = cfg.cal_hits, cfg.taps + 4
    hit = pack(RawHit, {"coarse": 0, "fine": 1, "channel": cfg.channel, "calibration": 1})
    first = walk + np.arange(n - 1)
    late = int(first[-1]) + 4 * walk
    accepted = np.concatenate([first, [late, late + 1]])
    for count, want in ((n - 1, (0, 0)), (n + 1, (1, 1))):
        model = run_calibrator(np.zeros(count, dtype=np.uint64), np.ones(count, dtype=np.int64),
                               np.ones(count, dtype=bool), accepted[:count], np.zeros(0),
                               int(accepted[count - 1]) + 4 * walk, cfg)
        stated(f"{count} calibration hits: built, dropped",
               (model.tables_built, model.cal_dropped), want)
    await bench.reset()
    bench.set("skew", cfg.skew)
    bench.set("frame_strobe", 0)
    bench.set("clear", 0)
    await bench.ticks(walk)
    for count, want in ((n - 1, (0, 0)), (2, (1, 1))):
        await bench.transfer({"hits": Send([hit] * count)}, {})
        await bench.ticks(4 * walk)
        got = (bench.get("tables_built"), bench.get("cal_dropped"))
        assert got == want, (count, got, want)


async def histogram_edges(bench: Bench) -> None:
    """PhaseHistogram at its edges: records ``[r16, status]`` (the bin and fold edges), then
    every bin read back; :func:`models.ground.calibration.phase_histogram` of the ACCEPTED
    residuals and the RTL must both give the stated ``bins``."""
    p = bench.params
    r16 = [r for r, s in p["records"] if s == Status.ACCEPTED]
    stated("phase histogram", phase_histogram(np.array(r16, dtype=np.int64)).tolist(),
           p["bins"])
    records = [Record(0, 0, r, Status(s)) for r, s in p["records"]]
    await bench.reset()
    bench.set("clear", 0)
    await bench.transfer({"records": Send(record_payloads(records), idle=p["idle"])}, {})
    await bench.ticks(8)
    bins = []
    for a in range(len(p["bins"])):
        bench.set("addr", a)
        await bench.ticks(2)
        bins.append(bench.get("data"))
    assert bins == p["bins"], [(a, g, w) for a, (g, w) in enumerate(zip(bins, p["bins"],
                                                                         strict=True)) if g != w]


async def squasher_edges(bench: Bench) -> None:
    """Squasher at its edges: records ``[n, channel, status]`` then a sentinel record that
    pushes the last pulse out; :func:`models.ground.squash.squash` and the RTL (hash seed
    ``squash_seed``) must both give the stated detections ``want`` (``[n, basis, bit]``)."""
    p = bench.params
    records = [Record(n, ch, 0, Status(s)) for n, ch, s in p["records"]]
    want = [Detection(n, basis, bit, 0) for n, basis, bit in p["want"]]
    model = [Detection(d.n, d.basis, d.bit, 0) for d in squash(records, p["squash_seed"])]
    stated("squashed detections", model, want)
    sentinel = Record((1 << 64) - 1, 0, 0, Status.ACCEPTED)
    await bench.reset()
    got = await bench.transfer(
        {"records": Send(record_payloads([*records, sentinel]), idle=p["idle"])},
        {"detections": Receive(len(want), stall=p["stall"], settle=SETTLE)})
    bench.compare("detections", got["detections"], detection_payloads(want),
                  layout=DetectionRecord)


async def time_tagger_edges(bench: Bench) -> None:
    """TimeTagger at its limits on the codes of :func:`tb.ground.edges.tagger_edge_dut`
    (parameters there): :func:`models.ground.time_tagger.run_time_tagger` and the RTL must both
    give the stated tags ``want`` (``[time, channel]``) and per-input ``merge_late``."""
    p = bench.params
    cfg = edge_stimulus.tagger_edge_config(p)
    cycles = p["cycles"] + tagger_tb.SETTLE_CYCLES
    lines = [edge_stimulus.tdc_edge_line(ev, cfg.taps) for ev in p["events"]]
    model = run_time_tagger([(line.rows, line.codes) for line in lines], [], [], cycles, cfg)
    stated("tags, merge_late",
           ([[t, c] for t, c in zip(model.tags.time.tolist(), model.tags.channel.tolist(),
                                    strict=True)], model.tags.late), (p["want"], p["late"]))
    await bench.reset()
    for name, value in tagger_tb.registers(cfg).items():
        bench.set(name, value)
    got = await bench.transfer({}, {"tags": Receive(len(p["want"]), settle=SETTLE)})
    bench.compare("tags", got["tags"], [pack(Tag, {"time": t, "channel": c, "frame": 0})
                                        for t, c in p["want"]], layout=Tag)
    await bench.ticks(cycles)
    late = [(bench.get("merge_late") >> (32 * i)) & 0xFFFF_FFFF for i in range(len(p["late"]))]
    assert late == p["late"], late
