"""tb.runner's internal clock: the generated wrapper mirrors the ports and toggles ``clk``.

The wrapper runs on both simulators in tests/satellite/test_tx_cosim.py (the co-simulation uses
it); these tests pin down the generated text and the errors.
"""

import pytest
from amaranth.back import verilog
from amaranth.hdl import Module
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from tb.runner import ClockWrapperError, top_ports, write_clock_wrapper


class Counter(wiring.Component):
    clk: In(1)
    step: In(4)
    o: Out(stream.Signature(8))

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.o.valid.eq(1)
        return m


def test_wrapper_mirrors_ports_and_makes_the_clock(tmp_path):
    source = tmp_path / "top.v"
    source.write_text(verilog.convert(Counter(), name="top", emit_src=False))
    ports = top_ports(source.read_text(), "top")
    assert ("input", "", "clk") in ports and ("input", "[3:0]", "step") in ports
    assert ("output", "[7:0]", "o__payload") in ports and ("input", "", "o__ready") in ports

    path, name = write_clock_wrapper(source, "top", 6400)
    text = path.read_text()
    assert name == "top_clocked" and path.name == "top_clocked.v"
    assert "always #3200 clk = ~clk;" in text
    assert "reg [3:0] step = 0;" in text and "wire [7:0] o__payload;" in text
    assert "top dut (" in text and ".clk(clk)" in text and ".o__valid(o__valid)" in text


@pytest.mark.parametrize("period", [0, 3, 6401])
def test_wrapper_rejects_odd_periods(tmp_path, period):
    source = tmp_path / "top.v"
    source.write_text(verilog.convert(Counter(), name="top", emit_src=False))
    with pytest.raises(ClockWrapperError, match="even"):
        write_clock_wrapper(source, "top", period)


def test_wrapper_needs_a_clk_input(tmp_path):
    class NoClock(wiring.Component):
        a: In(1)
        b: Out(1)

        def elaborate(self, platform):
            m = Module()
            m.d.comb += self.b.eq(self.a)
            return m

    source = tmp_path / "top.v"
    source.write_text(verilog.convert(NoClock(), name="top", emit_src=False))
    with pytest.raises(ClockWrapperError, match="clk"):
        write_clock_wrapper(source, "top", 6400)
    with pytest.raises(ClockWrapperError, match="not found"):
        top_ports(source.read_text(), "other")
