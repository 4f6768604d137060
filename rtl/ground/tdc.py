"""TDC channel (SPEC 4.0), bit-exact with :func:`models.ground.tdc.run_channel`.

Overview
--------
``taps`` (the sampled carry-chain code of one fabric cycle) -> ``hits``
(:data:`rtl.ground.layouts.RawHit`: 64-bit picosecond coarse time of the sampling edge, fine
ones count, channel). The encoder finds a rising edge of tap 0 against the previous sample and
counts the ones of the same code in four registered stages (a bubble swaps a one and a zero
near the thermometer edge, the count stays): the ones count (3 bits, one LUT4 per bit) of every
group of four taps, then three stages that each add runs of four of the previous terms (320
taps: 80, 20, 5, 2 terms), the last addition in the output stage; the last tap and the
every-tap-high check travel with the count. The output stage applies, in this order, the dead
time, the calibration blanking, the coverage check (every tap high) and the pile-up check
(last tap high), then the output register. The stages bound the fabric clock: the first reads
the line's second sampling rank, which sits next to the carry chains, through one LUT into a
register that the placer puts anywhere (``docs/ground.md`` "Synthesis").

Calibration slots: ahead of the carry chain a mux gives the line to an on-chip ring oscillator
for :data:`TDC_CAL_SLOT_CYCLES` cycles every ``cal_period`` cycles (slots start where the cycle
counter is a multiple of ``cal_period``; :func:`models.ground.tdc.channel_input` is the mux's
model). A hit sampled at a cycle ``c`` with ``2 <= c % cal_period <= TDC_CAL_SLOT_CYCLES`` can
only be the oscillator's pulse: it leaves with ``calibration`` set, exempt from the dead time (a
detector hit just before the slot must not remove calibration hits of some codes only). Hits
sampled at ``c % cal_period`` 1 (a detector edge just before the switch) and
``TDC_CAL_SLOT_CYCLES + 1`` (the mux switching back onto a detector pulse that is still high
makes a phantom edge there) are blanked: lost, counted in ``lost_calibration``. The sync
channel has a strobe guard (:class:`rtl.ground.strobe_guard.StrobeGuard`, parameter ``guard``)
that skips the slots which would hide a strobe: their cycles are ordinary time here. Coarse
time and fine code come from the same sample, so no hit near a clock edge is off by a cycle.
"""

from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from models.constants import (
    FABRIC_CLOCK_PS,
    TDC_CAL_PERIOD,
    TDC_CAL_SLOT_CYCLES,
    TDC_DEAD_CYCLES,
    TDC_FINE_BITS,
    TDC_STUCK_CYCLES,
    TDC_TAPS,
)
from models.ground.strobe_guard import GuardConfig
from models.ground.tdc import CHANNEL_LATENCY, COUNTER_BITS, MASK64, check_cal_period
from rtl.common.counters import count_events, latch_events
from rtl.ground.layouts import RawHit
from rtl.ground.strobe_guard import StrobeGuard

#: Registered stages of the encoder ahead of the output register
#: (:data:`models.ground.tdc.CHANNEL_LATENCY` is one more).
ENCODE_STAGES = 4
#: Taps per first-level group of the ones counter: one LUT4 per bit of a group's count.
GROUP_TAPS = 4
#: Terms each registered stage of the ones counter adds (two adder levels).
STAGE_TERMS = 4


def group_counts(bits: Value) -> list[Value]:
    """Ones counts (3 bits) of the groups of :data:`GROUP_TAPS` taps of ``bits`` (the last
    group zero-padded), each bit a function of four taps: one LUT4, no carry chain."""
    out = []
    for first in range(0, len(bits), GROUP_TAPS):
        a, b, c, d = (bits[i] if i < len(bits) else Const(0)
                      for i in range(first, first + GROUP_TAPS))
        four = a & b & c & d
        two = ((a & b) | (c & d) | ((a ^ b) & (c ^ d))) & ~four
        out.append(Cat(a ^ b ^ c ^ d, two, four))
    return out


def partial_sums(terms: list[Value]) -> list[Value]:
    """Sums of consecutive runs of :data:`STAGE_TERMS` terms, each a balanced adder tree (one
    registered stage of the ones counter)."""
    out = []
    for first in range(0, len(terms), STAGE_TERMS):
        run = terms[first:first + STAGE_TERMS]
        while len(run) > 1:
            run = [run[i] + run[i + 1] for i in range(0, len(run) - 1, 2)] + \
                  run[len(run) - len(run) % 2:]
        out.append(run[0])
    return out


