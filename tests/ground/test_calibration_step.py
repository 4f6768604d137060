"""The calibration step through the ground_rx top, as the control processor runs it."""

import random

import numpy as np
import pytest

from models.ground.calibration import (
    BINS,
    CAL_GATE_HALF,
    CalibrationError,
    calibrate_delta,
    delta_from_histogram,
    phase_histogram,
)
from models.ground.timing import IndexerConfig, Status, run_indexer
from rtl.ground.tops import GroundRx
from tb import pysim
from tb.ground.host import calibrate
from tb.ground.streams import CAL_TRUE_DELAY, calibration_stream
from tb.packing import tag_payloads

TRUE_DELAY = CAL_TRUE_DELAY


def test_delta_from_histogram_checks_its_input():
    with pytest.raises(CalibrationError, match="160 bins"):
        delta_from_histogram(np.ones(100))
    with pytest.raises(CalibrationError, match="at least 500"):
        delta_from_histogram(np.ones(BINS))


def test_calibration_step_through_ground_rx():
    cfg, stream = calibration_stream(seed=12)
    tags = tag_payloads(*stream)
    recs = run_indexer(*stream, IndexerConfig(delta=0, gate_half=CAL_GATE_HALF))
    want_bins = phase_histogram(np.array([r.r16 for r in recs if r.status == Status.ACCEPTED]))
    want_delta = calibrate_delta(*stream, nominal_ps=TRUE_DELAY + 300)
    dut = GroundRx()
    result: list = []
    sink: list[int] = []

    async def host(ctx):
        result.extend(await calibrate(ctx, dut, tags, nominal_ps=TRUE_DELAY + 300))
        result.append((ctx.get(dut.delta), ctx.get(dut.gate_half)))

    pysim.run(dut, host, background=[pysim.consumer(dut.detections, 10**9, sink,
                                                    random.Random(2), stall=0.2)])
    delta, bins, registers = result
    assert bins == want_bins.tolist() and sum(bins) > 600
    assert delta == want_delta and registers == (delta, 400)
    truth = TRUE_DELAY + cfg.response.mode_ps(cfg.sync_fwhm_ps)
    assert abs(delta - truth) < 25
