"""Amaranth-simulator harness that drives stream inputs at exact cycles.

The merge and the sync join decide from arrival cycles and ``now_ps`` (late tags, timeouts,
FIFO levels), so their cycle-exact models (:mod:`models.ground.tdc_merge`,
:mod:`models.ground.sync_join`) need the stimulus at known cycles, which the random idle of
:mod:`tb.dual` does not give. :func:`run_cycles` presents each input beat in its cycle (the
inputs of these blocks are always ready), drives ``now_ps`` from a
:class:`models.ground.tdc_merge.Coarse` and the outputs' ``ready`` from a seeded pattern, and
records every output beat with its cycle. Cycle 0 is the first cycle of the testbench.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from amaranth.hdl import Value
from amaranth.lib import wiring
from amaranth.sim import Simulator

from models.ground.tdc_merge import MASK64, Coarse
from tb.pysim import CLOCK_PERIOD


@dataclass
class CycleRun:
    """Output beats per port as ``(cycle, payload)`` and the ``read`` signals at the end."""

    beats: dict[str, list[tuple[int, int]]]
    final: dict[str, int]


def run_cycles(dut: wiring.Component, feeds: Mapping[str, Sequence[tuple[int, int]]],
               now: Coarse, cycles: int, outputs: Sequence[str],
               registers: Mapping[str, int] | None = None,
               ready: Callable[[int], bool] | None = None,
               read: Sequence[str] = ()) -> CycleRun:
    """Run ``cycles`` cycles: ``feeds[port]`` is ``(cycle, flat payload)`` in increasing cycles;
    ``registers`` are set before cycle 0; ``ready(c)`` (default always) drives every output's
    ``ready`` at cycle ``c``; ``read`` names signals to read after the last cycle."""
    beats: dict[str, list[tuple[int, int]]] = {name: [] for name in outputs}
    final: dict[str, int] = {}
    for name, feed in feeds.items():
        if any(b[0] <= a[0] for a, b in itertools.pairwise(feed)):
            raise ValueError(f"feed {name}: cycles must increase")

    async def bench(ctx) -> None:
        for name, value in (registers or {}).items():
            ctx.set(Value.cast(getattr(dut, name)), value)
        pos = dict.fromkeys(feeds, 0)
        for c in range(cycles):
            ctx.set(dut.now_ps, now.at(c) & MASK64)
            for name, feed in feeds.items():
                port = getattr(dut, name)
                k = pos[name]
                if k < len(feed) and feed[k][0] == c:
                    ctx.set(port.valid, 1)
                    ctx.set(Value.cast(port.payload), feed[k][1])
                    pos[name] = k + 1
                else:
                    ctx.set(port.valid, 0)
            r = 1 if ready is None else int(ready(c))
            for name in outputs:
                port = getattr(dut, name)
                ctx.set(port.ready, r)
                if r and ctx.get(port.valid):
                    beats[name].append((c, ctx.get(Value.cast(port.payload))))
            await ctx.tick()
        for name in read:
            final[name] = ctx.get(Value.cast(getattr(dut, name)))

    sim = Simulator(dut)
    sim.add_clock(CLOCK_PERIOD)
    sim.add_testbench(bench)
    sim.run()
    return CycleRun(beats, final)
