"""cocotb test: squasher against models.ground.squash (multi-click pulses, ground RNG hash),
seeded idle and backpressure."""

import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge

from tb.ground.streams import squash_case
from tb.params import tb_params
from tb.stream import InOrderScoreboard, StreamDriver, StreamMonitor


@cocotb.test()
async def squasher_matches_model(dut):
    p = tb_params()
    rng = random.Random(p["seed"])
    cocotb.start_soon(Clock(dut.clk, 6400, unit="ps").start())
    dut.rst.value = 1
    await ClockCycles(dut.clk, 2)
    dut.rst.value = 0
    await RisingEdge(dut.clk)
    payloads, want = squash_case(p["seed"], p["ground_seed"])
    board = InOrderScoreboard("detections", dut._log)
    board.expect((d.n, d.basis, d.bit) for d in want)
    mask = (1 << 64) - 1
    monitor = StreamMonitor(dut, "detections", rng, stall=p["stall"],
                            callback=lambda v: board.actual((v & mask, (v >> 64) & 1, v >> 65)))
    cocotb.start_soon(monitor.run())
    await StreamDriver(dut, "records", rng, idle=p["idle"]).send(payloads)
    await ClockCycles(dut.clk, 400)
    assert board.mismatches == 0 and board.unexpected == 0
    assert board.matched == len(want), f"{board.matched} of {len(want)} detections"
    dut._log.info("%d detection records match the model", board.matched)
