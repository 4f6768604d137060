r"""Calibration phase histogram (SPEC 4.2 "histogram calibration block").

Overview
--------
In calibration mode the indexer runs with ``delta = 0`` and ``gate_half = 800`` (a whole
period), and its ``records`` go to this block: every ACCEPTED record adds one count to bin
``((r16 >> 4) mod 1600) // 10`` of a 160-bin, 32-bit block RAM histogram, bit-exact with
:func:`models.ground.calibration.phase_histogram` (TDC LSB 1 ps). The control processor reads
the bins (``addr`` -> ``data`` one cycle later) and runs the matched-filter peak search of
:func:`models.ground.calibration.peak_phase`, then writes the indexer's ``delta``. ``clear``
zeroes the bins (160 cycles, ``busy`` high).

Throughput
----------
One record per 5 cycles (fold, bin, read, latch, add and write back: no read-after-write
hazard to forward), three times the indexer's best rate. ``x // 10`` for ``0 <= x < 1600`` is
``(x * 6554) >> 16``.
"""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import memory, stream, wiring
from amaranth.lib.wiring import In, Out

from models.constants import PULSE_PERIOD_PS
from models.ground.calibration import BIN_PS, BINS
from rtl.ground.layouts import Status, TimingRecord

COUNT_BITS = 32
DIV10_MUL = 6554


class PhaseHistogram(wiring.Component):
    """160-bin phase histogram of the indexer's ACCEPTED records, for calibration.

    Throughput one record per 5 cycles (read-modify-write, no forwarding); ``data`` one cycle after
    ``addr``; ``clear`` takes 160 cycles (``busy``, records held meanwhile).

    Members
    -------
    records : In(stream.Signature(TimingRecord))
        The indexer's records; only ACCEPTED ones count.
    clear : In(1)
        One-cycle pulse: zero all bins.
    busy : Out(1)
        Clearing in progress.
    addr : In(range(BINS)), data : Out(COUNT_BITS)
        Bin read port for the control processor.
    """

    records: In(stream.Signature(TimingRecord))
    clear: In(1)
    busy: Out(1)
    addr: In(range(BINS))
    data: Out(COUNT_BITS)

    def elaborate(self, platform):
        m = Module()
        assert BIN_PS == 10, "the constant divider assumes 10 ps bins"
        m.submodules.mem = mem = memory.Memory(shape=COUNT_BITS, depth=BINS, init=[])
        rd = mem.read_port()
        host = mem.read_port()
        wr = mem.write_port()
        m.d.comb += [host.addr.eq(self.addr), self.data.eq(host.data)]

        ps = Signal(range(-PULSE_PERIOD_PS, PULSE_PERIOD_PS))
        folded = Signal(range(PULSE_PERIOD_PS))
        m.d.comb += [
            ps.eq(self.records.payload.r16 >> 4),
            folded.eq(Mux(ps < 0, ps + PULSE_PERIOD_PS, ps)),
        ]
        bin_ = Signal(range(BINS))
        counter = Signal(range(BINS))
        count = Signal(COUNT_BITS)
        folded_r = Signal(range(PULSE_PERIOD_PS))
        # block RAM output (4 ns clock-to-out) into a register with no enable or mux in front,
        # before the adder; it holds the bin read in READ during WRITE
        m.d.sync += count.eq(rd.data)

        with m.FSM():
            with m.State("IDLE"):
                with m.If(self.clear):
                    m.d.sync += counter.eq(0)
                    m.next = "CLEAR"
                with m.Else():
                    m.d.comb += self.records.ready.eq(1)
                    accepted = self.records.payload.status == Status.ACCEPTED
                    with m.If(self.records.valid & accepted):
                        m.d.sync += folded_r.eq(folded)
                        m.next = "BIN"
            with m.State("BIN"):
                m.d.sync += bin_.eq((folded_r * DIV10_MUL) >> 16)
                m.next = "READ"
            with m.State("READ"):
                m.d.comb += rd.addr.eq(bin_)
                m.next = "LATCH"
            with m.State("LATCH"):
                m.d.comb += rd.addr.eq(bin_)
                m.next = "WRITE"
            with m.State("WRITE"):
                m.d.comb += [wr.addr.eq(bin_), wr.data.eq(count + 1), wr.en.eq(1)]
                m.next = "IDLE"
            with m.State("CLEAR"):
                m.d.comb += [self.busy.eq(1), wr.addr.eq(counter), wr.data.eq(0), wr.en.eq(1)]
                m.d.sync += counter.eq(counter + 1)
                with m.If(counter == BINS - 1):
                    m.next = "IDLE"
        return m
