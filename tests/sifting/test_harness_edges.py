"""The sifting blocks' directed edge cases (``tb.sifting.edge_cases``: Sifter, UplinkReceiver,
SiftReceiver, UplinkFramer, SiftSender) on the generated Verilog: the five blocks side by side
in one harness, every case in one cocotb run per simulator (one build, one simulator start).
The per-block files (``test_sifter_edges.py``, ...) run the same cases in Amaranth's simulator
and say what each edge is."""

import pytest

from tb.sifting import edge_cases


@pytest.mark.cocotb
@pytest.mark.parametrize("simulator", ["verilator", "icarus"])
def test_sifting_edges_on_both_simulators(simulator):
    edge_cases.run_cocotb(simulator)
