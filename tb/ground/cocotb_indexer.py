"""cocotb test: pulse indexer against models.ground.timing.run_indexer at maximum Doppler and
clock offset, then a garbage stream; seeded idle and backpressure."""

import random

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge

from models.ground.timing import IndexerConfig, Status, run_indexer
from rtl.ground.layouts import pack_tag, unpack_record
from tb.ground.streams import doppler_stream, garbage_stream
from tb.params import tb_params
from tb.stream import InOrderScoreboard, StreamDriver, StreamMonitor


@cocotb.test()
async def indexer_matches_model(dut):
    p = tb_params()
    rng = random.Random(p["seed"])
    cfg = IndexerConfig(delta=p["delta"], depth=p["depth"])
    cocotb.start_soon(Clock(dut.clk, 6400, unit="ps").start())
    dut.delta.value = cfg.delta
    dut.gate_half.value = cfg.gate_half
    dut.rst.value = 1
    await ClockCycles(dut.clk, 2)
    dut.rst.value = 0
    await RisingEdge(dut.clk)

    stim, offset, *doppler = doppler_stream(7_500.0, 1.0, frames=2, seed=p["seed"])
    garbage = garbage_stream(p["seed"], count=200)
    time, channel, frame = (np.concatenate([a, b]) for a, b in zip(doppler, garbage, strict=True))
    expected = [(r.n, r.channel, r.r16, int(r.status)) for r in run_indexer(time, channel, frame,
                                                                           cfg)]
    board = InOrderScoreboard("records", dut._log)
    board.expect(expected)
    monitor = StreamMonitor(dut, "records", rng, stall=p["stall"],
                            callback=lambda v: board.actual(unpack_record(v)))
    cocotb.start_soon(monitor.run())
    tags = [pack_tag(t, c, f) for t, c, f in zip(time.tolist(), channel.tolist(),
                                                  frame.tolist(), strict=True)]
    await StreamDriver(dut, "tags", rng, idle=p["idle"]).send(tags)
    for _ in range(20 * len(tags) + 100):
        if board.matched + board.mismatches >= len(expected):
            break
        await RisingEdge(dut.clk)
    assert board.mismatches == 0 and board.unexpected == 0
    assert board.matched == len(expected), f"{board.matched} of {len(expected)} records"
    # no overflow at this depth, so the first records are the Doppler stretch's, in tag order
    det = stim.channel < 4
    inside = (np.abs(offset[det]) < 400 - 170) & (stim.pulse[det] >= 78 * 2**16)  # probation
    got = np.array([n for n, *_ in expected[:det.sum()]], dtype=np.int64)
    status = np.array([s for *_, s in expected[:det.sum()]])
    assert (status[inside] == Status.ACCEPTED).all()
    assert np.array_equal(got[inside], stim.pulse[det][inside])
    dut._log.info("%d records match; %d photons in the gate, all indexed right", len(expected),
                  inside.sum())
