"""Test harness of one TDC channel fed by the behavioural delay line.

:func:`mixed_hits` is the seeded stimulus with every hard case; :func:`line_case` builds the
line and hits of a JSON parameter set (the dual body :func:`tb.ground.bodies.tdc_channel` and
its DUT :func:`line_dut` use it); :func:`simulate_channel` runs
:class:`rtl.simonly.delay_line.DelayLineReplay` into :class:`rtl.ground.tdc.TdcChannel` for the
cycles the replay needs plus the pipeline, collects every hit the channel hands over, in order,
and reads the counters and flags at the end; the result has the fields of
:class:`models.ground.tdc.ChannelResult` for a field-by-field comparison with
:func:`models.ground.tdc.run_channel` on the replay's codes.
"""

from dataclasses import dataclass

import numpy as np
from amaranth.hdl import Module
from amaranth.sim import Simulator

from models.constants import FABRIC_CLOCK_PS, TDC_DEAD_CYCLES
from models.ground.strobe_guard import GuardConfig
from models.ground.tdc import (
    CHANNEL_LATENCY,
    ChannelConfig,
    ChannelResult,
    DelayLine,
    default_pulses,
    run_channel,
)
from models.ground.tdc_calibration import CalibratorConfig, run_calibrator
from rtl.common.payload import pack, unpack
from rtl.ground.layouts import RawHit, Tag
from rtl.ground.tdc import TdcChannel
from rtl.ground.tdc_calibration import TdcCalibrator
from rtl.simonly.delay_line import DelayLineReplay, TdcOnLine
from tb.dual import Bench, Receive, Send

PIPELINE_CYCLES = CHANNEL_LATENCY + 2
COUNTERS = ("lost_dead", "lost_pileup", "lost_overflow", "coverage_errors", "stuck_events",
            "lost_calibration")
FLAGS = ("coverage_error", "stuck")


def mixed_hits(seed: int, cycles: int) -> np.ndarray:
    """Random hits, hits within 12 ps of clock edges, pairs in one pulse (the second rises
    while the first is high) and pairs in the dead time (the second after the first fell)."""
    rng = np.random.default_rng(seed)
    span = (cycles - 10) * FABRIC_CLOCK_PS
    free = rng.uniform(1000, span, 40)
    edges = rng.integers(2, cycles - 10, 20) * FABRIC_CLOCK_PS + rng.uniform(-12, 12, 20)
    first = rng.uniform(1000, span, 8)
    same = first + rng.uniform(100, 3000, 8)
    dead = first + 12_000 + rng.uniform(0, TDC_DEAD_CYCLES * FABRIC_CLOCK_PS - 13_000, 8)
    return np.sort(np.concatenate([free, edges, first, same, dead]))


def line_case(p: dict) -> tuple[DelayLine, np.ndarray, np.ndarray, ChannelConfig]:
    """Line (``taps``, ``stride``), :func:`mixed_hits` (``hits_seed``, ``cycles``) with detector
    pulses, and channel configuration (``channel``) of a parameter set."""
    line = DelayLine(taps=p["taps"], stride=p["stride"])
    rises = mixed_hits(p["hits_seed"], p["cycles"])
    return line, rises, default_pulses(rises), ChannelConfig(channel=p["channel"])


def line_dut(p: dict) -> TdcOnLine:
    """The channel on the replayed line of :func:`line_case`."""
    line, rises, widths, cfg = line_case(p)
    return TdcOnLine(DelayLineReplay(line, rises, widths, p["cycles"]),
                     TdcChannel(cfg.channel, taps=line.taps, epoch=cfg.epoch,
                                cal_period=cfg.cal_period))


@dataclass
class ChannelRun:
    """What the RTL channel produced: raw hits in order, counters, flags, and the replayed
    codes run-length coded (``rows``, ``codes``, ``cycles``: :func:`run_channel`'s form)."""

    hits: list[dict]
    counters: dict[str, int]
    flags: dict[str, int]
    rows: np.ndarray
    codes: np.ndarray
    cycles: int
    skip: np.ndarray | None = None
    """With a strobe guard: its ``cal_skip`` in every cycle."""

    def model(self, cfg: ChannelConfig, skipped: np.ndarray | None = None) -> ChannelResult:
        """The channel model on the replayed codes (``skipped``: the strobe guard's slots)."""
        return run_channel(self.codes, cfg, self.rows, self.cycles, skipped)


