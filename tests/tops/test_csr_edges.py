"""SerialRegisters (``rtl.tops.csr``) at the ends of its chains: a 7-bit write chain (fields
``a`` 3 bits, init 5, then ``b`` 4 bits) loaded after exactly 7 shifts, one short (6: every
field one bit up, bit 0 from reset) and one over (8: the first bit sent falls off), with the
first bit of the first field and the last bit of the last field set; the 6-bit read chain
(``x`` 4 bits, then ``y``) shifted out bit 0 first and one bit past its end (0); the write
fields' init values before the first load. Every value is stated; Amaranth's simulator,
Verilator and Icarus must all give it (``tb.tops.bodies.csr_edges``, one build per
simulator)."""

import pytest
from amaranth.lib import wiring

from rtl.tops.csr import SerialRegisters
from tb.dual import backend_params, run_body
from tb.tops import bodies

WRITES = [["a", 3], ["b", 4]]
READS = [["x", 4], ["y", 2]]
BEFORE = {"a": 5, "b": 0}
CASES = [
    {"name": "exact", "shift": [1, 0, 0, 0, 0, 0, 1], "before": BEFORE, "want": {"a": 1, "b": 8},
     "reads": {"x": 0b1001, "y": 0b10}, "out": [1, 0, 0, 1, 0, 1, 0]},
    {"name": "one_short", "shift": [1] * 6, "before": BEFORE, "want": {"a": 6, "b": 15},
     "reads": {"x": 15, "y": 3}, "out": [1] * 6},
    {"name": "one_over", "shift": [1, 0, 0, 0, 0, 0, 0, 1], "before": BEFORE,
     "want": {"a": 0, "b": 8}, "reads": {"x": 15, "y": 3}, "out": [1] * 6 + [0, 0]},
]


def registers() -> SerialRegisters:
    return SerialRegisters({"a": wiring.In(3, init=5), "b": wiring.In(4)},
                           {"x": wiring.Out(4), "y": wiring.Out(2)})


@pytest.mark.parametrize("backend", backend_params())
def test_register_chains_on_below_and_above_their_length(backend):
    dut = registers()
    assert (dut.write_bits, dut.read_bits) == (7, 6)
    run_body(backend, dut, bodies.csr_edges, case="csr_edges",
             params={"writes": WRITES, "reads": READS, "cases": CASES})
