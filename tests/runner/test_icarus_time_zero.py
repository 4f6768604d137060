"""The cause of the 4-frame Icarus window's missing reports, reproduced in two seconds.

The e2e top ties the ground's calibration-histogram inputs (``hist_clear``, ``hist_addr``) to 0,
so the histogram's FSM idles in its init state and the combinational block behind its
``records.ready`` has no input that ever changes. Yosys's Verilog relies on the X -> 0 change of
an initialised register to run such ``always @*`` blocks once at time 0; Icarus in SystemVerilog
mode (cocotb builds with ``-g2012``) makes no event for declaration initialisers, so the ready
stays X, the indexer's records are never taken and no detection reaches the reports.
:func:`tb.runner.icarus_time_zero_events` adds the time-0 event.
"""

import subprocess
from pathlib import Path

from amaranth.back import verilog
from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import Out

from rtl.ground.histogram import PhaseHistogram
from tb.runner import icarus_time_zero_events

BENCH = """
module bench;
  reg clk = 1'b0, rst = 1'b0;
  wire ready;
  hist_tied dut(.clk(clk), .rst(rst), .ready(ready));
  initial begin #10 $display("ready=%b", ready); $finish; end
endmodule
"""


class TiedHistogram(wiring.Component):
    """The histogram as the e2e top holds it: host inputs tied to constants."""

    ready: Out(1)

    def elaborate(self, platform):
        m = Module()
        m.submodules.hist = hist = PhaseHistogram()
        m.d.comb += [hist.clear.eq(0), hist.addr.eq(0), hist.records.valid.eq(0),
                     self.ready.eq(hist.records.ready)]
        return m


def ready_at_time_10(text: str, directory: Path) -> str:
    (directory / "dut.v").write_text(text)
    (directory / "bench.v").write_text(BENCH)
    subprocess.run(["iverilog", "-g2012", "-s", "bench", "-o", str(directory / "sim.vvp"),
                    str(directory / "dut.v"), str(directory / "bench.v")], check=True)
    out = subprocess.run(["vvp", "-n", str(directory / "sim.vvp")], check=True,
                         capture_output=True, text=True).stdout
    return out.split("ready=")[1][0]


def test_idle_fsm_output_is_x_on_icarus_without_the_time_zero_event(tmp_path):
    text = verilog.convert(TiedHistogram(), name="hist_tied", emit_src=False)
    assert ready_at_time_10(text, tmp_path) == "x"  # the failure: Yosys trigger, no event
    patched = icarus_time_zero_events(text)
    triggers = sum(line.lstrip().startswith("reg \\$auto$verilog_backend")
                   for line in text.splitlines())
    assert triggers > 0 and patched.count("initial #0") == triggers
    assert ready_at_time_10(patched, tmp_path) == "1"
    assert icarus_time_zero_events(patched) == patched  # idempotent: cached Verilog stays put