class TdcChannel(wiring.Component):
    """One TDC channel: sampled delay-line code to raw hits, with dead time and input checks.

    Latency: a hit whose edge is in the code of cycle ``c`` is valid on ``hits`` from cycle
    ``c + 5`` (:data:`models.ground.tdc.CHANNEL_LATENCY`). Throughput: at most one hit per
    cycle (a rising edge needs a low sample before it, so hits are at least 2 cycles apart). A
    TDC cannot wait: ``hits`` must be accepted before the next hit is ready, otherwise that next
    hit is lost and counted in ``lost_overflow``.

    Members
    -------
    taps : In(taps)
        The line's code as sampled at this cycle's clock edge (tap 0 nearest the input).
    hits : Out(stream.Signature(RawHit))
        One raw hit per accepted rising edge, in time order.
    dead_cycles, stuck_cycles : In
        Configuration: an edge within ``dead_cycles`` cycles after an accepted edge is lost
        (``lost_dead``); tap 0 high for ``stuck_cycles`` consecutive cycles is one stuck event.
        Their init values are the defaults inside a design; as ports of a Verilog top they
        must be driven.
    clear : In(1)
        Clears the sticky flags and the counters (at configuration).
    coverage_error, stuck : Out(1)
        Sticky: a hit sampled with every tap high (the line is shorter than a clock period;
        the hit is dropped and counted in ``coverage_errors``); a stuck-high input.
    lost_dead, lost_pileup, lost_overflow, coverage_errors, stuck_events,
    lost_calibration : Out(32)
        Counters (wrap at 2**32): a pile-up is a hit whose code has the last tap high (the tail
        of an earlier pulse lies in its window, so its fine code would be wrong);
        ``lost_calibration`` counts the hits blanked at a slot's first cycle and the cycle
        after it.
    cal_skip, strobe_locked, cal_skipped : Out
        With ``guard`` only: the strobe guard's ``skip`` (for the line's mux), ``locked`` and
        ``skipped`` (:class:`rtl.ground.strobe_guard.StrobeGuard`; ``clear`` clears it too).

    Parameters
    ----------
    cal_period : int
        Cycles from one calibration slot to the next, a power of two above
        ``TDC_CAL_SLOT_CYCLES + 1`` (``ValueError`` otherwise).
    guard : GuardConfig or None
        The sync channel's strobe guard (None: every slot runs).
    """

    def __init__(self, channel: int, taps: int = TDC_TAPS, epoch: int = 0,
                 cal_period: int = TDC_CAL_PERIOD, guard: GuardConfig | None = None) -> None:
        self._channel = channel
        self._guard = None if guard is None else StrobeGuard(cal_period, guard)
        self._taps = taps
        self._epoch = epoch & MASK64
        self._cal_period = check_cal_period(cal_period)
        if taps >= 1 << TDC_FINE_BITS:
            raise ValueError(f"{taps} taps do not fit a {TDC_FINE_BITS}-bit fine code")
        if ENCODE_STAGES + 1 != CHANNEL_LATENCY:
            raise ValueError(f"the encoder's {ENCODE_STAGES} stages do not match the model's "
                             f"CHANNEL_LATENCY {CHANNEL_LATENCY}")
        guarded = {} if guard is None else {"cal_skip": Out(1), "strobe_locked": Out(1),
                                            "cal_skipped": Out(COUNTER_BITS)}
        super().__init__(guarded | {
            "taps": In(taps),
            "hits": Out(stream.Signature(RawHit)),
            "dead_cycles": In(8, init=TDC_DEAD_CYCLES),
            "stuck_cycles": In(16, init=TDC_STUCK_CYCLES),
            "clear": In(1),
            "coverage_error": Out(1),
            "stuck": Out(1),
            "lost_dead": Out(COUNTER_BITS),
            "lost_pileup": Out(COUNTER_BITS),
            "lost_overflow": Out(COUNTER_BITS),
            "coverage_errors": Out(COUNTER_BITS),
            "stuck_events": Out(COUNTER_BITS),
            "lost_calibration": Out(COUNTER_BITS),
        })

    def elaborate(self, platform):
        m = Module()
        taps = self.taps
        # The counters run ENCODE_STAGES (coarse time, read by the output register) and
        # ENCODE_STAGES - 1 (calibration phase, registered with the last encoder stage) cycles
        # behind, so each reads the value of the cycle whose code holds the hit.
        coarse = Signal(64, init=(self._epoch - ENCODE_STAGES * FABRIC_CLOCK_PS) & MASK64)
        m.d.sync += coarse.eq(coarse + FABRIC_CLOCK_PS)
        # position in the calibration period (cal_period is a power of two: the counter wraps)
        phase = Signal(range(self._cal_period),
                       init=-(ENCODE_STAGES - 1) % self._cal_period)
        m.d.sync += phase.eq(phase + 1)
        # Encoder, ENCODE_STAGES registered stages, each loaded only with an edge (a clock
        # enable in the fabric; a simulator evaluates the counter only in the cycles of an
        # edge). Stage a: edge of tap 0 against the previous sample, the ones count of every
        # group of four taps and the last tap, straight from the line's second rank (one LUT
        # level, so the long routes from the carry chains' columns end in a register).
        prev0 = Signal()
        m.d.sync += prev0.eq(taps[0])
        edge = taps[0] & ~prev0
        groups = group_counts(taps)
        a_valid, a_top = Signal(), Signal()
        a_counts = [Signal(3, name=f"a_count{i}") for i in range(len(groups))]
        m.d.sync += a_valid.eq(edge)
        with m.If(edge):
            m.d.sync += [a_top.eq(taps[-1])] + [r.eq(g) for r, g in zip(a_counts, groups,
                                                                          strict=True)]
        # stages b, c, d: sums of runs of four of the previous stage's terms (two adder
        # levels; at most two terms are left); full (every tap high) is every group at 4, the
        # slot flags join in the last stage
        valid, top, full, terms = a_valid, a_top, Cat(c[2] for c in a_counts).all(), a_counts
        for stage in "bcd":
            sums = partial_sums(terms)
            regs = [Signal(len(v), name=f"{stage}_sum{i}") for i, v in enumerate(sums)]
            s_valid, s_top, s_full = (Signal(name=f"{stage}_{n}") for n in ("valid", "top", "full"))
            m.d.sync += s_valid.eq(valid)
            with m.If(valid):
                m.d.sync += [s_top.eq(top), s_full.eq(full)] + \
                            [r.eq(v) for r, v in zip(regs, sums, strict=True)]
            valid, top, full, terms = s_valid, s_top, s_full, regs
        s1_valid, s1_top, s1_full = valid, top, full
        s1_cal, s1_blank = Signal(name="s1_cal"), Signal(name="s1_blank")
        # the guard's skip holds from 16 cycles before a slot to 16 before the next, so the
        # phase counter's lag behind the line does not change which slot it applies to
        slot_runs = ~self._guarded(m)
        m.d.sync += [
            s1_cal.eq((phase >= 2) & (phase <= TDC_CAL_SLOT_CYCLES) & slot_runs),
            s1_blank.eq(((phase == 1) | (phase == TDC_CAL_SLOT_CYCLES + 1)) & slot_runs),
        ]
        s1_fine = sum(terms[1:], terms[0])
        # stuck-high input: run of tap 0 high (saturating), one event when it reaches
        # stuck_cycles. The compare is made a cycle ahead on the run's next value into
        # ``arm`` (run + 1 == stuck_cycles), so the counter's enable is two flops and a LUT.
        run = Signal(16)
        run_next = Signal(16)
        m.d.comb += run_next.eq(Mux(taps[0], Mux(run != 0xFFFF, run + 1, run), 0))
        m.d.sync += run.eq(run_next)
        threshold = Signal(17)  # stuck_cycles - 1 (0x1FFFF for 0: never reached)
        arm = Signal()
        m.d.comb += threshold.eq(self.stuck_cycles - 1)
        m.d.sync += arm.eq(run_next == threshold)
        stuck_now = taps[0] & arm
        # stage 1: dead time, coverage, pile-up, output register (with the last addition).
        # ``idle`` (dead == 0) is a flop kept with the counter, so the acceptance is one LUT
        # level from flops.
        dead = Signal(8)
        idle = Signal(init=1)
        with m.If(~idle):
            m.d.sync += [dead.eq(dead - 1), idle.eq(dead == 1)]
        accept = Signal()
        live = s1_valid & (idle | s1_cal)
        lost_dead = s1_valid & ~live
        blank = live & s1_blank
        cover = live & ~s1_blank & s1_full
        pileup = live & ~s1_blank & ~s1_full & s1_top
        m.d.comb += accept.eq(live & ~s1_blank & ~s1_top)
        # The payload follows stage 1 whenever the output register is free, hit or not (only
        # ``valid`` waits for the acceptance): the acceptance then drives a handful of flops
        # next to the dead-time counter instead of the enable of the whole payload register.
        out = self.hits
        free = ~out.valid | out.ready
        with m.If(out.ready):
            m.d.sync += out.valid.eq(0)
        with m.If(free):
            m.d.sync += [
                out.payload.coarse.eq(coarse),
                out.payload.fine.eq(s1_fine),
                out.payload.channel.eq(self._channel),
                out.payload.calibration.eq(s1_cal),
            ]
        with m.If(accept):
            m.d.sync += [dead.eq(self.dead_cycles), idle.eq(self.dead_cycles == 0)]
            with m.If(free):
                m.d.sync += out.valid.eq(1)
        overflow = accept & out.valid & ~out.ready
        count_events(m, self.clear, ((self.lost_dead, lost_dead), (self.lost_pileup, pileup),
                                     (self.lost_overflow, overflow),
                                     (self.coverage_errors, cover),
                                     (self.stuck_events, stuck_now),
                                     (self.lost_calibration, blank)))
        latch_events(m, self.clear, ((self.coverage_error, cover), (self.stuck, stuck_now)))
        return m

    def _guarded(self, m: Module) -> Value:
        """The strobe guard's skip of the current slot (a register), or 0 without a guard."""
        if self._guard is None:
            return Const(0)
        m.submodules.guard = guard = self._guard
        m.d.comb += [guard.tap0.eq(self.taps[0]), guard.clear.eq(self.clear),
                     self.cal_skip.eq(guard.skip), self.strobe_locked.eq(guard.locked),
                     self.cal_skipped.eq(guard.skipped)]
        return guard.skip
