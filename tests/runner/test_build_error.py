"""A design that does not build is a one-line error with the build log's tail, not a wall of
compiler output and a traceback."""

import pytest
from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import Out

from tb.runner import SIMULATORS, BuildError, run_cocotb


class Counter(wiring.Component):
    """A 4-bit counter: the smallest design that needs a build.

    Members
    -------
    count : Out(4)
        Cycles since reset, modulo 16. Latency none, one step per cycle.
    """

    count: Out(4)

    def elaborate(self, platform):
        m = Module()
        m.d.sync += self.count.eq(self.count + 1)
        return m


@pytest.mark.cocotb
@pytest.mark.parametrize("simulator", SIMULATORS)
def test_broken_source_is_a_build_error_with_the_log(simulator, tmp_path):
    broken = tmp_path / "broken.v"
    broken.write_text("module broken_extra(input a);\n  this is not verilog\nendmodule\n")
    with pytest.raises(BuildError) as failed:
        run_cocotb(Counter(), "tb.cocotb_clocked", simulator, case="build_error",
                   extra_sources=[broken])
    message = str(failed.value)
    assert f"{simulator} build of 'top' failed" in message
    assert "broken.v" in message  # the compiler's complaint, from the log's tail
