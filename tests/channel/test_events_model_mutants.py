"""models.channel.events: bright background, the dead-time boundary and the chunk size."""

import numpy as np
import pytest

from models.channel.events import DetectorParams, generate_detections
from tests.channel.test_events import slices

# 1e9 cps per detector: p_b = 1 - exp(-0.8) = 0.55 per gate, most gates see several clicks
BRIGHT = DetectorParams(background_cps=1e9, dark_cps=0.0, afterpulse_prob=0.0, dead_time_ns=0.0)


def test_bright_background_clicks_follow_the_binomial_law():
    edges, eta = slices(2, 10_000, 0.0)
    d = generate_detections(21, 22, edges, eta, detector=BRIGHT, rng_seed=7)
    p_b = BRIGHT.noise_per_gate()
    p_any = 1 - (1 - p_b) ** 4
    assert len(d) / edges[-1] == pytest.approx(p_any, abs=0.01)
    # clicks per detected gate: Binomial(4, p_b) given at least one
    clicks = np.bitwise_count(d.mask)
    assert clicks.mean() == pytest.approx(4 * p_b / p_any, rel=0.02)
    assert np.count_nonzero(clicks == 4) / len(d) == pytest.approx(p_b**4 / p_any, rel=0.1)


def test_a_click_exactly_one_dead_time_later_counts():
    # 16 ns at 1600 ps period is exactly 10 pulses
    det = DetectorParams(background_cps=1e9, dark_cps=0.0, afterpulse_prob=0.0,
                         dead_time_ns=16.0)
    edges, eta = slices(1, 5_000, 0.0)
    d = generate_detections(23, 24, edges, eta, detector=det, rng_seed=8)
    for detector in range(4):
        gaps = np.diff(d.pulse[(d.mask >> detector) & 1 == 1].astype(np.int64))
        assert gaps.min() == 10


def test_slices_are_grouped_into_chunks_of_the_expected_clicks():
    edges, eta = slices(20, 10**6, 1e-3)
    det = DetectorParams()
    expected = edges[-1] * (-np.expm1(-0.8e-3) + 4 * det.noise_per_gate())
    done: list[int] = []
    generate_detections(25, 26, edges, eta, detector=det, rng_seed=9,
                        chunk_clicks=int(expected / 4), progress=done.append)
    assert sum(done) == 20
    assert 3 <= len(done) <= 5
