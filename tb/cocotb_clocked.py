"""cocotb test: run the design's clock for ``params["cycles"]`` cycles, touching nothing else.

For runner checks that need a real simulation of any design with a 1-bit ``clk`` input (wave
files of both formats on both simulators: ``tests/runner/test_wave_format.py``).
"""

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles

from tb.params import tb_params


@cocotb.test()
async def clocked(dut):
    cocotb.start_soon(Clock(dut.clk, 6400, unit="ps").start())
    await ClockCycles(dut.clk, tb_params()["cycles"])
