"""cocotb test: SymbolMapper against models.symbols.map_symbols, with idle and backpressure."""

import random

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge

from models.qrng import qrng_words
from models.symbols import MapperConfig, map_symbols
from tb.packing import pack_lanes, symbol_beat_value
from tb.params import tb_params
from tb.stream import InOrderScoreboard, StreamDriver, StreamMonitor


@cocotb.test()
async def mapper_matches_model(dut):
    p = tb_params()
    lanes, beats, seed = p["lanes"], p["beats"], p["seed"]
    rng = random.Random(seed)
    cocotb.start_soon(Clock(dut.clk, 6400, unit="ps").start())
    dut.rst.value = 1
    await ClockCycles(dut.clk, 2)
    dut.rst.value = 0
    await RisingEdge(dut.clk)

    config = MapperConfig(*p["thresholds"])
    dut.thresholds.value = (
        config.signal_below | config.decoy_below << 9 | config.z_below << 18
    )
    dut.lut_write.value = 0
    words = qrng_words(seed, np.arange(beats * lanes)).reshape(beats, lanes)
    sym = map_symbols(words, config)
    board = InOrderScoreboard("mapper", dut._log)
    board.expect(symbol_beat_value(b * lanes, sym, b) for b in range(beats))

    monitor = StreamMonitor(dut, "o", rng, stall=p["stall"], callback=board.actual)
    cocotb.start_soon(monitor.run())
    driver = StreamDriver(dut, "i", rng, idle=p["idle"])
    await driver.send(pack_lanes(w, 32) for w in words)
    for _ in range(200):
        if not board.expected:
            break
        await RisingEdge(dut.clk)
    board.check_done()