def simulate_channel(line: DelayLine, rises: np.ndarray, widths: np.ndarray, cycles: int,
                     cfg: ChannelConfig | None = None, ready: bool = True,
                     clear_at: int | None = None, guard: GuardConfig | None = None
                     ) -> ChannelRun:
    """Run ``cycles`` cycles of the line's codes through a channel (``ready``: the sink's
    ``hits.ready``, constant; ``clear_at``: a cycle at which ``clear`` pulses; ``guard``: the
    channel's strobe guard, whose ``cal_skip`` is recorded in every cycle)."""
    cfg = cfg or ChannelConfig()
    replay = DelayLineReplay(line, rises, widths, cycles)
    channel = TdcChannel(cfg.channel, taps=line.taps, epoch=cfg.epoch, cal_period=cfg.cal_period,
                         guard=guard)
    m = Module()
    m.submodules.replay = replay
    m.submodules.channel = channel
    m.d.comb += channel.taps.eq(replay.taps)
    hits: list[dict] = []
    counters: dict[str, int] = {}
    flags: dict[str, int] = {}
    skip = np.zeros(cycles + PIPELINE_CYCLES, dtype=bool) if guard is not None else None

    async def bench(ctx) -> None:
        ctx.set(channel.dead_cycles, cfg.dead_cycles)
        ctx.set(channel.stuck_cycles, cfg.stuck_cycles)
        ctx.set(channel.hits.ready, int(ready))
        for c in range(cycles + PIPELINE_CYCLES):
            ctx.set(channel.clear, int(c == clear_at))
            if ctx.get(channel.hits.valid) and ready:
                hits.append(unpack(RawHit, ctx.get(channel.hits.payload.as_value())))
            if skip is not None:
                skip[c] = ctx.get(channel.cal_skip)
            await ctx.tick()
        for name in COUNTERS:
            counters[name] = ctx.get(getattr(channel, name))
        for name in FLAGS:
            flags[name] = ctx.get(getattr(channel, name))

    sim = Simulator(m)
    sim.add_clock(1e-12 * 6400)
    sim.add_testbench(bench)
    sim.run()
    return ChannelRun(hits, counters, flags, replay.rows, replay.codes, cycles, skip)


@dataclass
class CalibratorRun:
    """What the RTL calibrator produced: tags in order, the cycle each input hit was accepted,
    the counters and flags after the run."""

    tags: list[dict]
    accepted: np.ndarray
    counters: dict[str, int]
    flags: dict[str, int]


CAL_COUNTERS = ("tables_built", "tables_switched", "starve_events", "uncalibrated",
                "cal_dropped")
CAL_FLAGS = ("calibrated", "starved")


def simulate_calibrator(dut: TdcCalibrator, hits: list[dict], strobes: np.ndarray, cycles: int,
                        skew: int = 0, idle: float = 0.0, stall: float = 0.0, seed: int = 0,
                        at: np.ndarray | None = None,
                        clear_at: int | None = None) -> CalibratorRun:
    """Offer ``hits`` (RawHit dicts, in order; hit ``i`` not before cycle ``at[i]``) to ``dut``
    for ``cycles`` cycles with seeded idle gaps and ``tags`` backpressure, ``frame_strobe``
    high at the cycles ``strobes``, ``clear`` at cycle ``clear_at``; records the
    acceptance cycle of every hit (``cycles`` if never accepted) and every tag (draining the
    pipeline after the last cycle), reads the counters at cycle ``cycles``."""
    rng = np.random.default_rng(seed)
    offer = rng.random(cycles) >= idle
    take = rng.random(cycles) >= stall
    strobe = np.zeros(cycles, dtype=bool)
    strobe[np.asarray(strobes, dtype=np.int64)[np.asarray(strobes) < cycles]] = True
    accepted = np.full(len(hits), cycles, dtype=np.int64)
    earliest = np.zeros(len(hits), dtype=np.int64) if at is None else np.asarray(at)
    tags: list[dict] = []
    counters: dict[str, int] = {}
    flags: dict[str, int] = {}

    async def bench(ctx) -> None:
        ctx.set(dut.skew, skew)
        i = 0
        for c in range(cycles):
            valid = i < len(hits) and bool(offer[c]) and earliest[i] <= c
            ctx.set(dut.hits.valid, int(valid))
            if i < len(hits):
                ctx.set(dut.hits.payload.as_value(), pack(RawHit, hits[i]))
            ctx.set(dut.tags.ready, int(take[c]))
            ctx.set(dut.frame_strobe, int(strobe[c]))
            ctx.set(dut.clear, int(c == clear_at))
            if ctx.get(dut.tags.valid) and take[c]:
                tags.append(unpack(Tag, ctx.get(dut.tags.payload.as_value())))
            if valid and ctx.get(dut.hits.ready):
                accepted[i] = c
                i += 1
            await ctx.tick()
        for name in CAL_COUNTERS:
            counters[name] = ctx.get(getattr(dut, name))
        for name in CAL_FLAGS:
            flags[name] = ctx.get(getattr(dut, name))
        # drain the pipeline: the tags of hits accepted before ``cycles``
        ctx.set(dut.hits.valid, 0)
        ctx.set(dut.frame_strobe, 0)
        ctx.set(dut.tags.ready, 1)
        for _ in range(PIPELINE_CYCLES):
            if ctx.get(dut.tags.valid):
                tags.append(unpack(Tag, ctx.get(dut.tags.payload.as_value())))
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-12 * FABRIC_CLOCK_PS)
    sim.add_testbench(bench)
    sim.run()
    return CalibratorRun(tags, accepted, counters, flags)


