"""Code-density calibration of one TDC channel (SPEC 4.0), bit-exact with
:func:`models.ground.tdc_calibration.run_calibrator` (its docstring states the cycle timing).

Overview
--------
::

    hits --+-- calibration --> histogram RAM (K codes x log2(N)+1 bits)
           |                      | N hits: walk K codes, cum += h,
           |                      v entry = (T (2 cum + h) + N) >> (log2 N + 1)
           |                   table RAM, 2 banks x K entries (integer ps)
           |                      | bank switch at frame_strobe once the new bank is ready
           +-- detector ----> table[active][fine] --> time = (coarse - skew) - entry --> tags

One histogram block RAM and one table block RAM (two banks; 2 x 320 x 13 bits fit one ECP5
DP16KD). The histogram is cleared while it is walked, so a new one starts as soon as a table is
written. A table built while the previous new table still waits for its strobe waits with it
(the histogram stays closed, its calibration hits are dropped and counted): the table in use
never changes under a frame.
"""

from amaranth.hdl import Cat, Module, Signal, signed
from amaranth.lib import memory, stream, wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from models.constants import FABRIC_CLOCK_PS, TDC_CAL_HITS, TDC_CAL_PERIOD, TDC_SKEW_BITS, TDC_TAPS
from models.ground.tdc import COUNTER_BITS
from models.ground.tdc_calibration import BUILD_PIPELINE, TABLE_BITS, CalibratorConfig
from rtl.common.counters import count_events, latch_events
from rtl.ground.layouts import RawHit, Tag


