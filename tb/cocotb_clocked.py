"""cocotb test: run the design's clock for ``params["cycles"]`` cycles, touching nothing else.

For runner checks that need a real simulation of any design with a 1-bit ``clk`` input (wave
files of both formats on both simulators: ``tests/runner/test_wave_format.py``).
"""

import cocotb

from tb.testbench import TB


@cocotb.test()
async def clocked(dut):
    tb = TB(dut)  # the fabric clock
    await tb.ticks(tb.params["cycles"])
