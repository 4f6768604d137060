"""tb.runner's internal clock: the top's ``clk`` input becomes a clock made inside the HDL.

Both simulators run it in tests/satellite/test_tx_cosim.py (the co-simulation uses it); these
tests pin down the rewritten Verilog and the errors.
"""

import pytest
from amaranth.back import verilog
from amaranth.hdl import ClockDomain, Module
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from models.constants import FABRIC_CLOCK_PS
from tb.runner import ClockWrapperError, add_internal_clock, top_ports


class Counter(wiring.Component):
    clk: In(1)
    step: In(4)
    o: Out(stream.Signature(8))

    def elaborate(self, platform):
        m = Module()
        m.domains.sync = sync = ClockDomain()
        m.d.comb += sync.clk.eq(self.clk)
        m.d.sync += self.o.payload.eq(self.o.payload + self.step)
        m.d.comb += self.o.valid.eq(1)
        return m


def counter_verilog() -> str:
    return verilog.convert(Counter(), name="top", emit_src=False)


def test_clk_becomes_a_register_of_the_same_module():
    text = counter_verilog()
    ports = top_ports(text, "top")
    assert ("input", "", "clk") in ports and ("input", "[3:0]", "step") in ports
    assert ("output", "[7:0]", "o__payload") in ports and ("input", "", "o__ready") in ports

    clocked = add_internal_clock(text, "top", FABRIC_CLOCK_PS)
    after = top_ports(clocked, "top")
    assert ("input", "", "clk") not in after
    assert sorted(after) == sorted(p for p in ports if p[2] != "clk")
    header = clocked[clocked.index("module top("):].split("\n", 1)[0]
    assert "clk" not in header.replace("module top(", "").split(")")[0].split(", ")
    top_block = clocked[clocked.index("module top("):]
    top_block = top_block[:top_block.index("endmodule")]
    assert "reg clk = 1'b0;" in top_block
    assert f"always #{FABRIC_CLOCK_PS // 2} clk = ~clk;" in top_block
    assert "wire clk;" not in top_block
    # Submodules keep their clock inputs.
    assert clocked.count("input clk;") == text.count("input clk;") - 1


@pytest.mark.parametrize("period", [0, 3, 6401])
def test_rejects_odd_periods(period):
    with pytest.raises(ClockWrapperError, match="even"):
        add_internal_clock(counter_verilog(), "top", period)


def test_needs_a_clk_input_on_the_named_module():
    class NoClock(wiring.Component):
        a: In(1)
        b: Out(1)

        def elaborate(self, platform):
            m = Module()
            m.d.comb += self.b.eq(self.a)
            return m

    text = verilog.convert(NoClock(), name="top", emit_src=False)
    with pytest.raises(ClockWrapperError, match="clk"):
        add_internal_clock(text, "top", FABRIC_CLOCK_PS)
    with pytest.raises(ClockWrapperError, match="not found"):
        top_ports(text, "other")
