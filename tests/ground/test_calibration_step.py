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
from models.ground.stimulus import StimulusConfig, generate
from models.ground.timing import CH_END, IndexerConfig, Status, run_indexer
from rtl.ground.layouts import pack_tag
from rtl.ground.tops import GroundRx
from tb import pysim
from tb.ground.host import calibrate

TRUE_DELAY = 5_300.0


def calibration_stream(seed: int) -> tuple[StimulusConfig, list[int], tuple]:
    cfg = StimulusConfig(frames=5, first_frame=40, delta_ps=TRUE_DELAY, noise_seed=seed,
                         transmittance=5e-3, background_cps=20_000.0, clock_ppm=-3.0)
    stim = generate(cfg)
    time = np.append(stim.time, stim.time[-1:])
    channel = np.append(stim.channel, CH_END)
    frame = np.append(stim.frame, np.uint64(0))
    tags = [pack_tag(t, c, f) for t, c, f in zip(time.tolist(), channel.tolist(),
                                                  frame.tolist(), strict=True)]
    return cfg, tags, (time, channel, frame)


def test_delta_from_histogram_checks_its_input():
    with pytest.raises(CalibrationError, match="160 bins"):
        delta_from_histogram(np.ones(100))
    with pytest.raises(CalibrationError, match="at least 500"):
        delta_from_histogram(np.ones(BINS))


def test_calibration_step_through_ground_rx():
    cfg, tags, stream = calibration_stream(seed=12)
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
