r"""Pulse indexer and gate (SPEC 4.2), bit-exact with :func:`models.ground.timing.run_indexer`.

Overview
--------
``tags`` carries the time-ordered tag stream (detections on channels 0..3, sync arrivals on
channel 4 with their frame counter, end of stream on channel 7). Detections wait in a pending
FIFO (``depth`` entries, block RAM) until the sync tag that closes their interval arrives; then
a 45-step divider forms ``R = 2**44 // P`` and the FSM indexes every pending detection against
the new or the previous interval and emits one ``records`` beat per detection. Arithmetic,
sequencing and statuses are documented in :mod:`models.ground.timing`.

Design
------
One 18x18 DSP product per operand half per cycle (``d * R`` then ``m0 * P``, each split into
two partial products and summed in the next cycle), every compare registered, so the datapath
meets the fabric clock without a deep pipeline: the block handles one detection per 17 cycles
(9.2 Mtags/s at 156.25 MHz), two orders of magnitude above the detection rate of a pass.
``delta`` and ``gate_half`` are run-time registers (calibration writes ``delta``).
One FSM over one register set; each stage is a method that adds its states: tag intake
(``_intake``), sync check and bit-slip guard (``_sync_check``), new interval (``_sync_commit``),
reciprocal of the period (``_reciprocal``), one pass per pending detection (``_index``) and the
end-of-stream flush (``_flush``). Intervals are :data:`Interval` structs, pending detections
:data:`Pending` structs in the FIFO.

Sync tags go through a short check pipeline before they close an interval (``SYNC_PERIOD``,
``SYNC_DEV``, ``SYNC_STEP``, then ``SLIP_COMPARE``/``SLIP_APPLY`` once per link bit of a
timing step): the bit-slip
guard of :mod:`models.ground.timing`. ``slips`` counts the steps found (saturating at 65535).

Latency, throughput, stream contract
------------------------------------
``tags.ready`` is high only in the idle state with a free output register; a detection is
emitted about 16 + 15 j cycles after the sync tag that closes its interval (j = its place in
the pending FIFO) plus 46 divider cycles when the interval is valid. ``records`` beats come in the
order of :func:`~models.ground.timing.run_indexer`::

    tags     D0 D1 S ....................... D2
    records              (46 cycles) R0 ......... R1 ...
"""

from amaranth.hdl import Cat, Module, Mux, Signal, signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.fifo import SyncFIFOBuffered
from amaranth.lib.wiring import In, Out

from models.ground.timing import (
    CH_END,
    CH_SYNC,
    DETECTORS,
    FRAME_BITS,
    MAX_SLIP_BITS,
    PERIOD_BITS,
    Q_SHIFT,
    R16_SHIFT,
    RECIP_SHIFT,
    TIME_BITS,
    IndexerConfig,
)
from rtl.ground.layouts import Status, Tag, TimingRecord

RECIP_BITS = 18
SPLIT = 18  # ECP5 DSP operand width: wider products are split into two 18-bit halves
M_BITS = 18

Interval = data.StructLayout({
    "start": TIME_BITS,
    "end": TIME_BITS,
    "period": PERIOD_BITS,
    "recip": RECIP_BITS,
    "frame": FRAME_BITS,
    "status": Status,
})
"""Registers of one sync interval ``[start, end)``: its period, ``2**RECIP_SHIFT // period``,
frame counter and status."""

Pending = data.StructLayout({"time": TIME_BITS, "channel": 2})
"""A detection waiting in the pending FIFO for the sync tag that closes its interval."""


