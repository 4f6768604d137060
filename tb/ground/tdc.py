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
from models.ground.tdc import ChannelConfig, DelayLine, default_pulses
from rtl.common.payload import pack, unpack
from rtl.ground.layouts import RawHit, Tag
from rtl.ground.tdc import TdcChannel
from rtl.ground.tdc_calibration import TdcCalibrator
from rtl.simonly.delay_line import DelayLineReplay, TdcOnLine

PIPELINE_CYCLES = 4
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
    """What the RTL channel produced: raw hits in order, counters, flags, the replayed codes."""

    hits: list[dict]
    counters: dict[str, int]
    flags: dict[str, int]
    codes: np.ndarray


def simulate_channel(line: DelayLine, rises: np.ndarray, widths: np.ndarray, cycles: int,
                     cfg: ChannelConfig | None = None, ready: bool = True,
                     clear_at: int | None = None) -> ChannelRun:
    """Run ``cycles`` cycles of the line's codes through a channel (``ready``: the sink's
    ``hits.ready``, constant; ``clear_at``: a cycle at which ``clear`` pulses)."""
    cfg = cfg or ChannelConfig()
    replay = DelayLineReplay(line, rises, widths, cycles)
    channel = TdcChannel(cfg.channel, taps=line.taps, epoch=cfg.epoch, cal_period=cfg.cal_period)
    m = Module()
    m.submodules.replay = replay
    m.submodules.channel = channel
    m.d.comb += channel.taps.eq(replay.taps)
    hits: list[dict] = []
    counters: dict[str, int] = {}
    flags: dict[str, int] = {}

    async def bench(ctx) -> None:
        ctx.set(channel.dead_cycles, cfg.dead_cycles)
        ctx.set(channel.stuck_cycles, cfg.stuck_cycles)
        ctx.set(channel.hits.ready, int(ready))
        for c in range(cycles + PIPELINE_CYCLES):
            ctx.set(channel.clear, int(c == clear_at))
            if ctx.get(channel.hits.valid) and ready:
                hits.append(unpack(RawHit, ctx.get(channel.hits.payload.as_value())))
            await ctx.tick()
        for name in COUNTERS:
            counters[name] = ctx.get(getattr(channel, name))
        for name in FLAGS:
            flags[name] = ctx.get(getattr(channel, name))

    sim = Simulator(m)
    sim.add_clock(1e-12 * 6400)
    sim.add_testbench(bench)
    sim.run()
    return ChannelRun(hits, counters, flags, replay.codes)


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
