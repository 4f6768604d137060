"""Test harness of the sync channel's strobe guard.

:class:`GuardedSelect` is the guard with the calibration select it drives (as in
:class:`rtl.ground.carry_chain.CarryLines`); :func:`simulate_guard` runs it in the Amaranth
simulator on a tap-0 sequence and records its outputs in every cycle; :func:`expected` gives the
same per-cycle signals from :func:`models.ground.strobe_guard.run_guard`. :func:`strobe_rises`
builds strobe trains (phase, drift, missing and jumping strobes) for the model-level cases.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.sim import Simulator

from models.constants import FABRIC_CLOCK_PS, TDC_CAL_SLOT_CYCLES
from models.ground.strobe_guard import GUARD_DEFAULTS, GuardConfig, run_guard, tap0_edges
from models.ground.tdc import COUNTER_BITS
from rtl.ground.carry_chain import SELECT_LEAD, CalibrationSelect
from rtl.ground.strobe_guard import StrobeGuard


class GuardedSelect(wiring.Component):
    """:class:`StrobeGuard` feeding :class:`CalibrationSelect` (the sync line's mux select,
    ``guarded``), as the ground top wires them; latency and members as those two."""

    tap0: In(1)
    skip: Out(1)
    guarded: Out(1)
    locked: Out(1)
    skipped: Out(COUNTER_BITS)

    def __init__(self, cal_period: int, cfg: GuardConfig = GUARD_DEFAULTS) -> None:
        self._cal_period, self._cfg = cal_period, cfg
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        m.submodules.guard = guard = StrobeGuard(self._cal_period, self._cfg)
        m.submodules.select = select = CalibrationSelect(self._cal_period)
        m.d.comb += [guard.tap0.eq(self.tap0), select.skip.eq(guard.skip),
                     self.skip.eq(guard.skip), self.guarded.eq(select.guarded),
                     self.locked.eq(guard.locked), self.skipped.eq(guard.skipped)]
        return m


@dataclass
class GuardTrace:
    """Per cycle: the guard's ``skip`` and ``locked``, the sync line's select; and the
    ``skipped`` counter after the run."""

    skip: np.ndarray
    locked: np.ndarray
    select: np.ndarray
    skipped: int


def simulate_guard(tap0: np.ndarray, cal_period: int, cfg: GuardConfig = GUARD_DEFAULTS
                   ) -> GuardTrace:
    """:class:`GuardedSelect` with ``tap0[c]`` presented in cycle ``c``."""
    dut = GuardedSelect(cal_period, cfg)
    cycles = len(tap0)
    out = {name: np.zeros(cycles, dtype=bool) for name in ("skip", "locked", "select")}
    skipped = []

    async def bench(ctx) -> None:
        for c in range(cycles):
            ctx.set(dut.tap0, int(tap0[c]))
            out["skip"][c] = ctx.get(dut.skip)
            out["locked"][c] = ctx.get(dut.locked)
            out["select"][c] = ctx.get(dut.guarded)
            await ctx.tick()
        skipped.append(ctx.get(dut.skipped))

    sim = Simulator(dut)
    sim.add_clock(1e-12 * FABRIC_CLOCK_PS)
    sim.add_testbench(bench)
    sim.run()
    return GuardTrace(out["skip"], out["locked"], out["select"], skipped[0])


def expected(tap0: np.ndarray, cal_period: int, cfg: GuardConfig = GUARD_DEFAULTS
             ) -> GuardTrace:
    """:func:`simulate_guard`'s trace from the model: the decision for slot ``k`` is visible
    from the cycle after ``k cal_period - lead`` to the next decision; the select is high in
    cycles ``[s - 1, s + 7)`` of a slot that runs (one cycle after ``skip`` it uses)."""
    cycles = len(tap0)
    res = run_guard(tap0_edges(tap0), cycles, cal_period, cfg)
    y = np.arange(cycles)
    skip = res.skip[(y - 1 + cfg.lead) // cal_period]
    locked = y >= (int(res.strobes[0]) + 2 if len(res.strobes) else cycles)
    slot = (y + SELECT_LEAD - 1) % cal_period < TDC_CAL_SLOT_CYCLES
    select = slot & ~np.concatenate(([False], skip[:-1]))
    return GuardTrace(skip, locked, select, int(res.skip.sum()))


def strobe_rises(frames: int, phase: float, frame_cycles: int, drift: float = 0.0,
                 missing: Sequence[int] = (), jump: tuple[int, float] | None = None
                 ) -> np.ndarray:
    """Rise times (ps) of strobes in frames ``1 .. frames``: frame ``k``'s at cycle
    ``k frame_cycles + phase + k drift`` (``phase`` fractional: the strobe is sampled at the
    next cycle); ``missing`` frames have none; ``jump = (k, cycles)`` moves the strobes from
    frame ``k`` on."""
    k = np.arange(1, frames + 1)
    cycle = k * frame_cycles + phase + k * drift
    if jump is not None:
        cycle = cycle + np.where(k >= jump[0], jump[1], 0.0)
    keep = ~np.isin(k, list(missing))
    return cycle[keep] * FABRIC_CLOCK_PS