class _Registers:
    """The indexer's registers, shared by its stages (one FSM), grouped by the stage that
    computes them."""

    def __init__(self, cfg: IndexerConfig) -> None:
        # pending FIFO level; `full` (pending == depth) is a register, off the tags.ready path
        self.pending = Signal(range(cfg.depth + 1))
        self.full = Signal()
        # tag intake
        self.tag = Signal(Tag)
        self.last = Signal(TIME_BITS)
        self.older, self.consecutive = Signal(), Signal()
        self.have_cur = Signal()
        self.cur_frame = Signal(FRAME_BITS)
        self.frame_next = Signal(FRAME_BITS, init=1)
        # sync check and bit-slip guard
        self.sync_raw = Signal(TIME_BITS)
        self.sync_period = Signal(TIME_BITS)
        self.corr = Signal(TIME_BITS)  # sync time less the accumulated slip correction
        self.shift = Signal(signed(32))
        self.ref = Signal(PERIOD_BITS)
        self.ref_valid = Signal()
        self.dev = Signal(signed(PERIOD_BITS + 3))
        self.acc = Signal(signed(20))  # whole-bit part of a step, added to shift on commit
        self.in_range, self.near, self.jump, self.far, self.hold = (
            Signal(name=n) for n in ("in_range", "near", "jump", "far", "hold"))
        self.confirmed, self.go, self.dev_hi, self.dev_lo, self.rest_bad = (
            Signal(name=n) for n in ("confirmed", "go", "dev_hi", "dev_lo", "rest_bad"))
        # intervals: the one closed last, the one before it, the one a detection falls in
        status_init = {"status": Status.NO_SYNC}
        self.now = Signal(Interval, init=status_init)
        self.prev = Signal(Interval, init=status_init)
        self.sel = Signal(Interval, init=status_init)
        # divider
        self.rem = Signal(PERIOD_BITS + 1)
        self.quo = Signal(RECIP_SHIFT + 1)
        self.step = Signal(range(RECIP_SHIFT + 2))
        self.first = Signal()  # step == 0, as a register: no compare in front of the divider
        # per-detection datapath
        self.det_time = Signal(TIME_BITS)
        self.det_ch = Signal(2)
        self.u = Signal(signed(TIME_BITS + 2))
        self.d = Signal(PERIOD_BITS)
        self.d_now, self.d_prev = Signal(PERIOD_BITS), Signal(PERIOD_BITS)
        self.in_now, self.in_prev = Signal(), Signal()
        self.prod = Signal(PERIOD_BITS + 18)
        self.m0 = Signal(M_BITS)
        self.e = Signal(signed(PERIOD_BITS + 18))
        self.res_m = Signal(M_BITS)
        self.res_n = Signal(64)
        self.up, self.down, self.inside = Signal(), Signal(), Signal()
        # -sel.period, free-running: sel is set cycles before the correction compares with it
        self.neg_period = Signal(signed(PERIOD_BITS + 1))
        self.res_e = Signal(signed(PERIOD_BITS + 18))
        # free-running 18x18 partial products and their operands, copied a cycle ahead
        self.dr_lo, self.dr_hi, self.mp_lo, self.mp_hi = (
            Signal(2 * SPLIT, name=n) for n in ("dr_lo", "dr_hi", "mp_lo", "mp_hi"))
        self.op_d, self.op_m0 = Signal(PERIOD_BITS), Signal(M_BITS)
        self.op_recip, self.op_period = Signal(RECIP_BITS), Signal(PERIOD_BITS)


