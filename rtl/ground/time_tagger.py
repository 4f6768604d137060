"""Time tagger (SPEC 4.0): five TDC channels with their calibrators, the sync-strobe join and the
time-ordered merge, bit-exact with :func:`models.ground.time_tagger.run_time_tagger`.

Overview
--------
::

    codes[0..3] -> TdcChannel -> TdcCalibrator --------------------------> merge i0..i3
    codes[4]    -> TdcChannel -> TdcCalibrator -> strobes -+
    events (sync detector) ------------------------------- SyncJoin ------> merge i4
           \\----------------------------------------> frame_strobe of every calibrator
    TimeOrderedMerge ---------------------------------------------------> tags (indexer)

The coarse counter (``now_ps``, the channels' coarse time of the current cycle, from
``epoch``) is the merge's and the join's clock. Every stage after a channel is always ready, so
no channel ever loses a hit to backpressure.
"""

from collections.abc import Sequence

from amaranth.hdl import Module, Signal, signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from models.constants import (
    FABRIC_CLOCK_PS,
    TDC_CAL_HITS,
    TDC_CAL_PERIOD,
    TDC_CHANNELS,
    TDC_DEAD_CYCLES,
    TDC_SKEW_BITS,
    TDC_STUCK_CYCLES,
    TDC_TAPS,
)
from models.ground.strobe_guard import GUARD_DEFAULTS, GuardConfig
from models.ground.sync_join import SYNC_CHANNEL
from models.ground.tdc import COUNTER_BITS, MASK64
from models.ground.time_tagger import (
    JOIN_DEPTH,
    MERGE_DEPTH,
    TaggerConfig,
    safe_max_lags,
)
from rtl.ground.layouts import Tag
from rtl.ground.sync import FrameEvent
from rtl.ground.sync_join import SyncJoin
from rtl.ground.tdc import TdcChannel
from rtl.ground.tdc_calibration import TdcCalibrator
from rtl.ground.tdc_merge import LAG_BITS, TimeOrderedMerge

CHANNEL_COUNTERS = ("lost_dead", "lost_pileup", "lost_overflow", "coverage_errors",
                    "stuck_events", "lost_calibration")
CHANNEL_FLAGS = ("coverage_error", "stuck")
CALIBRATOR_COUNTERS = ("tables_built", "tables_switched", "starve_events", "uncalibrated",
                       "cal_dropped")
CALIBRATOR_FLAGS = ("calibrated", "starved")
MERGE_COUNTERS = {"merge_late": "late", "merge_overflow": "overflow"}
JOIN_COUNTERS = {"sync_missing": "missing", "sync_ambiguous": "ambiguous",
                 "sync_extra": "extra", "sync_overflow": "overflow"}
GUARD_PORTS = ("cal_skip", "strobe_locked", "cal_skipped")
DEFAULTS = TaggerConfig()


