"""cocotb test: squasher against models.ground.squash (multi-click pulses, ground RNG hash),
seeded idle and backpressure."""

import cocotb
from cocotb.triggers import ClockCycles

from rtl.common.payload import pack
from rtl.sifting.layouts import DetectionRecord
from tb.ground.streams import squash_case
from tb.testbench import TB


@cocotb.test()
async def squasher_matches_model(dut):
    tb = TB(dut)
    p = tb.params
    await tb.reset()
    payloads, want = squash_case(p["seed"], p["ground_seed"])
    board = tb.scoreboard("detections", layout=DetectionRecord)
    board.expect(pack(DetectionRecord, {"pulse": d.n, "basis": d.basis, "bit": d.bit})
                 for d in want)
    tb.monitor("detections", stall=p["stall"], callback=board.actual)
    await tb.driver("records", idle=p["idle"]).send(payloads)
    await ClockCycles(dut.clk, 400)
    tb.check_done()
    assert board.matched == len(want), f"{board.matched} of {len(want)} detections"
    dut._log.info("%d detection records match the model", board.matched)
