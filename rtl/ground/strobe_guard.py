"""Strobe guard of the sync channel (TDC channel 4), cycle-exact with
:func:`models.ground.strobe_guard.run_guard` (why and how: that module's docstring and
``docs/ground.md`` "TDC calibration").

Timing of one slot ``s`` (a multiple of ``cal_period`` on the channel's cycle counter)::

    cycle      s-lead      s-2   s-1   s   s+1 .. s+9         s+cal_period-lead
    decision     X  (skip register holds the decision ............) X
    select                  (computed)  ^ mux to oscillator, unless skip
    channel                                 phases 1..9: calibration/blanked, unless skip

Every output is a register and every input of its logic is a register (the channel's second
sampling rank, this block's own state), so the guard adds no path through the channel.
"""

from amaranth.hdl import Const, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from models.constants import TDC_CAL_PERIOD
from models.ground.strobe_guard import (
    FREE_RUNNING,
    GUARD_DEFAULTS,
    SEARCHING,
    WINDOW_CYCLES,
    GuardConfig,
)
from models.ground.tdc import COUNTER_BITS
from rtl.common.counters import count_events


class StrobeGuard(wiring.Component):
    """Learns the sync strobe's cycle from tap 0 of channel 4's code and skips the calibration
    slots that would hide the next strobe; after a missing strobe, every slot of the next frame
    (a search frame), and before the first strobe, every slot of one frame in
    ``acquire_frames``.

    Latency: an edge in the code of cycle ``x`` is learned at the edge of cycle ``x + 1``;
    the decision for a slot is taken ``lead`` cycles ahead of it and holds until ``lead``
    cycles ahead of the next one. Throughput: one code per cycle. No streams.

    Members
    -------
    tap0 : In(1)
        Tap 0 of the channel's code, the same sample :class:`rtl.ground.tdc.TdcChannel` reads.
    skip : Out(1)
        The current slot (the one whose decision came last) is skipped: its mux stays on the
        strobe and the channel treats its cycles as ordinary time.
    locked : Out(1)
        A strobe has been seen since reset.
    clear : In(1)
        Clears ``skipped``.
    skipped : Out(32)
        Slots skipped (wraps at 2**32).

    Parameters
    ----------
    cal_period : int
        As :class:`rtl.ground.tdc.TdcChannel` (the phase counters of both start at reset).
    cfg : GuardConfig
        Frame period, margin and lead (:class:`models.ground.strobe_guard.GuardConfig`).
    """

    tap0: In(1)
    skip: Out(1)
    locked: Out(1)
    clear: In(1)
    skipped: Out(COUNTER_BITS)

    def __init__(self, cal_period: int = TDC_CAL_PERIOD,
                 cfg: GuardConfig = GUARD_DEFAULTS) -> None:
        self._cal_period = cal_period
        self._cfg = cfg.check(cal_period)
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        cfg, period = self._cfg, self._cal_period
        phase = Signal(range(period))
        m.d.sync += phase.eq(phase + 1)
        # the code's edge, unless it lies in a running slot's window (oscillator or mux edges)
        prev = Signal()
        edge = Signal()
        in_window = (phase >= 1) & (phase <= WINDOW_CYCLES) & ~self.skip
        m.d.sync += [prev.eq(self.tap0), edge.eq(self.tap0 & ~prev & ~in_window)]
        # cycles to the deadline (predicted strobe + margin); misses since the last strobe
        # (not locked: cycles to the end of the frame counted from reset)
        wait = Signal(range(cfg.frame_cycles + cfg.margin), init=cfg.frame_cycles - 1)
        misses = Signal(range(FREE_RUNNING + 1))
        acquire = Signal(range(max(cfg.acquire_frames, 2)))
        with m.If(edge):
            m.d.sync += [self.locked.eq(1), wait.eq(cfg.frame_cycles + cfg.margin - 2),
                         misses.eq(0)]
        with m.Elif(wait == 0):
            m.d.sync += wait.eq(cfg.frame_cycles - 1)
            with m.If(self.locked & (misses != FREE_RUNNING)):
                m.d.sync += misses.eq(misses + 1)
            with m.If(~self.locked):
                m.d.sync += acquire.eq(Mux(acquire == cfg.acquire_frames - 1, 0, acquire + 1))
        with m.Else():
            m.d.sync += wait.eq(wait - 1)
        lo, hi = cfg.window
        decide = Signal()
        searching = Const(0) if cfg.acquire_frames == 0 else acquire == cfg.acquire_frames - 1
        m.d.comb += decide.eq(Mux(self.locked,
                                  (misses == SEARCHING) | ((wait >= lo) & (wait <= hi)),
                                  searching))
        with m.If(phase == period - cfg.lead):
            m.d.sync += self.skip.eq(decide)
        count_events(m, self.clear, ((self.skipped, (phase == period - cfg.lead) & decide),))
        return m
