"""cocotb test of the ground_rx top: sync detector on a link bit stream (lost words, BER),
concurrently the calibration step (phase histogram read back, delta from it), then the
operating chain on a stream with bit slips and lost sync words; every frame event, histogram
bin, detection record and the slip counter against the models; seeded idle and backpressure."""

import cocotb
import numpy as np
from cocotb.triggers import ReadOnly, RisingEdge

from models.constants import SQUASH_SEED
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
from rtl.ground.sync import FrameEvent
from rtl.sifting.layouts import DetectionRecord
from tb.ground.host import CLEAR_CYCLES, SETTLE_CYCLES
from tb.ground.streams import CAL_TRUE_DELAY, calibration_stream, fault_stream, wrongly_indexed
from tb.packing import detection_payloads, frame_event_payloads, tag_payloads
from tb.testbench import TB

NOMINAL_PS = CAL_TRUE_DELAY - 400


async def read_bins(tb: TB) -> list[int]:
    bins = []
    for a in range(BINS):
        tb.dut.hist_addr.value = a
        await RisingEdge(tb.clk)
        await ReadOnly()
        bins.append(int(tb.dut.hist_data.value))
        await RisingEdge(tb.clk)
    return bins


@cocotb.test()
async def ground_rx_matches_models(dut):
    tb = TB(dut)
    p = tb.params
    dut.delta.value = 0
    dut.gate_half.value = CAL_GATE_HALF
    dut.hist_clear.value = 0
    dut.hist_addr.value = 0
    dut.bits__valid.value = 0
    dut.tags__valid.value = 0
    await tb.reset()

    # sync detector: frame events as the model's
    bits = downlink_bits(2000, 30, p["frame_bits"], p["seed"], ber=1e-3,
                         lost=tuple(range(8, 14)), lead_bits=55)
    events = detect(bits, SyncConfig(frame_bits=p["frame_bits"])).events
    frames = tb.scoreboard("frames", layout=FrameEvent)
    frames.expect(frame_event_payloads(events).tolist())
    tb.monitor("frames", stall=p["stall"], callback=frames.actual)
    bits_done = cocotb.start_soon(tb.driver("bits", idle=p["idle"]).send(bits.tolist()))

    # the models: calibration records, then the operating stream with the calibrated delta
    _, cal = calibration_stream(p["seed"])
    cal_recs = run_indexer(*cal, IndexerConfig(delta=0, gate_half=CAL_GATE_HALF))
    want_bins = phase_histogram(np.array([r.r16 for r in cal_recs
                                          if r.status == Status.ACCEPTED]))
    want_delta = calibrate_delta(*cal, nominal_ps=NOMINAL_PS)
    ops = fault_stream(p["seed"])
    op = index_stream(*ops.tags, IndexerConfig(delta=want_delta))
    assert wrongly_indexed(ops, op.records) == 0
    want = squash(cal_recs + op.records, SQUASH_SEED)[:-1]  # the last pulse waits
    dets = tb.scoreboard("detections", layout=DetectionRecord)
    dets.expect(detection_payloads(want).tolist())
    tb.monitor("detections", stall=p["stall"], callback=dets.actual)

    # calibration step, as the control processor runs it (tb.ground.host.calibrate)
    dut.hist_clear.value = 1
    await RisingEdge(dut.clk)
    dut.hist_clear.value = 0
    await RisingEdge(dut.clk)
    await tb.until(lambda: not dut.hist_busy.value, CLEAR_CYCLES, "histogram clear (hist_busy low)")
    tags = tb.driver("tags", idle=p["idle"])
    await tags.send(tag_payloads(*cal).tolist())
    await tb.ticks(SETTLE_CYCLES)
    bins = await read_bins(tb)
    assert bins == want_bins.tolist(), "phase histogram differs from the model"
    delta = delta_from_histogram(bins, NOMINAL_PS)
    assert delta == want_delta
    assert abs(delta - CAL_TRUE_DELAY) < 400  # the response peak lies 0..400 ps after it
    dut.delta.value = delta
    dut.gate_half.value = 400

    # operation with bit slips and lost sync words
    await tags.send(tag_payloads(*ops.tags).tolist())
    await tb.until(lambda: dets.matched + dets.mismatches >= len(want),
                   20 * len(ops.time) + SETTLE_CYCLES, "detections")
    await bits_done
    await tb.ticks(10)
    tb.check_done()
    assert int(dut.slips.value) == op.slips == 2
    dut._log.info("%d frame events, %d histogram counts, delta %d, %d detections, %d slips: "
                  "all as the models", len(events), sum(bins), delta, len(want), op.slips)
