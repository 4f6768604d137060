r"""Multi-click squashing (SPEC 4.3), bit-exact with :func:`models.ground.squash.squash`.

Overview
--------
``records`` (the indexer's output) -> ``detections`` (:data:`rtl.sifting.layouts.DetectionRecord`:
pulse, basis, bit). Accepted records of one pulse are adjacent; the block ORs their detector
bits into a pending pulse and emits it when an accepted record of another pulse arrives (so a
pulse leaves with the next detection; non-accepted records are consumed and dropped). A
single-detector pulse maps directly; a multi-click pulse takes bits 0 (bit) and 1 (basis) of
``qrng_hash(squash_seed, n)`` (splitmix64 of ``seed + n * GAMMA``), computed with a sequential
shift-add multiplier (three 64-cycle constant multiplications): multi-click pulses are rare
(a few per cent of detections at mean photon number 0.8), so a 200-cycle hash costs nothing and
needs no DSP.

Throughput: one record per 2 cycles (input register), plus about 200 cycles per multi-click
pulse.
"""

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from models.qrng import GOLDEN_GAMMA, MASK64, MIX1, MIX2
from rtl.ground.layouts import Status, TimingRecord
from rtl.sifting.layouts import DetectionRecord


class Squasher(wiring.Component):
    """Multi-click squashing: timing records to one detection record per pulse.

    Throughput one record per 2 cycles, plus about 200 cycles per multi-click pulse (sequential
    hash); a pulse leaves when the next accepted pulse's record arrives.

    Members
    -------
    records : In(stream.Signature(TimingRecord))
        The indexer's records (non-accepted ones are consumed and dropped).
    detections : Out(stream.Signature(DetectionRecord))
        Pulse, basis and bit of each detected pulse.
    """

    records: In(stream.Signature(TimingRecord))
    detections: Out(stream.Signature(DetectionRecord))

    def __init__(self, squash_seed: int) -> None:
        self._seed = squash_seed & MASK64
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        out = self.detections
        # input register: the squasher's ready depends on no payload, and the 64-bit "same
        # pulse" compare is done on capture (n does not change while a record is held)
        rec = Signal(TimingRecord)
        rec_valid = Signal()
        same_n = Signal()
        have = Signal()
        n = Signal(64)
        mask = Signal(4)
        # sequential constant multiplier: acc = x * const mod 2**64
        x, acc, const = Signal(64), Signal(64), Signal(64)
        step = Signal(range(65))
        phase = Signal(range(4))

        single = (mask & (mask - 1)) == 0
        det = Signal(2)
        m.d.comb += det.eq(Cat(mask[1] | mask[3], mask[2] | mask[3]))
        z_clicks, x_clicks = mask[:2].any(), mask[2:].any()

        with m.If(out.valid & out.ready):
            m.d.sync += out.valid.eq(0)

        m.d.comb += self.records.ready.eq(~rec_valid)
        with m.If(self.records.valid & ~rec_valid):
            m.d.sync += [rec.eq(self.records.payload), rec_valid.eq(1),
                         same_n.eq(self.records.payload.n == n)]

        def start_new():
            return [have.eq(1), n.eq(rec.n), mask.eq(1 << rec.channel[:2])]

        with m.FSM():
            with m.State("IDLE"):
                out_free = ~out.valid | out.ready
                accepted = rec.status == Status.ACCEPTED
                same = have & same_n
                # the record of the next pulse waits in the input register while the hash runs
                needs_hash = accepted & have & ~same & ~single
                with m.If(rec_valid & out_free):
                    m.d.sync += rec_valid.eq(needs_hash)
                    with m.If(needs_hash):
                        m.d.sync += [x.eq(n), const.eq(GOLDEN_GAMMA), acc.eq(0), step.eq(0),
                                     phase.eq(0)]
                        m.next = "MULTIPLY"
                    with m.Elif(accepted & same):
                        m.d.sync += mask.eq(mask | (1 << rec.channel[:2]))
                    with m.Elif(accepted & have):
                        m.d.sync += [out.valid.eq(1), out.payload.pulse.eq(n),
                                     out.payload.basis.eq(det[1]), out.payload.bit.eq(det[0]),
                                     *start_new()]
                    with m.Elif(accepted):
                        m.d.sync += start_new()
            with m.State("MULTIPLY"):
                with m.If(step == 64):
                    m.next = "MIX"
                with m.Else():
                    with m.If(const[0]):
                        m.d.sync += acc.eq(acc + x)
                    m.d.sync += [x.eq(x << 1), const.eq(const >> 1), step.eq(step + 1)]
            with m.State("MIX"):
                # phase 0: z = seed + n*GAMMA; z ^= z >> 30; z *= MIX1 (then 27/MIX2, then 31)
                z = Signal(64)
                with m.Switch(phase):
                    with m.Case(0):
                        m.d.comb += z.eq(acc + self._seed)
                        m.d.sync += [x.eq(z ^ (z >> 30)), const.eq(MIX1)]
                    with m.Case(1):
                        m.d.sync += [x.eq(acc ^ (acc >> 27)), const.eq(MIX2)]
                    with m.Case(2):
                        m.d.sync += x.eq(acc ^ (acc >> 31))
                m.d.sync += [acc.eq(0), step.eq(0), phase.eq(phase + 1)]
                with m.If(phase == 2):
                    m.next = "EMIT"
                with m.Else():
                    m.next = "MULTIPLY"
            with m.State("EMIT"), m.If(~out.valid | out.ready):
                basis = (z_clicks & x_clicks).bool()
                m.d.sync += [out.valid.eq(1), out.payload.pulse.eq(n),
                             out.payload.bit.eq(x[0]),
                             out.payload.basis.eq(
                                 (basis & x[1]) | (~basis & x_clicks)),
                             have.eq(0)]
                m.next = "IDLE"
        return m
