"""cocotb test: sync framer output against models.framing.check_downlink, reset mid-stream."""

import random

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge

from models.framing import FRAME_WORDS, check_downlink
from tb.params import tb_params
from tb.stream import StreamDriver, StreamMonitor


@cocotb.test()
async def frames_match_model(dut):
    p = tb_params()
    rng = random.Random(p["seed"])
    cocotb.start_soon(Clock(dut.clk, 6400, unit="ps").start())
    dut.payload__valid.value = 0
    for run, words_out in enumerate((p["frames"] * FRAME_WORDS + 7, FRAME_WORDS + 100)):
        dut.rst.value = 1
        await ClockCycles(dut.clk, 2)
        dut.rst.value = 0
        await RisingEdge(dut.clk)
        payload = [rng.randrange(1, 1 << 32) for _ in range(words_out)]
        monitor = StreamMonitor(dut, "o", rng, stall=p["stall"])
        task = cocotb.start_soon(monitor.run())
        feeder = cocotb.start_soon(StreamDriver(dut, "payload", rng, idle=p["idle"]).send(payload))
        while len(monitor.received) < words_out:
            await RisingEdge(dut.clk)
        task.cancel()
        feeder.cancel()
        dut.payload__valid.value = 0
        got = monitor.received[:words_out]
        data = np.array([g & 0xFFFFFFFF for g in got], dtype=np.uint64)
        kinds = np.array([g >> 32 for g in got], dtype=np.uint8)
        mismatches, consumed = check_downlink(data, kinds, np.array(payload, dtype=np.uint64))
        dut._log.info("run %d: %d words, %d payload words", run, words_out, consumed)
        assert mismatches == 0, f"run {run}: {mismatches} downlink words differ from the model"