class TimeTagger(wiring.Component):
    """Sampled delay-line codes of the five TDC channels + sync frame events -> calibrated,
    time-ordered tags with the sync tags ``(t_k, k)`` among them, for the pulse indexer.

    Latency: a detector hit's tag reaches the merge 8 cycles after the code that holds it
    (channel 5, calibrator 3) and leaves it once safe (:class:`rtl.ground.tdc_merge.
    TimeOrderedMerge`: the largest ``max_lag_ps`` among the idle inputs plus up to 15 cycles;
    the sync input's lag, about ``2 tolerance_ps + strobe_lag_ps``, dominates). Throughput: one
    tag per 6 cycles out (26.04 Mtags/s at 156.25 MHz); each channel one hit per 2 cycles in.
    Stream contract: ``events`` is always ready (the join stamps each event with its arrival
    cycle and every calibrator takes it as ``frame_strobe``); ``tags`` holds a tag until read.
    A stalled ``tags`` stalls only the merge's release: the channels keep running and the merge
    FIFOs (``merge_depth`` per input) absorb it, then count ``merge_overflow``.

    Members
    -------
    codes : In(ArrayLayout(taps, 5))
        Per channel, the code its delay line holds at this cycle's edge (the carry chain's
        flops in synthesis, a replay in simulation). Channels 0..3 detectors, 4 the sync strobe.
    events : In(stream.Signature(FrameEvent))
        The sync detector's frame events.
    tags : Out(stream.Signature(Tag))
        Detector tags (channels 0..3, frame 0) and joined sync tags (channel 4, frame k), in
        ``(time, channel)`` order.
    now_ps : Out(64)
        The coarse time of this cycle (``epoch + cycle * FABRIC_CLOCK_PS`` mod 2**64).
    dead_cycles, stuck_cycles, clear : In
        The channels' registers (shared); ``clear`` also clears the calibrators' counters.
    skew : In(ArrayLayout(signed(16), 5))
        Per channel skew (ps), subtracted from its tags.
    offset_ps, tolerance_ps, strobe_lag_ps : In
        The join's registers (:class:`rtl.ground.sync_join.SyncJoin`).
    max_lag_ps : In(ArrayLayout(32, 5))
        The merge's per-input lag bounds (inputs 0..3 detectors, 4 joined sync); init
        :func:`models.ground.time_tagger.safe_max_lags` of the init registers.
    lost_dead, lost_pileup, lost_overflow, coverage_errors, stuck_events, lost_calibration : Out
        Per channel (``ArrayLayout(32, 5)``), its channel's counters.
    tables_built, tables_switched, starve_events, uncalibrated, cal_dropped : Out
        Per channel (``ArrayLayout(32, 5)``), its calibrator's counters.
    coverage_error, stuck, calibrated, starved : Out(5)
        Per channel (bit = channel), the flags.
    merge_late, merge_overflow : Out(ArrayLayout(32, 5))
        Per merge input.
    sync_missing, sync_ambiguous, sync_extra, sync_overflow : Out(32)
        The join's counters.
    cal_skip, strobe_locked, cal_skipped : Out
        The sync channel's strobe guard (:class:`rtl.ground.strobe_guard.StrobeGuard`):
        ``cal_skip`` drives channel 4's calibration mux (:class:`rtl.ground.carry_chain.
        CarryLines`), ``cal_skipped`` counts the slots it skipped.
    """

    def __init__(self, taps: int = TDC_TAPS, epoch: int = 0, cal_period: int = TDC_CAL_PERIOD,
                 cal_hits: int = TDC_CAL_HITS, starve_cycles: int | None = None,
                 initial: Sequence[Sequence[int] | None] | None = None,
                 merge_depth: int = MERGE_DEPTH, guard: GuardConfig = GUARD_DEFAULTS) -> None:
        n = TDC_CHANNELS
        self._taps, self._epoch = taps, epoch & MASK64
        self._cal_period, self._cal_hits = cal_period, cal_hits
        self._starve = starve_cycles
        self._initial = list(initial) if initial is not None else [None] * n
        if len(self._initial) != n:
            raise ValueError(f"initial needs {n} tables or None, not {len(self._initial)}")
        self._merge_depth = merge_depth
        counters = data.ArrayLayout(COUNTER_BITS, n)
        members = {
            "codes": In(data.ArrayLayout(taps, n)),
            "events": In(stream.Signature(FrameEvent)),
            "tags": Out(stream.Signature(Tag)),
            "now_ps": Out(64),
            "dead_cycles": In(8, init=TDC_DEAD_CYCLES),
            "stuck_cycles": In(16, init=TDC_STUCK_CYCLES),
            "clear": In(1),
            "skew": In(data.ArrayLayout(signed(TDC_SKEW_BITS), n)),
            "offset_ps": In(signed(32), init=DEFAULTS.join.offset_ps),
            "tolerance_ps": In(32, init=DEFAULTS.join.tolerance_ps),
            "strobe_lag_ps": In(32, init=DEFAULTS.join.strobe_lag_ps),
            "max_lag_ps": In(data.ArrayLayout(LAG_BITS, n), init=list(safe_max_lags(DEFAULTS))),
        }
        for name in CHANNEL_COUNTERS + CALIBRATOR_COUNTERS + tuple(MERGE_COUNTERS):
            members[name] = Out(counters)
        for name in CHANNEL_FLAGS + CALIBRATOR_FLAGS:
            members[name] = Out(n)
        for name in JOIN_COUNTERS:
            members[name] = Out(COUNTER_BITS)
        members |= {name: Out(COUNTER_BITS if name == "cal_skipped" else 1) for name in GUARD_PORTS}
        super().__init__(members)
        # The blocks are attributes so that a test top can tap their streams (the e2e
        # compares raw hits, calibrated tags and joined sync tags with the models).
        self.join = SyncJoin(JOIN_DEPTH)
        self.merge = TimeOrderedMerge(n, self._merge_depth, frame_inputs=(TDC_CHANNELS - 1,))
        self.channels = [TdcChannel(ch, taps=taps, epoch=self._epoch, cal_period=cal_period,
                                    guard=guard if ch == SYNC_CHANNEL else None)
                         for ch in range(n)]
        self.calibrators = [TdcCalibrator(ch, taps=taps, cal_hits=cal_hits,
                                          cal_period=cal_period, starve_cycles=starve_cycles,
                                          initial=self._initial[ch]) for ch in range(n)]

    def elaborate(self, platform):
        m = Module()
        now = Signal(64, init=self._epoch)
        m.d.sync += now.eq(now + FABRIC_CLOCK_PS)
        m.d.comb += self.now_ps.eq(now)

        m.submodules.join = join = self.join
        m.submodules.merge = merge = self.merge
        wiring.connect(m, wiring.flipped(self.events), join.events)
        wiring.connect(m, merge.o, wiring.flipped(self.tags))
        m.d.comb += [join.now_ps.eq(now), merge.now_ps.eq(now),
                     join.offset_ps.eq(self.offset_ps), join.tolerance_ps.eq(self.tolerance_ps),
                     join.strobe_lag_ps.eq(self.strobe_lag_ps),
                     merge.max_lag_ps.eq(self.max_lag_ps)]
        frame_strobe = self.events.valid & self.events.ready
        for ch in range(TDC_CHANNELS):
            chan, cal = self.channels[ch], self.calibrators[ch]
            m.submodules[f"channel{ch}"] = chan
            m.submodules[f"calibrator{ch}"] = cal
            m.d.comb += [chan.taps.eq(self.codes[ch]), chan.dead_cycles.eq(self.dead_cycles),
                         chan.stuck_cycles.eq(self.stuck_cycles), chan.clear.eq(self.clear),
                         cal.clear.eq(self.clear), cal.skew.eq(self.skew[ch]),
                         cal.frame_strobe.eq(frame_strobe)]
            wiring.connect(m, chan.hits, cal.hits)
            wiring.connect(m, cal.tags, join.strobes if ch == TDC_CHANNELS - 1
                           else getattr(merge, f"i{ch}"))
            for name in CHANNEL_COUNTERS:
                m.d.comb += getattr(self, name)[ch].eq(getattr(chan, name))
            for name in CALIBRATOR_COUNTERS:
                m.d.comb += getattr(self, name)[ch].eq(getattr(cal, name))
            for name in CHANNEL_FLAGS:
                m.d.comb += getattr(self, name)[ch].eq(getattr(chan, name))
            for name in CALIBRATOR_FLAGS:
                m.d.comb += getattr(self, name)[ch].eq(getattr(cal, name))
        for name in GUARD_PORTS:
            m.d.comb += getattr(self, name).eq(getattr(self.channels[SYNC_CHANNEL], name))
        wiring.connect(m, join.o, getattr(merge, f"i{TDC_CHANNELS - 1}"))
        for ours, theirs in MERGE_COUNTERS.items():
            m.d.comb += getattr(self, ours).eq(getattr(merge, theirs))
        for ours, theirs in JOIN_COUNTERS.items():
            m.d.comb += getattr(self, ours).eq(getattr(join, theirs))
        return m