class PulseIndexer(wiring.Component):
    """Indexes detections against the sync intervals and gates them (see the module docstring).

    Latency, throughput
    -------------------
    A tag is taken in ``IDLE`` only: a detection or a bad tag takes 3 cycles (take, compare,
    act). A sync tag then holds the input for the slip check (6 cycles plus 2 per link bit of
    a timing step), the divider (46 cycles, accepted intervals only) and one pass of about 17
    cycles per pending detection: a detection's record leaves about 18 + 17 j cycles after the
    sync tag that closes its interval (j: its place in the pending FIFO). One record per
    detection and per bad tag; an end-of-stream tag flushes the pending ones as ``TRUNCATED``.

    Members
    -------
    tags : In(stream.Signature(Tag))
        Time-ordered tags: detections (channels 0..3), syncs (4), end of stream (7).
    records : Out(stream.Signature(TimingRecord))
        One record per detection, in :func:`~models.ground.timing.run_indexer` order.
    delta : In(PERIOD_BITS)
        Sync-to-pulse delay (TDC LSB), read per detection.
    gate_half : In(16)
        Half gate width, read per detection.
    slips : Out(16)
        Timing steps found by the bit-slip guard (saturating).
    """

    tags: In(stream.Signature(Tag))
    records: Out(stream.Signature(TimingRecord))
    delta: In(PERIOD_BITS)
    gate_half: In(16)
    slips: Out(16)

    def __init__(self, cfg: IndexerConfig | None = None) -> None:
        self._cfg = cfg or IndexerConfig()
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        m.submodules.fifo = fifo = SyncFIFOBuffered(width=Pending.size, depth=self._cfg.depth)
        r = _Registers(self._cfg)
        out = self.records
        with m.If(out.valid & out.ready):
            m.d.sync += out.valid.eq(0)
        self._products(m, r)
        with m.FSM():
            self._intake(m, r, fifo)
            self._sync_check(m, r)
            self._sync_commit(m, r)
            self._reciprocal(m, r)
            self._index(m, r, fifo)
            self._flush(m, r, fifo)
        return m

    def _emit(self, channel, status, n=0, r16=0) -> list:
        """Statements that load the output register with one record."""
        out = self.records
        return [out.valid.eq(1), out.payload.n.eq(n), out.payload.channel.eq(channel),
                out.payload.r16.eq(r16), out.payload.status.eq(status)]

    def _out_free(self):
        # an empty output register only, not the consumer's ready: records are at least 2
        # cycles apart, so a consumer that takes each at once loses no cycle, and
        # ``records.ready`` (the consumer's state, across the die) reaches only
        # ``records.valid``, never the enable of the payload register
        return ~self.records.valid

    def _products(self, m: Module, r: _Registers) -> None:
        """Free-running 18x18 partial products, register to DSP to register with no operand
        mux in between (a shared, FSM-multiplexed multiplier reached only 113 MHz). The
        operands are copies that feed only the DSPs, a cycle behind ``d``, ``sel`` and ``m0``:
        the placer keeps them next to the multipliers (a DSP takes 3.07 ns of the 6.4, and
        ``sel.recip`` placed by the divider left too little for the route to it)."""
        m.d.sync += [r.op_d.eq(r.d), r.op_recip.eq(r.sel.recip), r.op_m0.eq(r.m0),
                     r.op_period.eq(r.sel.period)]
        m.d.sync += [r.dr_lo.eq(r.op_d[:SPLIT] * r.op_recip),
                     r.dr_hi.eq(r.op_d[SPLIT:] * r.op_recip),
                     r.mp_lo.eq(r.op_m0 * r.op_period[:SPLIT]),
                     r.mp_hi.eq(r.op_m0 * r.op_period[SPLIT:]),
                     r.neg_period.eq(-r.sel.period)]

    def _intake(self, m: Module, r: _Registers, fifo: SyncFIFOBuffered) -> None:
        """``IDLE``, ``DECODE``, ``ACT``: take a tag, compare it, then queue a detection, emit a
        status record or start the sync check."""
        cfg = self._cfg
        out = self.records
        with m.State("IDLE"):
            # the buffered FIFO takes a cycle to move an entry to its output register, so
            # w_rdy may lag the level: wait for it unless the tag will overflow anyway
            # (only this FSM writes the FIFO and the output, so both stay free until ACT)
            # (~out.valid rather than out_free: the consumer's ready, through the top's
            # fork, stays off this path; a tag waits one cycle after a record at worst)
            can_take = ~out.valid & (fifo.w_rdy | r.full)
            m.d.comb += self.tags.ready.eq(can_take)
            with m.If(self.tags.valid & can_take):
                m.d.sync += r.tag.eq(self.tags.payload)
                m.next = "DECODE"
        with m.State("DECODE"):
            # the 64-bit compares and the period subtraction get a cycle of their own
            m.d.sync += [
                r.older.eq(r.tag.time < r.last),
                r.sync_raw.eq(r.tag.time - r.now.end),
                r.corr.eq(r.tag.time - r.shift),
                r.consecutive.eq(r.have_cur & (r.tag.frame == r.frame_next)),
            ]
            m.next = "ACT"
        with m.State("ACT"):
            m.next = "IDLE"
            ch = r.tag.channel
            with m.If(ch == CH_END):
                m.d.sync += r.last.eq(0)
                m.next = "FLUSH"
            with m.Elif(r.older):
                m.d.sync += self._emit(ch, Status.ORDER)
            with m.Else():
                m.d.sync += r.last.eq(r.tag.time)
                with m.If(ch < DETECTORS):
                    with m.If(r.full):
                        m.d.sync += self._emit(ch, Status.OVERFLOW)
                    with m.Else():
                        entry = Pending(fifo.w_data)
                        m.d.comb += [fifo.w_en.eq(1), entry.time.eq(r.tag.time),
                                     entry.channel.eq(ch[:2])]
                        m.d.sync += [r.pending.eq(r.pending + 1),
                                     r.full.eq(r.pending == cfg.depth - 1)]
                with m.Elif(ch == CH_SYNC):
                    m.next = "SYNC_PERIOD"
                with m.Else():
                    m.d.sync += self._emit(ch, Status.BAD_CHANNEL)

    def _sync_check(self, m: Module, r: _Registers) -> None:
        """``SYNC_PERIOD`` .. ``SLIP_APPLY``: the bit-slip guard, one carry chain per cycle
        (subtract, compare, step), then whole link bits out of the step, one per two cycles
        (at most ``MAX_SLIP_BITS``): compares registered, then applied."""
        cfg = self._cfg
        half_bit = cfg.bit_lsb // 2
        max_step = MAX_SLIP_BITS * cfg.bit_lsb
        with m.State("SYNC_PERIOD"):
            m.d.sync += r.sync_period.eq(r.sync_raw - r.shift)
            m.next = "SYNC_DEV"
        with m.State("SYNC_DEV"):
            m.d.sync += [
                r.in_range.eq((r.sync_period >= cfg.p_min) & (r.sync_period <= cfg.p_max)),
                r.near.eq(r.sync_period[PERIOD_BITS + 1:] == 0),
                r.dev.eq(r.sync_period[:PERIOD_BITS + 1] - r.ref),
                r.acc.eq(0),
            ]
            m.next = "SYNC_STEP"
        with m.State("SYNC_STEP"):
            dev = r.dev
            m.d.sync += [
                r.jump.eq(r.ref_valid & (~r.near | (dev > cfg.slip_tol) | (dev < -cfg.slip_tol))),
                r.far.eq(~r.near | (dev > max_step) | (dev < -max_step)),
            ]
            m.next = "SLIP_COMPARE"
        with m.State("SLIP_COMPARE"):
            m.d.sync += [r.dev_hi.eq(r.dev > half_bit), r.dev_lo.eq(r.dev < -half_bit),
                         r.rest_bad.eq((r.dev > cfg.slip_tol) | (r.dev < -cfg.slip_tol)),
                         r.go.eq(r.consecutive & ~r.hold & r.jump & ~r.far & r.confirmed)]
            m.next = "SLIP_APPLY"
        with m.State("SLIP_APPLY"):
            m.next = "SLIP_COMPARE"
            with m.If(r.go & r.dev_hi):
                m.d.sync += [r.dev.eq(r.dev - cfg.bit_lsb), r.acc.eq(r.acc + cfg.bit_lsb)]
            with m.Elif(r.go & r.dev_lo):
                m.d.sync += [r.dev.eq(r.dev + cfg.bit_lsb), r.acc.eq(r.acc - cfg.bit_lsb)]
            with m.Else():
                m.next = "SYNC_COMMIT"

    def _sync_commit(self, m: Module, r: _Registers) -> None:
        """``SYNC_COMMIT``: the new interval and its status; on to the divider (accepted
        intervals) or straight to the pending detections."""
        now = r.now
        with m.State("SYNC_COMMIT"):
            # the "now" registers hold the previous sync in start/end until here
            m.d.sync += [
                r.prev.eq(now),
                now.start.eq(now.end),
                now.end.eq(r.corr),
                now.period.eq(r.sync_period),
                now.frame.eq(r.cur_frame),
                r.cur_frame.eq(r.tag.frame),
                r.frame_next.eq(r.tag.frame + 1),
                r.have_cur.eq(1),
                r.rem.eq(0), r.quo.eq(0), r.step.eq(0), r.first.eq(1),
            ]
            m.next = "DRAIN"
            with m.If(~r.consecutive):
                m.d.sync += [now.status.eq(Status.NO_SYNC), now.end.eq(r.tag.time),
                             *self._reacquire(r)]
            with m.Elif(r.hold):
                m.d.sync += now.status.eq(Status.BAD_PERIOD)
            with m.Elif(r.jump):
                m.d.sync += now.status.eq(Status.BAD_PERIOD)
                with m.If(self.slips != 0xFFFF):
                    m.d.sync += self.slips.eq(self.slips + 1)
                with m.If(~r.confirmed | r.far | r.rest_bad):
                    m.d.sync += r.hold.eq(1)
                with m.Else():
                    m.d.sync += [r.shift.eq(r.shift + r.acc), now.end.eq(r.corr - r.acc)]
            with m.Elif(~r.in_range):
                m.d.sync += now.status.eq(Status.BAD_PERIOD)
            with m.Elif(~r.ref_valid):
                # first interval after an acquisition: the reference, on probation
                m.d.sync += [now.status.eq(Status.NO_SYNC), r.ref.eq(r.sync_period),
                             r.ref_valid.eq(1)]
            with m.Else():
                m.d.sync += [now.status.eq(Status.ACCEPTED), r.ref.eq(r.sync_period),
                             r.confirmed.eq(1)]
                m.next = "DIVIDE"

    @staticmethod
    def _reacquire(r: _Registers) -> list:
        """Forget the slip guard's state: the next intervals acquire the sync anew."""
        return [r.shift.eq(0), r.ref_valid.eq(0), r.confirmed.eq(0), r.hold.eq(0)]

    def _reciprocal(self, m: Module, r: _Registers) -> None:
        """``DIVIDE``, ``STORE_RECIP``: restoring division of ``2**RECIP_SHIFT`` by the period,
        one quotient bit per cycle."""
        with m.State("DIVIDE"):
            # a value, not a signal assigned in this state: no state decode before the chains
            trial = Cat(r.first, r.rem)
            fits = trial >= r.now.period
            m.d.sync += [
                r.rem.eq(Mux(fits, trial - r.now.period, trial)),
                r.quo.eq(Cat(fits, r.quo)),
                r.step.eq(r.step + 1),
                r.first.eq(0),
            ]
            with m.If(r.step == RECIP_SHIFT):
                m.next = "STORE_RECIP"
        with m.State("STORE_RECIP"):
            m.d.sync += r.now.recip.eq(r.quo)
            m.next = "DRAIN"

    def _index(self, m: Module, r: _Registers, fifo: SyncFIFOBuffered) -> None:
        """``DRAIN`` .. ``EMIT_STATUS``: one pending detection per pass: offset, interval
        select, ``m0 = round(d R)``, remainder ``e = d - m0 P`` corrected to ``|2e| < P``, gate,
        record."""
        gate = Signal(PERIOD_BITS + 17)
        m.d.comb += gate.eq(self.gate_half << 16)
        sel = r.sel
        with m.State("DRAIN"):
            with m.If(r.pending == 0):
                m.next = "IDLE"
            with m.Elif(fifo.r_rdy):
                # block RAM output straight into a register: its clock-to-out is 4 ns
                entry = Pending(fifo.r_data)
                m.d.comb += fifo.r_en.eq(1)
                m.d.sync += [
                    r.pending.eq(r.pending - 1), r.full.eq(0),
                    r.det_time.eq(entry.time),
                    r.det_ch.eq(entry.channel),
                ]
                m.next = "OFFSET"
        with m.State("OFFSET"):
            m.d.sync += r.u.eq(r.det_time - self.delta)
            m.next = "COMPARE"
        with m.State("COMPARE"):
            now, prev, u = r.now, r.prev, r.u
            m.d.sync += [
                r.in_now.eq((u >= now.start) & (u < now.end)),
                r.in_prev.eq((u >= prev.start) & (u < now.start)),
                r.d_now.eq(u - now.start),
                r.d_prev.eq(u - prev.start),
            ]
            m.next = "SELECT"
        with m.State("SELECT"):
            with m.If(r.in_now):
                m.d.sync += [sel.eq(r.now), r.d.eq(r.d_now)]
            with m.Elif(r.in_prev):
                m.d.sync += [sel.eq(r.prev), r.d.eq(r.d_prev)]
            with m.Else():
                m.d.sync += sel.status.eq(Status.NO_SYNC)
            m.next = "MULTIPLY"
        with m.State("MULTIPLY"):
            # the operand copies take d and sel.recip in this cycle, the products them in the
            # next
            with m.If(sel.status != Status.ACCEPTED):
                m.next = "EMIT_STATUS"
            with m.Else():
                m.next = "PRODUCT"
        with m.State("PRODUCT"):
            m.next = "SUM"
        with m.State("SUM"):
            m.d.sync += r.prod.eq((r.dr_hi << SPLIT) + r.dr_lo)
            m.next = "ROUND"
        with m.State("ROUND"):
            m.d.sync += r.m0.eq(((r.prod >> Q_SHIFT) + 1) >> 1)
            m.next = "MULTIPLY_P"
        with m.State("MULTIPLY_P"):
            m.next = "PRODUCT_P"
        with m.State("PRODUCT_P"):
            m.next = "SUM_P"
        with m.State("SUM_P"):
            m.d.sync += r.prod.eq((r.mp_hi << SPLIT) + r.mp_lo)
            m.next = "REMAINDER"
        with m.State("REMAINDER"):
            m.d.sync += r.e.eq((r.d << 16) - r.prod)
            m.next = "CORRECT"
        with m.State("CORRECT"):
            # compare in one cycle, apply in the next (each a single carry chain)
            twice = r.e << 1
            m.d.sync += [r.up.eq(twice >= sel.period), r.down.eq(twice < r.neg_period)]
            m.next = "APPLY"
        with m.State("APPLY"):
            with m.If(r.up):
                m.d.sync += [r.res_m.eq(r.m0 + 1), r.res_e.eq(r.e - sel.period)]
            with m.Elif(r.down):
                m.d.sync += [r.res_m.eq(r.m0 - 1), r.res_e.eq(r.e + sel.period)]
            with m.Else():
                m.d.sync += [r.res_m.eq(r.m0), r.res_e.eq(r.e)]
            m.next = "GATE"
        with m.State("GATE"):
            m.d.sync += [r.inside.eq((r.res_e <= gate) & (r.res_e >= -gate)),
                         r.res_n.eq((sel.frame << 16) + r.res_m)]
            m.next = "EMIT"
        with m.State("EMIT"), m.If(self._out_free()):
            status = Mux(r.inside, Status.ACCEPTED, Status.OUTSIDE_GATE)
            m.d.sync += self._emit(r.det_ch, status, r.res_n, r.res_e >> R16_SHIFT)
            m.next = "DRAIN"
        with m.State("EMIT_STATUS"), m.If(self._out_free()):
            m.d.sync += self._emit(r.det_ch, sel.status)
            m.next = "DRAIN"

    def _flush(self, m: Module, r: _Registers, fifo: SyncFIFOBuffered) -> None:
        """``FLUSH``, ``FLUSH_EMIT``: end of stream: every pending detection leaves as
        ``TRUNCATED``, then the intervals and the slip guard start afresh."""
        with m.State("FLUSH"):
            with m.If(r.pending == 0):
                # the next sync turns "now" into "prev": an empty interval, as in the model
                m.d.sync += [r.have_cur.eq(0), r.now.status.eq(Status.NO_SYNC),
                             r.now.start.eq(0), *self._reacquire(r)]
                m.next = "IDLE"
            with m.Elif(fifo.r_rdy):
                m.d.comb += fifo.r_en.eq(1)
                m.d.sync += [r.pending.eq(r.pending - 1), r.full.eq(0),
                             r.det_ch.eq(Pending(fifo.r_data).channel)]
                m.next = "FLUSH_EMIT"
        with m.State("FLUSH_EMIT"), m.If(self._out_free()):
            m.d.sync += self._emit(r.det_ch, Status.TRUNCATED)
            m.next = "FLUSH"