def calibrator_case(p: dict) -> tuple[CalibratorConfig, list[dict], list[dict]]:
    """Configuration and the two hit batches of the dual calibrator body (parameters
    ``taps``, ``cal_hits``, ``hits_seed``, ``skew``): batch 1 has detector hits and exactly
    ``cal_hits`` calibration hits, batch 2 detector hits and a few calibration hits."""
    rng = np.random.default_rng(p["hits_seed"])
    taps, n = p["taps"], p["cal_hits"]
    initial = tuple(np.sort(rng.integers(0, FABRIC_CLOCK_PS, taps)).tolist())
    cfg = CalibratorConfig(channel=3, taps=taps, cal_hits=n, cal_period=32,
                           starve_cycles=2 * n * 32, skew=p["skew"], initial=initial)

    def batch(detector: int, cal: int) -> list[dict]:
        flags = rng.permutation(np.arange(detector + cal) >= detector)
        return [{"coarse": int(c), "fine": int(rng.integers(0, taps)), "channel": 3,
                 "calibration": int(k)}
                for c, k in zip(rng.integers(0, 2**64, len(flags), dtype=np.uint64).tolist(),
                                flags.tolist(), strict=True)]

    return cfg, batch(40, n), batch(40, n // 4)


def calibrator_dut(p: dict) -> TdcCalibrator:
    """The calibrator of :func:`calibrator_case`."""
    return TdcCalibrator.from_config(calibrator_case(p)[0])


async def calibrator_switch(bench: Bench) -> None:
    """TdcCalibrator across a table switch, on any back end: batch 1 (initial table, fills the
    histogram), the build, one frame strobe, batch 2 (the new table); every tag and counter
    against :func:`models.ground.tdc_calibration.run_calibrator`. The model's acceptance cycles
    are a schedule in the same order (the body waits out the clearing walk, the build and the
    strobe, so the back ends' own idle and backpressure draws cannot change a tag)."""
    p = bench.params
    cfg, first, second = calibrator_case(p)
    hits = first + second
    walk = cfg.taps + 4
    t1 = walk + np.arange(len(first))
    strobe = int(t1[-1]) + 2 * walk
    accepted = np.concatenate([t1, strobe + 2 + np.arange(len(second))])
    want = run_calibrator(np.array([h["coarse"] for h in hits], dtype=np.uint64),
                          np.array([h["fine"] for h in hits]),
                          np.array([h["calibration"] for h in hits], dtype=bool),
                          accepted, np.array([strobe]), int(accepted[-1]) + 1, cfg)
    tags = [pack(Tag, {"time": int(t), "channel": cfg.channel, "frame": 0})
            for t in want.time.tolist()]
    split = int((want.source < len(first)).sum())
    await bench.reset()
    bench.set("skew", cfg.skew)
    bench.set("frame_strobe", 0)
    bench.set("clear", 0)
    await bench.ticks(walk)
    for batch, expect in ((first, tags[:split]), (second, tags[split:])):
        got = await bench.transfer(
            {"hits": Send([pack(RawHit, h) for h in batch], idle=p["idle"])},
            {"tags": Receive(len(expect), stall=p["stall"], settle=8)})
        bench.compare("tags", got["tags"], expect, layout=Tag)
        if batch is first:
            await bench.ticks(2 * walk)
            bench.set("frame_strobe", 1)
            await bench.ticks(1)
            bench.set("frame_strobe", 0)
    await bench.ticks(4)
    counters = {name: bench.get(name) for name in CAL_COUNTERS}
    assert counters == {"tables_built": 1, "tables_switched": 1, "starve_events": 0,
                        "uncalibrated": 0, "cal_dropped": 0}, counters
    assert (want.tables_built, want.tables_switched) == (1, 1)
