"""cocotb test: sync detector against models.ground.sync.detect (lost-word bursts, outage,
bit slip), seeded idle on the bits and backpressure on the frame events."""

import random

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge

from models.ground.sync import SyncConfig, detect
from tb.ground.streams import sync_scenario
from tb.params import tb_params
from tb.stream import InOrderScoreboard, StreamDriver, StreamMonitor


@cocotb.test()
async def sync_matches_model(dut):
    p = tb_params()
    rng = random.Random(p["seed"])
    cfg = SyncConfig(frame_bits=p["frame_bits"], max_misses=p["max_misses"])
    cocotb.start_soon(Clock(dut.clk, 6400, unit="ps").start())
    dut.rst.value = 1
    await ClockCycles(dut.clk, 2)
    dut.rst.value = 0
    await RisingEdge(dut.clk)
    bits, _, _ = sync_scenario(seed=p["seed"])
    bits = np.concatenate([bits[:12_000], bits[12_002:]])  # two bits lost: re-acquisition
    want = detect(bits, cfg)
    board = InOrderScoreboard("frames", dut._log)
    board.expect((e.frame, e.position, int(e.flywheel)) for e in want.events)
    mask = (1 << 48) - 1
    monitor = StreamMonitor(dut, "frames", rng, stall=p["stall"], callback=lambda v: board.actual(
        (v & mask, (v >> 48) & ((1 << 64) - 1), v >> 112)))
    cocotb.start_soon(monitor.run())
    await StreamDriver(dut, "bits", rng, idle=p["idle"]).send(bits.tolist())
    await ClockCycles(dut.clk, 10)
    assert board.mismatches == 0 and board.unexpected == 0
    assert board.matched == len(want.events)
    assert int(dut.losses.value) == want.losses and int(dut.dropped.value) == 0
    dut._log.info("%d frame events, %d losses of lock, all as the model", board.matched,
                  want.losses)
