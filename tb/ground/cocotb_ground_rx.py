"""cocotb test of the ground_rx top: sync detector on a link bit stream (lost words, BER),
concurrently the calibration step (phase histogram read back, delta from it), then the
operating chain on a stream with bit slips and lost sync words; every frame event, histogram
bin, detection record and the slip counter against the models; seeded idle and backpressure."""

import random

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge

from models.ground.calibration import (
    BINS,
    CAL_GATE_HALF,
    calibrate_delta,
    delta_from_histogram,
    phase_histogram,
)
from models.ground.squash import squash
from models.ground.sync import SyncConfig, detect, downlink_bits
from models.ground.timing import IndexerConfig, Status, index_stream, run_indexer
from rtl.ground.tops import GROUND_SEED
from tb.ground.host import SETTLE_CYCLES
from tb.ground.streams import (
    CAL_TRUE_DELAY,
    calibration_stream,
    fault_stream,
    pack_tags,
    wrongly_indexed,
)
from tb.params import tb_params
from tb.stream import InOrderScoreboard, StreamDriver, StreamMonitor

NOMINAL_PS = CAL_TRUE_DELAY - 400


async def read_bins(dut) -> list[int]:
    bins = []
    for a in range(BINS):
        dut.hist_addr.value = a
        await RisingEdge(dut.clk)
        await ReadOnly()
        bins.append(int(dut.hist_data.value))
        await RisingEdge(dut.clk)
    return bins


@cocotb.test()
async def ground_rx_matches_models(dut):
    p = tb_params()
    rng = random.Random(p["seed"])
    cocotb.start_soon(Clock(dut.clk, 6400, unit="ps").start())
    dut.delta.value = 0
    dut.gate_half.value = CAL_GATE_HALF
    dut.hist_clear.value = 0
    dut.hist_addr.value = 0
    dut.rst.value = 1
    await ClockCycles(dut.clk, 2)
    dut.rst.value = 0
    await RisingEdge(dut.clk)

    # sync detector: frame events as the model's
    bits = downlink_bits(2000, 30, p["frame_bits"], p["seed"], ber=1e-3,
                         lost=tuple(range(8, 14)), lead_bits=55)
    events = detect(bits, SyncConfig(frame_bits=p["frame_bits"])).events
    frames = InOrderScoreboard("frames", dut._log)
    frames.expect((e.frame, e.position, int(e.flywheel)) for e in events)
    mask = (1 << 48) - 1
    cocotb.start_soon(StreamMonitor(dut, "frames", rng, stall=p["stall"], callback=lambda v:
                                    frames.actual((v & mask, (v >> 48) & ((1 << 64) - 1),
                                                   v >> 112))).run())
    bits_done = cocotb.start_soon(StreamDriver(dut, "bits", rng, idle=p["idle"]).send(
        bits.tolist()))

    # the models: calibration records, then the operating stream with the calibrated delta
    _, cal = calibration_stream(p["seed"])
    cal_recs = run_indexer(*cal, IndexerConfig(delta=0, gate_half=CAL_GATE_HALF))
    want_bins = phase_histogram(np.array([r.r16 for r in cal_recs
                                          if r.status == Status.ACCEPTED]))
    want_delta = calibrate_delta(*cal, nominal_ps=NOMINAL_PS)
    ops = fault_stream(p["seed"])
    op = index_stream(*ops.tags, IndexerConfig(delta=want_delta))
    assert wrongly_indexed(ops, op.records) == 0
    want = squash(cal_recs + op.records, GROUND_SEED)[:-1]  # the last pulse waits
    dets = InOrderScoreboard("detections", dut._log)
    dets.expect((d.n, d.basis, d.bit) for d in want)
    cocotb.start_soon(StreamMonitor(dut, "detections", rng, stall=p["stall"], callback=lambda v:
                                    dets.actual((v & ((1 << 64) - 1), (v >> 64) & 1,
                                                 v >> 65))).run())

    # calibration step, as the control processor runs it (tb.ground.host.calibrate)
    dut.hist_clear.value = 1
    await RisingEdge(dut.clk)
    dut.hist_clear.value = 0
    await RisingEdge(dut.clk)
    while dut.hist_busy.value:
        await RisingEdge(dut.clk)
    tags = StreamDriver(dut, "tags", rng, idle=p["idle"])
    await tags.send(pack_tags(*cal))
    await ClockCycles(dut.clk, SETTLE_CYCLES)
    bins = await read_bins(dut)
    assert bins == want_bins.tolist(), "phase histogram differs from the model"
    delta = delta_from_histogram(bins, NOMINAL_PS)
    assert delta == want_delta
    assert abs(delta - CAL_TRUE_DELAY) < 400  # the response peak lies 0..400 ps after it
    dut.delta.value = delta
    dut.gate_half.value = 400

    # operation with bit slips and lost sync words
    await tags.send(pack_tags(*ops.tags))
    for _ in range(20 * len(ops.time) + SETTLE_CYCLES):
        if dets.matched + dets.mismatches >= len(want):
            break
        await RisingEdge(dut.clk)
    await bits_done
    await ClockCycles(dut.clk, 10)
    frames.check_done()
    dets.check_done()
    assert int(dut.slips.value) == op.slips == 2
    dut._log.info("%d frame events, %d histogram counts, delta %d, %d detections, %d slips: "
                  "all as the models", len(events), sum(bins), delta, len(want), op.slips)
