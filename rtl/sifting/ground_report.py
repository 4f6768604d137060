r"""Ground reporting (SPEC 4.4): detection records to reports, 10 % sampled.

Overview
--------
Detection records (pulse n, basis, measured bit) from the timing chain enter a FIFO; the timing
chain cannot be stalled, so ``det`` is always ready and a record that finds the FIFO full is
dropped and counted in ``overflow`` (it is never reported, so neither side ever sifts it). A
4-stage pipeline computes the sampling hash of ``models.sifting.entries.sample_hash`` (Thomas
Wang's 64-bit hash: shifts, XORs and one or two adds per stage, no multiplier) and marks the
report sampled when its top 16 bits are below ``sample_below``. ``report.bit`` is the measured
bit; the uplink framer sends ``bit & sampled``.

Latency, throughput, FIFO depth
-------------------------------
One record per cycle (156 M records/s at 156.25 MHz); det to report 5 cycles (FIFO 1, hash 4)
when ``report`` is ready. The whole pipeline stalls with ``report``. The FIFO (default 16 deep)
only absorbs stalls of the uplink frame writer (a few cycles per frame); the sizing for the
worst-case detection rate is in ``docs/sifting.md``::

    clk          _/‾\_/‾\_/‾\_/‾\_/‾\_/‾\_/‾\_
    det.valid    ‾‾‾‾\________________________
    report.valid ________________________/‾‾‾‾   (5 cycles later)
"""

from amaranth.hdl import Module, Signal, Value
from amaranth.lib import fifo, stream, wiring
from amaranth.lib.wiring import In, Out

from models.qrng import MASK64
from models.sifting.classical_link import SiftConfig
from models.sifting.entries import SAMPLE_BELOW_DEFAULT, SAMPLE_SHIFT
from rtl.sifting.layouts import COUNTER_BITS, DetectionRecord, Report

FIFO_DEPTH = 16


def _wang_stages() -> list:
    """The four pipeline steps of the hash, each a function of the previous stage's value."""

    def step1(k: Value) -> Value:
        t = (~k + (k << 21))[:64]
        return t ^ (t >> 24)

    def step2(k: Value) -> Value:
        t = (k + (k << 3) + (k << 8))[:64]
        return t ^ (t >> 14)

    def step3(k: Value) -> Value:
        t = (k + (k << 2) + (k << 4))[:64]
        return t ^ (t >> 28)

    def step4(k: Value) -> Value:
        return (k + (k << 31))[:64]

    return [step1, step2, step3, step4]


class GroundReport(wiring.Component):
    """Detection records to reports, sampled by hash (see the module docstring).

    Latency five cycles (FIFO one, hash four), one record per cycle; ``det`` always ready.

    Members
    -------
    det : In(stream.Signature(DetectionRecord))
        Detection records from the timing chain.
    report : Out(stream.Signature(Report))
        Reports with their ``sampled`` flag.
    overflow : Out(COUNTER_BITS)
        Records dropped because the FIFO was full.
    """

    det: In(stream.Signature(DetectionRecord))
    report: Out(stream.Signature(Report))
    overflow: Out(COUNTER_BITS)

    def __init__(self, ground_seed: int = SiftConfig.ground_seed,
                 sample_below: int = SAMPLE_BELOW_DEFAULT, fifo_depth: int = FIFO_DEPTH) -> None:
        if not 0 <= sample_below <= 1 << 16:
            raise ValueError(f"GroundReport: sample_below={sample_below} is outside 0..65536")
        if fifo_depth < 1:
            raise ValueError(f"GroundReport: fifo_depth={fifo_depth} must be positive")
        self._seed = ground_seed & MASK64
        self._sample_below = sample_below
        self._fifo_depth = fifo_depth
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        record_bits = DetectionRecord.size
        m.submodules.fifo = queue = fifo.SyncFIFO(width=record_bits, depth=self._fifo_depth)
        m.d.comb += [
            self.det.ready.eq(1),
            queue.w_en.eq(self.det.valid),
            queue.w_data.eq(self.det.payload),
        ]
        with m.If(self.det.valid & ~queue.w_rdy):
            m.d.sync += self.overflow.eq(self.overflow + 1)

        steps = _wang_stages()
        valid = [Signal(name=f"valid{s}") for s in range(len(steps))]
        record = [Signal(DetectionRecord, name=f"record{s}") for s in range(len(steps))]
        key = [Signal(64, name=f"key{s}") for s in range(len(steps))]
        advance = ~self.report.valid | self.report.ready
        m.d.comb += queue.r_en.eq(advance)
        head = Signal(DetectionRecord)
        m.d.comb += head.eq(queue.r_data)
        sources = [(queue.r_rdy, head, head.pulse ^ self._seed)]
        sources += [(valid[s], record[s], key[s]) for s in range(len(steps) - 1)]
        with m.If(advance):
            for s, (step, (v, r, k)) in enumerate(zip(steps, sources, strict=True)):
                m.d.sync += [valid[s].eq(v), record[s].eq(r), key[s].eq(step(k))]

        out = record[-1]
        m.d.comb += [
            self.report.valid.eq(valid[-1]),
            self.report.payload.pulse.eq(out.pulse),
            self.report.payload.basis.eq(out.basis),
            self.report.payload.bit.eq(out.bit),
            self.report.payload.sampled.eq(key[-1][SAMPLE_SHIFT:] < self._sample_below),
        ]
        return m
