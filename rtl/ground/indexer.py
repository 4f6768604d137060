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
meets the fabric clock without a deep pipeline: the block handles one detection per 15 cycles
(10 Mtags/s at 156.25 MHz), two orders of magnitude above the detection rate of a pass.
``delta`` and ``gate_half`` are run-time registers (calibration writes ``delta``).

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
from amaranth.lib import stream, wiring
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


class _Interval:
    """Registers of one sync interval ``[start, end)``."""

    def __init__(self, name: str) -> None:
        self.start = Signal(TIME_BITS, name=f"{name}_start")
        self.end = Signal(TIME_BITS, name=f"{name}_end")
        self.period = Signal(PERIOD_BITS, name=f"{name}_period")
        self.recip = Signal(RECIP_BITS, name=f"{name}_recip")
        self.frame = Signal(FRAME_BITS, name=f"{name}_frame")
        self.status = Signal(Status, name=f"{name}_status", init=Status.NO_SYNC)

    def fields(self) -> list[Signal]:
        return [self.start, self.end, self.period, self.recip, self.frame, self.status]

    def copy_from(self, other: "_Interval") -> list:
        return [a.eq(b) for a, b in zip(self.fields(), other.fields(), strict=True)]


class PulseIndexer(wiring.Component):
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
        cfg = self._cfg
        m.submodules.fifo = fifo = SyncFIFOBuffered(width=TIME_BITS + 2, depth=cfg.depth)
        pending = Signal(range(cfg.depth + 1))
        # pending == depth, kept as a register: the compare stays off the tags.ready path
        full = Signal()

        last = Signal(TIME_BITS)
        have_cur = Signal()
        cur_frame = Signal(FRAME_BITS)
        now, prev = _Interval("now"), _Interval("prev")

        out = self.records
        out_free = ~out.valid | out.ready
        with m.If(out.valid & out.ready):
            m.d.sync += out.valid.eq(0)

        def emit(channel, status, n=0, r16=0):
            return [out.valid.eq(1), out.payload.n.eq(n), out.payload.channel.eq(channel),
                    out.payload.r16.eq(r16), out.payload.status.eq(status)]

        tag = Signal(Tag)
        sync_raw = Signal(TIME_BITS)
        sync_period = Signal(TIME_BITS)
        corr = Signal(TIME_BITS)  # sync time less the accumulated slip correction
        shift = Signal(signed(32))
        ref = Signal(PERIOD_BITS)
        ref_valid = Signal()
        dev = Signal(signed(PERIOD_BITS + 3))
        acc = Signal(signed(20))  # whole-bit part of a step, added to shift on commit
        in_range, near, jump, far, hold = Signal(), Signal(), Signal(), Signal(), Signal()
        confirmed, go, dev_hi, dev_lo, rest_bad = (Signal(name=n) for n in (
            "confirmed", "go", "dev_hi", "dev_lo", "rest_bad"))
        half_bit = cfg.bit_lsb // 2
        max_step = MAX_SLIP_BITS * cfg.bit_lsb
        older, consecutive = Signal(), Signal()
        frame_next = Signal(FRAME_BITS, init=1)

        # divider state
        rem = Signal(PERIOD_BITS + 1)
        quo = Signal(RECIP_SHIFT + 1)
        step = Signal(range(RECIP_SHIFT + 2))

        # per-detection datapath registers
        det_time = Signal(TIME_BITS)
        det_ch = Signal(2)
        u = Signal(signed(TIME_BITS + 2))
        sel = _Interval("sel")
        d = Signal(PERIOD_BITS)
        d_now, d_prev = Signal(PERIOD_BITS), Signal(PERIOD_BITS)
        in_now, in_prev = Signal(), Signal()
        prod = Signal(PERIOD_BITS + 18)
        m0 = Signal(M_BITS)
        e = Signal(signed(PERIOD_BITS + 18))
        res_m = Signal(M_BITS)
        res_n = Signal(64)
        up, down, inside = Signal(), Signal(), Signal()
        res_e = Signal(signed(PERIOD_BITS + 18))
        gate = Signal(PERIOD_BITS + 17)
        m.d.comb += gate.eq(self.gate_half << 16)

        # Free-running 18x18 partial products, register to DSP to register with no operand mux
        # in between (a shared, FSM-multiplexed multiplier reached only 113 MHz).
        dr_lo, dr_hi, mp_lo, mp_hi = (Signal(2 * SPLIT, name=n)
                                      for n in ("dr_lo", "dr_hi", "mp_lo", "mp_hi"))
        m.d.sync += [dr_lo.eq(d[:SPLIT] * sel.recip), dr_hi.eq(d[SPLIT:] * sel.recip),
                     mp_lo.eq(m0 * sel.period[:SPLIT]), mp_hi.eq(m0 * sel.period[SPLIT:])]

        with m.FSM():
            with m.State("IDLE"):
                # the buffered FIFO takes a cycle to move an entry to its output register, so
                # w_rdy may lag the level: wait for it unless the tag will overflow anyway
                # (only this FSM writes the FIFO and the output, so both stay free until ACT)
                # (~out.valid rather than out_free: the consumer's ready, through the top's
                # fork, stays off this path; a tag waits one cycle after a record at worst)
                can_take = ~out.valid & (fifo.w_rdy | full)
                m.d.comb += self.tags.ready.eq(can_take)
                with m.If(self.tags.valid & can_take):
                    m.d.sync += tag.eq(self.tags.payload)
                    m.next = "DECODE"
            with m.State("DECODE"):
                # the 64-bit compares and the period subtraction get a cycle of their own
                m.d.sync += [
                    older.eq(tag.time < last),
                    sync_raw.eq(tag.time - now.end),
                    corr.eq(tag.time - shift),
                    consecutive.eq(have_cur & (tag.frame == frame_next)),
                ]
                m.next = "ACT"
            with m.State("ACT"):
                m.next = "IDLE"
                ch = tag.channel
                with m.If(ch == CH_END):
                    m.d.sync += last.eq(0)
                    m.next = "FLUSH"
                with m.Elif(older):
                    m.d.sync += emit(ch, Status.ORDER)
                with m.Else():
                    m.d.sync += last.eq(tag.time)
                    with m.If(ch < DETECTORS):
                        with m.If(full):
                            m.d.sync += emit(ch, Status.OVERFLOW)
                        with m.Else():
                            m.d.comb += [fifo.w_en.eq(1),
                                         fifo.w_data.eq(Cat(tag.time, ch[:2]))]
                            m.d.sync += [pending.eq(pending + 1),
                                         full.eq(pending == cfg.depth - 1)]
                    with m.Elif(ch == CH_SYNC):
                        m.next = "SYNC_PERIOD"
                    with m.Else():
                        m.d.sync += emit(ch, Status.BAD_CHANNEL)

            # bit-slip guard: one carry chain per cycle (subtract, compare, step)
            with m.State("SYNC_PERIOD"):
                m.d.sync += sync_period.eq(sync_raw - shift)
                m.next = "SYNC_DEV"
            with m.State("SYNC_DEV"):
                m.d.sync += [
                    in_range.eq((sync_period >= cfg.p_min) & (sync_period <= cfg.p_max)),
                    near.eq(sync_period[PERIOD_BITS + 1:] == 0),
                    dev.eq(sync_period[:PERIOD_BITS + 1] - ref),
                    acc.eq(0),
                ]
                m.next = "SYNC_STEP"
            with m.State("SYNC_STEP"):
                m.d.sync += [
                    jump.eq(ref_valid & (~near | (dev > cfg.slip_tol) | (dev < -cfg.slip_tol))),
                    far.eq(~near | (dev > max_step) | (dev < -max_step)),
                ]
                m.next = "SLIP_COMPARE"
            # whole link bits out of the step, one per two cycles (at most MAX_SLIP_BITS):
            # compares registered, then applied
            with m.State("SLIP_COMPARE"):
                m.d.sync += [dev_hi.eq(dev > half_bit), dev_lo.eq(dev < -half_bit),
                             rest_bad.eq((dev > cfg.slip_tol) | (dev < -cfg.slip_tol)),
                             go.eq(consecutive & ~hold & jump & ~far & confirmed)]
                m.next = "SLIP_APPLY"
            with m.State("SLIP_APPLY"):
                m.next = "SLIP_COMPARE"
                with m.If(go & dev_hi):
                    m.d.sync += [dev.eq(dev - cfg.bit_lsb), acc.eq(acc + cfg.bit_lsb)]
                with m.Elif(go & dev_lo):
                    m.d.sync += [dev.eq(dev + cfg.bit_lsb), acc.eq(acc - cfg.bit_lsb)]
                with m.Else():
                    m.next = "SYNC_COMMIT"
            with m.State("SYNC_COMMIT"):
                # the "now" registers hold the previous sync in start/end until here
                m.d.sync += [
                    prev.copy_from(now),
                    now.start.eq(now.end),
                    now.end.eq(corr),
                    now.period.eq(sync_period),
                    now.frame.eq(cur_frame),
                    cur_frame.eq(tag.frame),
                    frame_next.eq(tag.frame + 1),
                    have_cur.eq(1),
                    rem.eq(0), quo.eq(0), step.eq(0),
                ]
                m.next = "DRAIN"
                with m.If(~consecutive):
                    m.d.sync += [now.status.eq(Status.NO_SYNC), now.end.eq(tag.time),
                                 shift.eq(0), ref_valid.eq(0), confirmed.eq(0), hold.eq(0)]
                with m.Elif(hold):
                    m.d.sync += now.status.eq(Status.BAD_PERIOD)
                with m.Elif(jump):
                    m.d.sync += now.status.eq(Status.BAD_PERIOD)
                    with m.If(self.slips != 0xFFFF):
                        m.d.sync += self.slips.eq(self.slips + 1)
                    with m.If(~confirmed | far | rest_bad):
                        m.d.sync += hold.eq(1)
                    with m.Else():
                        m.d.sync += [shift.eq(shift + acc), now.end.eq(corr - acc)]
                with m.Elif(~in_range):
                    m.d.sync += now.status.eq(Status.BAD_PERIOD)
                with m.Elif(~ref_valid):
                    # first interval after an acquisition: the reference, on probation
                    m.d.sync += [now.status.eq(Status.NO_SYNC), ref.eq(sync_period),
                                 ref_valid.eq(1)]
                with m.Else():
                    m.d.sync += [now.status.eq(Status.ACCEPTED), ref.eq(sync_period),
                                 confirmed.eq(1)]
                    m.next = "DIVIDE"

            with m.State("DIVIDE"):
                # restoring division of 2**RECIP_SHIFT by the period, one quotient bit per cycle
                trial = Signal(PERIOD_BITS + 2)
                m.d.comb += trial.eq(Cat(step == 0, rem))
                fits = trial >= now.period
                m.d.sync += [
                    rem.eq(Mux(fits, trial - now.period, trial)),
                    quo.eq(Cat(fits, quo)),
                    step.eq(step + 1),
                ]
                with m.If(step == RECIP_SHIFT):
                    m.next = "STORE_RECIP"
            with m.State("STORE_RECIP"):
                m.d.sync += now.recip.eq(quo)
                m.next = "DRAIN"

            with m.State("DRAIN"):
                with m.If(pending == 0):
                    m.next = "IDLE"
                with m.Elif(fifo.r_rdy):
                    # block RAM output straight into a register: its clock-to-out is 4 ns
                    m.d.comb += fifo.r_en.eq(1)
                    m.d.sync += [
                        pending.eq(pending - 1), full.eq(0),
                        det_time.eq(fifo.r_data[:TIME_BITS]),
                        det_ch.eq(fifo.r_data[TIME_BITS:]),
                    ]
                    m.next = "OFFSET"
            with m.State("OFFSET"):
                m.d.sync += u.eq(det_time - self.delta)
                m.next = "COMPARE"
            with m.State("COMPARE"):
                m.d.sync += [
                    in_now.eq((u >= now.start) & (u < now.end)),
                    in_prev.eq((u >= prev.start) & (u < now.start)),
                    d_now.eq(u - now.start),
                    d_prev.eq(u - prev.start),
                ]
                m.next = "SELECT"
            with m.State("SELECT"):
                with m.If(in_now):
                    m.d.sync += sel.copy_from(now)
                    m.d.sync += d.eq(d_now)
                with m.Elif(in_prev):
                    m.d.sync += sel.copy_from(prev)
                    m.d.sync += d.eq(d_prev)
                with m.Else():
                    m.d.sync += sel.status.eq(Status.NO_SYNC)
                m.next = "MULTIPLY"
            with m.State("MULTIPLY"):
                # the free-running products below take d and sel.recip in this cycle
                with m.If(sel.status != Status.ACCEPTED):
                    m.next = "EMIT_STATUS"
                with m.Else():
                    m.next = "SUM"
            with m.State("SUM"):
                m.d.sync += prod.eq((dr_hi << SPLIT) + dr_lo)
                m.next = "ROUND"
            with m.State("ROUND"):
                m.d.sync += m0.eq(((prod >> Q_SHIFT) + 1) >> 1)
                m.next = "MULTIPLY_P"
            with m.State("MULTIPLY_P"):
                m.next = "SUM_P"
            with m.State("SUM_P"):
                m.d.sync += prod.eq((mp_hi << SPLIT) + mp_lo)
                m.next = "REMAINDER"
            with m.State("REMAINDER"):
                m.d.sync += e.eq((d << 16) - prod)
                m.next = "CORRECT"
            with m.State("CORRECT"):
                # compare in one cycle, apply in the next (each a single carry chain)
                twice = e << 1
                m.d.sync += [up.eq(twice >= sel.period), down.eq(twice < -sel.period)]
                m.next = "APPLY"
            with m.State("APPLY"):
                with m.If(up):
                    m.d.sync += [res_m.eq(m0 + 1), res_e.eq(e - sel.period)]
                with m.Elif(down):
                    m.d.sync += [res_m.eq(m0 - 1), res_e.eq(e + sel.period)]
                with m.Else():
                    m.d.sync += [res_m.eq(m0), res_e.eq(e)]
                m.next = "GATE"
            with m.State("GATE"):
                m.d.sync += [inside.eq((res_e <= gate) & (res_e >= -gate)),
                             res_n.eq((sel.frame << 16) + res_m)]
                m.next = "EMIT"
            with m.State("EMIT"), m.If(out_free):
                status = Mux(inside, Status.ACCEPTED, Status.OUTSIDE_GATE)
                m.d.sync += emit(det_ch, status, res_n, res_e >> R16_SHIFT)
                m.next = "DRAIN"
            with m.State("EMIT_STATUS"), m.If(out_free):
                m.d.sync += emit(det_ch, sel.status)
                m.next = "DRAIN"

            with m.State("FLUSH"):
                with m.If(pending == 0):
                    # the next sync turns "now" into "prev": an empty interval, as in the model
                    m.d.sync += [have_cur.eq(0), now.status.eq(Status.NO_SYNC), now.start.eq(0),
                                 shift.eq(0), ref_valid.eq(0), confirmed.eq(0), hold.eq(0)]
                    m.next = "IDLE"
                with m.Elif(fifo.r_rdy):
                    m.d.comb += fifo.r_en.eq(1)
                    m.d.sync += [pending.eq(pending - 1), full.eq(0),
                                 det_ch.eq(fifo.r_data[TIME_BITS:])]
                    m.next = "FLUSH_EMIT"
            with m.State("FLUSH_EMIT"), m.If(out_free):
                m.d.sync += emit(det_ch, Status.TRUNCATED)
                m.next = "FLUSH"
        return m
