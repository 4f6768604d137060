"""cocotb test: RND cache answers, with writes and lookups interleaved at random and a reset."""

import random

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge

from models.qrng import qrng_words
from models.rnd_cache import CacheStatus, cache_lookup
from models.symbols import map_symbols
from tb.packing import pack_lanes
from tb.params import tb_params
from tb.stream import StreamDriver, StreamMonitor

MASK64 = (1 << 64) - 1


@cocotb.test()
async def answers_match_model(dut):
    p = tb_params()
    lanes, rows, beats, seed = p["lanes"], p["rows"], p["beats"], p["seed"]
    capacity = lanes * rows
    rng = random.Random(seed)
    codes = map_symbols(qrng_words(seed, np.arange(beats * lanes))).packed()
    cocotb.start_soon(Clock(dut.clk, 6400, unit="ps").start())
    dut.write__valid.value = 0
    dut.query__valid.value = 0

    for run in range(2):  # the second run starts with a reset in mid-stream
        dut.rst.value = 1
        await ClockCycles(dut.clk, 2)
        dut.rst.value = 0
        await RisingEdge(dut.clk)
        monitor = StreamMonitor(dut, "answer", rng, stall=p["stall"])
        task = cocotb.start_soon(monitor.run())
        writer = cocotb.start_soon(StreamDriver(dut, "write", rng, idle=p["idle"]).send(
            pack_lanes(codes[b * lanes:(b + 1) * lanes], 4) for b in range(beats)))
        queries = [rng.randrange(0, beats * lanes + 16) for _ in range(p["queries"])]
        await StreamDriver(dut, "query", rng, idle=p["idle"]).send(queries)
        await ClockCycles(dut.clk, 8)
        task.cancel()
        writer.cancel()

        got = monitor.received
        assert len(got) == len(queries), f"run {run}: {len(got)} answers to {len(queries)}"
        pulse = np.array([g & MASK64 for g in got], dtype=np.uint64)
        head = np.array([(g >> 64) & MASK64 for g in got], dtype=np.uint64)
        status = np.array([(g >> 128) & 3 for g in got], dtype=np.uint8)
        symbol = np.array([(g >> 130) & 0xF for g in got], dtype=np.uint8)
        want_status = cache_lookup(pulse, head, capacity)
        ok = want_status == CacheStatus.OK
        want_symbol = np.where(ok, codes[np.minimum(pulse, beats * lanes - 1).astype(int)], 0)
        assert np.array_equal(pulse, np.array(queries, dtype=np.uint64)), f"run {run}: order"
        assert np.array_equal(status, want_status), f"run {run}: status mismatches"
        assert np.array_equal(symbol, want_symbol), f"run {run}: symbol mismatches"
        for s in CacheStatus:
            assert (status == s).any(), f"run {run}: no {s.name} answer exercised"
        dut._log.info("run %d: %d lookups, %d OK, %d expired, %d pending", run, len(got),
                      ok.sum(), (status == 1).sum(), (status == 2).sum())
