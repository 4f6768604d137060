"""Amaranth-simulator harness of one TDC channel fed by the behavioural delay line.

:func:`simulate_channel` runs :class:`rtl.simonly.delay_line.DelayLineReplay` into
:class:`rtl.ground.tdc.TdcChannel` for the cycles the replay needs plus the pipeline, collects
every hit the channel hands over, in order, and reads the counters and flags at the end; the
result has the fields of :class:`models.ground.tdc.ChannelResult` for a field-by-field
comparison with :func:`models.ground.tdc.run_channel` on the replay's codes.
"""

from dataclasses import dataclass

import numpy as np
from amaranth.hdl import Module
from amaranth.sim import Simulator

from models.ground.tdc import ChannelConfig, DelayLine
from rtl.common.payload import unpack
from rtl.ground.layouts import RawHit
from rtl.ground.tdc import TdcChannel
from rtl.simonly.delay_line import DelayLineReplay

PIPELINE_CYCLES = 4
COUNTERS = ("lost_dead", "lost_pileup", "lost_overflow", "coverage_errors", "stuck_events")
FLAGS = ("coverage_error", "stuck")


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
    channel = TdcChannel(cfg.channel, taps=line.taps, epoch=cfg.epoch)
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