class TdcCalibrator(wiring.Component):
    """Calibrated tags of one TDC channel from its raw hits.

    Latency 3 cycles from an accepted detector hit to its tag (skew subtraction and table
    read, table entry register, entry subtraction;
    :data:`models.ground.tdc_calibration.CALIBRATOR_LATENCY`).
    Throughput one hit per cycle. ``hits.ready`` follows ``tags``: it is low only while a tag
    waits for ``tags.ready`` (a stalled output stalls the input; in front of a TDC channel the
    consumer must always accept). Calibration hits never leave as tags; detector hits that find
    no active table are dropped and counted.

    Members
    -------
    hits : In(stream.Signature(RawHit))
        Raw hits of the channel; ``calibration`` hits fill the histogram.
    tags : Out(stream.Signature(Tag))
        ``time = coarse - table[fine] - skew`` (mod 2**64), the channel, frame 0.
    skew : In(signed(TDC_SKEW_BITS))
        Per-channel skew in ps, subtracted from every tag (static during a run).
    frame_strobe : In(1)
        One-cycle pulse at each sync frame event: a new table that is ready becomes active at
        the first strobe (hits accepted from the next cycle use it).
    clear : In(1)
        Clears the counters and the ``starved`` flag.
    calibrated : Out(1)
        A table is active (the initial one or a built one).
    starved : Out(1)
        Sticky: a histogram was not full after ``starve_cycles`` cycles of collection (the
        active table stays in use).
    tables_built, tables_switched, starve_events, uncalibrated, cal_dropped : Out(32)
        Counters (wrap at 2**32): tables written, tables made active, starvations, detector
        hits dropped for want of a table, calibration hits dropped while the histogram was
        closed (cleared after reset, full, or walked).

    Parameters
    ----------
    channel, taps, cal_hits, cal_period, starve_cycles, table_bits, initial :
        As :class:`models.ground.tdc_calibration.CalibratorConfig` (its checks raise a
        ``ValueError`` naming the numbers). ``initial``: the start-up table, in bank 0 from
        configuration, so tags are calibrated from the first hit.
    """

    def __init__(self, channel: int, taps: int = TDC_TAPS, cal_hits: int = TDC_CAL_HITS,
                 cal_period: int = TDC_CAL_PERIOD, starve_cycles: int | None = None,
                 table_bits: int = TABLE_BITS, initial: tuple[int, ...] | None = None) -> None:
        if starve_cycles is None:
            starve_cycles = 2 * cal_hits * cal_period
        self.config = CalibratorConfig(
            channel=channel, taps=taps, cal_hits=cal_hits, cal_period=cal_period,
            starve_cycles=starve_cycles, table_bits=table_bits,
            initial=None if initial is None else tuple(int(v) for v in initial))
        super().__init__({
            "hits": In(stream.Signature(RawHit)),
            "tags": Out(stream.Signature(Tag)),
            "skew": In(signed(TDC_SKEW_BITS)),
            "frame_strobe": In(1),
            "clear": In(1),
            "calibrated": Out(1),
            "starved": Out(1),
            "tables_built": Out(COUNTER_BITS),
            "tables_switched": Out(COUNTER_BITS),
            "starve_events": Out(COUNTER_BITS),
            "uncalibrated": Out(COUNTER_BITS),
            "cal_dropped": Out(COUNTER_BITS),
        })

    @classmethod
    def from_config(cls, cfg: CalibratorConfig) -> "TdcCalibrator":
        """The calibrator of a model configuration (its ``skew`` is the port's to drive)."""
        return cls(cfg.channel, taps=cfg.taps, cal_hits=cfg.cal_hits, cal_period=cfg.cal_period,
                   starve_cycles=cfg.starve_cycles, table_bits=cfg.table_bits,
                   initial=cfg.initial)

    def elaborate(self, platform):
        m = Module()
        cfg = self.config
        codes = cfg.taps
        abits = ceil_log2(codes)
        nbits = cfg.cal_hits.bit_length()  # log2 N + 1: a bin may hold all N hits
        init = [0] * (2 << abits)
        if cfg.initial is not None:
            init[:codes] = cfg.initial
        m.submodules.table = table = memory.Memory(shape=cfg.table_bits, depth=2 << abits,
                                                   init=init)
        m.submodules.hist = hist = memory.Memory(shape=nbits, depth=1 << abits, init=[])
        wr_t = table.write_port()
        rd_t = table.read_port(transparent_for=())
        wr_h = hist.write_port()
        rd_h = hist.read_port()

        active = Signal()
        have = Signal(init=cfg.initial is not None)
        pending = Signal()
        m.d.comb += self.calibrated.eq(have)

        # detector path: subtract the skew and read the active bank at acceptance, register
        # the entry (a block RAM's clock-to-out is most of a period), subtract it in the
        # output register
        hit = self.hits.payload
        en = ~self.tags.valid | self.tags.ready
        accept = self.hits.valid & en
        cal_in = accept & hit.calibration
        lost = accept & ~hit.calibration & ~have
        a_valid, b_valid = Signal(), Signal()
        a_coarse, b_coarse = Signal.like(hit.coarse), Signal.like(hit.coarse)
        b_entry = Signal(cfg.table_bits)
        m.d.comb += [
            self.hits.ready.eq(en),
            rd_t.en.eq(en),
            rd_t.addr.eq(Cat(hit.fine[:abits], active)),
        ]
        with m.If(en):
            m.d.sync += [
                a_valid.eq(accept & ~hit.calibration & have),
                a_coarse.eq(hit.coarse - self.skew),
                b_valid.eq(a_valid),
                b_coarse.eq(a_coarse),
                b_entry.eq(rd_t.data),
                self.tags.valid.eq(b_valid),
                self.tags.payload.time.eq(b_coarse - b_entry),
                self.tags.payload.channel.eq(cfg.channel),
                self.tags.payload.frame.eq(0),
            ]

        # calibration path: histogram read-modify-write in three cycles (accept and read,
        # register the block RAM's output, add and write: its clock-to-out is most of a period),
        # then a walk over the codes. The read is not transparent; the increments of the two
        # hits before a hit are still in flight when it reads, so a hit adds one plus one for
        # each of them on the same code.
        count = Signal(range(cfg.cal_hits + 1))
        timer = Signal(range(cfg.starve_cycles))
        walk = Signal(range(codes + 1))
        # walk == codes - 1, count == cal_hits - 1, timer == starve_cycles - 1, each kept with
        # every assignment to its counter: flops, not compares, drive the state machine
        last = Signal(init=codes == 1)
        count_last = Signal(init=cfg.cal_hits == 1)
        timer_last = Signal(init=cfg.starve_cycles == 1)
        cum = Signal(nbits)
        r1_valid, r2_valid = Signal(), Signal()
        r1_addr, r2_addr = Signal(abits), Signal(abits)
        r1_inc, r2_inc = Signal(2), Signal(2)
        r2_data = Signal(nbits)
        collect = Signal()
        take = cal_in & collect
        m.d.sync += [
            r1_valid.eq(take), r1_addr.eq(hit.fine[:abits]),
            r1_inc.eq(1 + (r1_valid & (r1_addr == hit.fine[:abits]))
                      + (r2_valid & (r2_addr == hit.fine[:abits]))),
            r2_valid.eq(r1_valid), r2_addr.eq(r1_addr), r2_inc.eq(r1_inc),
            r2_data.eq(rd_h.data),
        ]
        m.d.comb += [
            wr_h.addr.eq(r2_addr),
            wr_h.data.eq(r2_data + r2_inc),
            wr_h.en.eq(r2_valid),
        ]
        # The entry in three registered stages (BUILD_PIPELINE): the histogram's output, the
        # running sum, the scaled centre; a block RAM's output meets no adder, and the
        # multiplier's output meets no block RAM input, in one cycle.
        h = Signal(nbits)
        h_addr = Signal(abits)
        h_valid = Signal()
        twice = Signal(nbits + 1)
        twice_addr = Signal(abits)
        twice_valid = Signal()
        scaled = Signal(nbits + 1 + FABRIC_CLOCK_PS.bit_length())
        scaled_addr = Signal(abits)
        scaled_valid = Signal()
        walked = Signal(BUILD_PIPELINE)  # the walk's last code, moving down the pipeline
        m.d.sync += [
            h_valid.eq(0), h.eq(rd_h.data),
            twice_valid.eq(h_valid), twice_addr.eq(h_addr),
            scaled.eq(FABRIC_CLOCK_PS * twice), scaled_addr.eq(twice_addr),
            scaled_valid.eq(twice_valid),
            walked.eq(walked << 1),
        ]
        with m.If(h_valid):
            m.d.sync += [cum.eq(cum + h), twice.eq((cum << 1) + h)]
        m.d.comb += [
            wr_t.addr.eq(Cat(scaled_addr, ~active)),
            wr_t.data.eq((scaled + cfg.cal_hits) >> nbits),
            wr_t.en.eq(scaled_valid),
        ]
        built = Signal()
        starve = Signal()
        dropped = Signal()
        with m.FSM(init="CLEAR"):
            with m.State("CLEAR"):
                m.d.comb += [wr_h.addr.eq(walk), wr_h.data.eq(0), wr_h.en.eq(1),
                             dropped.eq(cal_in)]
                m.d.sync += [walk.eq(walk + 1), last.eq(walk == codes - 2)]
                with m.If(last):
                    m.d.sync += [walk.eq(0), last.eq(codes == 1)]
                    m.next = "COLLECT"
            with m.State("COLLECT"):
                m.d.comb += collect.eq(1)
                with m.If(timer_last):
                    m.d.sync += [timer.eq(0), timer_last.eq(cfg.starve_cycles == 1)]
                    m.d.comb += starve.eq(1)
                with m.Else():
                    m.d.sync += [timer.eq(timer + 1),
                                 timer_last.eq(timer == cfg.starve_cycles - 2)]
                m.d.comb += rd_h.addr.eq(hit.fine[:abits])
                with m.If(cal_in):
                    m.d.sync += [count.eq(count + 1), count_last.eq(count == cfg.cal_hits - 2)]
                    with m.If(count_last):
                        m.next = "FULL"
            with m.State("FULL"):
                m.d.comb += [rd_h.addr.eq(0), dropped.eq(cal_in)]
                # the walk reads code 0 once the last increments are written
                with m.If(~pending & ~r1_valid & ~r2_valid):
                    m.d.sync += [walk.eq(0), last.eq(codes == 1), cum.eq(0)]
                    m.next = "BUILD"
            with m.State("BUILD"):
                m.d.comb += [
                    dropped.eq(cal_in),
                    rd_h.addr.eq(walk + 1),
                    wr_h.addr.eq(walk), wr_h.data.eq(0), wr_h.en.eq(1),
                ]
                m.d.sync += [walk.eq(walk + 1), last.eq(walk == codes - 2),
                             h_addr.eq(walk[:abits]), h_valid.eq(1)]
                with m.If(last):
                    m.d.sync += [walk.eq(0), last.eq(codes == 1), walked[0].eq(1),
                                 count.eq(0), count_last.eq(cfg.cal_hits == 1),
                                 timer.eq(0), timer_last.eq(cfg.starve_cycles == 1)]
                    m.next = "COLLECT"
        # the table's last entry is written in the cycle the walk's last code leaves the
        # pipeline: from the next cycle the new bank may be switched in
        m.d.comb += built.eq(walked[-1])
        with m.If(built):
            m.d.sync += pending.eq(1)
        switch = self.frame_strobe & pending
        with m.If(switch):
            m.d.sync += [active.eq(~active), have.eq(1), pending.eq(0)]

        count_events(m, self.clear, ((self.tables_built, built), (self.tables_switched, switch),
                                     (self.starve_events, starve), (self.uncalibrated, lost),
                                     (self.cal_dropped, dropped)))
        latch_events(m, self.clear, ((self.starved, starve),))
        return m
