"""The link model and pass driver of ``models.sifting.classical_link``, directed: truncation and
reorder faults, random bursts of ``burst_s``, the store-depth limit, and the pass length."""

import numpy as np
import pytest

from models.sifting.classical_link import (
    Link,
    LinkConfig,
    SiftConfig,
    SiftingConfigError,
    qrng_symbols,
    run_sifting,
)
from tb.sifting.stimulus import detections

WORDS = np.arange(1, 9, dtype=np.uint32)


def test_every_truncated_copy_is_counted():
    link = Link(LinkConfig(truncate=1.0), seed=1, horizon_s=1.0)
    copies = [copy for n in range(20) for _, copy in link.send(WORDS, n * 1e-3)]
    assert len(copies) == 20 and all(len(c) < len(WORDS) for c in copies)
    assert link.stats.truncated == 20
    assert Link(LinkConfig(), seed=1, horizon_s=1.0).stats.truncated == 0


def test_reordered_copies_arrive_within_the_reorder_window():
    cfg = LinkConfig(latency_s=2e-3, reorder_s=1e-3)
    link = Link(cfg, seed=2, horizon_s=1.0)
    end = len(WORDS) * 32 / link.bits_per_s
    arrivals = np.array([t - n * 1e-2 for n in range(50) for t, _ in link.send(WORDS, n * 1e-2)])
    assert len(arrivals) == 50
    delay = arrivals - (end + 2e-3)
    assert np.all((delay >= 0) & (delay < 1e-3)) and np.ptp(delay) > 5e-4


def test_random_bursts_last_burst_s():
    """Poisson bursts at 100 /s of 5 ms cover about 1 - exp(-0.5) = 39 % of the time, each
    burst at least 5 ms long."""
    link = Link(LinkConfig(burst_rate_hz=100, burst_s=5e-3), seed=3, horizon_s=1.0)
    step = 1e-4
    inside = np.array([link.in_burst(t) for t in np.arange(0.0, 1.0, step)])
    assert 0.25 < inside.mean() < 0.55
    edges = np.flatnonzero(np.diff(inside.astype(np.int8)))
    runs = np.diff(edges)[::2] if not inside[0] else np.diff(edges)[1::2]
    assert len(runs) > 20 and runs.min() * step >= 5e-3 - step


def test_a_record_store_of_one_report_is_allowed():
    assert SiftConfig(store_depth=1).store_depth == 1
    with pytest.raises(SiftingConfigError, match="store_depth=0"):
        SiftConfig(store_depth=0)


@pytest.mark.parametrize("drain_periods", [0, 2])
def test_a_pass_runs_its_frames_and_drain_plus_one_period_at_most(drain_periods):
    """Frame j is sent in period j + 1, after it closes; a drain too short to bring every sift
    message back ends the run at frames + drain periods."""
    p, frames = 1 << 12, 8
    pulse, basis, bit = detections(np.random.default_rng(1), 400, frames * p)
    sift = SiftConfig(frame_pulses=p, packet_bits=48, cache_pulses=1 << 16,
                      drain_s=drain_periods * p / 625e6)
    run = run_sifting(pulse, basis, bit, qrng_symbols(2), sift=sift, pulses=frames * p)
    assert run.frames == frames and run.ground_frames < frames
    assert run.end_s == pytest.approx((frames + drain_periods) * sift.frame_s)
