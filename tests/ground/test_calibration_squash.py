"""Gate-offset calibration (delta within 20 ps from a few thousand detections with background)
and multi-click squashing."""

import numpy as np
import pytest

from models.constants import FRAME_PULSES
from models.ground.calibration import (
    BINS,
    CalibrationError,
    calibrate_delta,
    peak_phase,
    phase_histogram,
    response_template,
)
from models.ground.squash import Detection, squash, squash_one
from models.ground.stimulus import DetectorResponse, StimulusConfig, generate
from models.ground.timing import IndexerConfig, Record, Status, run_indexer
from models.qrng import qrng_hash


@pytest.mark.parametrize("seed, delta", [(1, 5_000.0), (2, 6_123.0), (3, 4_321.0)])
def test_calibration_finds_delta_within_20ps(seed, delta):
    cfg = StimulusConfig(frames=100, noise_seed=seed, delta_ps=delta, background_cps=20_000.0,
                         transmittance=1e-3, clock_ppm=-0.7)
    stim = generate(cfg)
    signal = int((stim.pulse >= 0).sum())
    background = int(((stim.pulse < 0) & (stim.channel < 4)).sum())
    assert 2000 < signal < 4000 and background > 500
    # the installation knows delta to within half a pulse period; timing finds the rest
    found = calibrate_delta(stim.time, stim.channel, stim.frame, nominal_ps=delta + 500)
    assert abs(found - (delta + DetectorResponse().mode_ps(100.0))) <= 20


def test_phase_histogram_folds_and_template_peaks_at_zero():
    hist = phase_histogram(np.array([0, 16 * 5, -16, 16 * 1600, 16 * 805]))
    assert hist.sum() == 5 and hist[0] == 3 and hist[BINS - 1] == 1 and hist[80] == 1
    template = response_template()
    assert np.argmax(template) in (0, BINS - 1)  # the peak sits on the edge of bin 0
    assert peak_phase(np.roll(template * 1000, 37)) == pytest.approx(370, abs=1)


def test_calibration_rejects_too_few_detections():
    stim = generate(StimulusConfig(frames=1, transmittance=1e-5, background_cps=0.0))
    with pytest.raises(CalibrationError, match="at least"):
        calibrate_delta(stim.time, stim.channel, stim.frame)


def rec(n, ch, status=Status.ACCEPTED):
    return Record(n, ch, 0, status)


def test_squash_rules_and_ground_rng():
    seed = 77
    out = squash([rec(10, 0), rec(11, 3), rec(11, 3), rec(12, 2), rec(12, 3), rec(13, 1),
                  rec(13, 2), rec(14, 1, Status.OUTSIDE_GATE), rec(15, 2)], seed)
    r12, r13 = (int(qrng_hash(seed, n)) for n in (12, 13))
    assert out == [
        Detection(10, 0, 0, 0b0001),
        Detection(11, 1, 1, 0b1000),                          # same detector twice: one click
        Detection(12, 1, r12 & 1, 0b1100),                    # same basis: random bit
        Detection(13, (r13 >> 1) & 1, r13 & 1, 0b0110),       # bases disagree: random both
        Detection(15, 1, 0, 0b0100),
    ]
    assert squash_one(12, 0b1100, seed) == out[2]


def test_squashed_stream_matches_truth_for_single_clicks():
    cfg = StimulusConfig(frames=6, transmittance=2e-2, response=None, sync_fwhm_ps=0.0,
                         background_cps=0.0, dark_cps=0.0, polarization_error=0.0)
    stim = generate(cfg)
    recs = run_indexer(stim.time, stim.channel, stim.frame, IndexerConfig(delta=5_000, depth=4096))
    dets = squash(recs, squash_seed=5)
    by_pulse = {}
    for n, ch in zip(stim.pulse.tolist(), stim.channel.tolist(), strict=True):
        if n >= 0:
            by_pulse.setdefault(n, set()).add(ch)
    # from the second interval on (the first is the bit-slip guard's reference, on probation)
    assert [d.n for d in dets] == sorted(n for n in by_pulse
                                         if FRAME_PULSES <= n < dets[-1].n + 1)
    assert any(len(v) > 1 for v in by_pulse.values())
    for d in dets:
        assert d.mask == sum(1 << c for c in by_pulse[d.n])
