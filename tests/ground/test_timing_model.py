"""Indexer golden model: fixed point against the float reference over a whole pass, exact
indices at maximum Doppler and clock offset, and every bad-input status."""

import numpy as np
import pytest

from models.channel.geometry import circular_pass
from models.constants import FRAME_PULSES
from models.ground.stimulus import (
    StimulusConfig,
    StimulusError,
    generate,
    ground_time_ps,
    linear_range,
)
from models.ground.timing import (
    CH_SYNC,
    NOMINAL_PERIOD_PS,
    IndexerConfig,
    IndexerConfigError,
    Status,
    index_fixed,
    index_float,
    run_indexer,
)
from tb.ground.streams import bad_stream

DELTA = 5_000


def test_fixed_point_error_below_1ps_over_a_whole_pass():
    cfg = StimulusConfig(range_m=lambda t: circular_pass(85.0, t - 150.0).range_m,
                         clock_ppm=-1.0, delta_ps=DELTA)
    rng = np.random.default_rng(3)
    frames = np.sort(rng.integers(0, int(300 / 104.8576e-6), 20_000))  # 300 s of frames
    t_k = np.floor(ground_time_ps(cfg, frames * FRAME_PULSES))
    t_next = np.floor(ground_time_ps(cfg, (frames + 1) * FRAME_PULSES))
    pulse = frames * FRAME_PULSES + rng.integers(0, FRAME_PULSES, frames.size)
    t = np.floor(ground_time_ps(cfg, pulse) + DELTA)
    period = (t_next - t_k).astype(np.int64)
    assert period.min() < NOMINAL_PERIOD_PS * (1 - 2e-5)  # the pass really spans the Doppler
    assert period.max() > NOMINAL_PERIOD_PS * (1 + 2e-5)
    d = (t - DELTA - t_k).astype(np.int64)
    n_fix, r16, accepted = index_fixed(d, period, frames, gate_half=400)
    n_flt, r_flt = index_float(t, DELTA, t_k, t_next, frames)
    assert np.array_equal(n_fix.astype(np.int64), n_flt)
    assert np.array_equal(n_flt, pulse)
    assert np.max(np.abs(r16 / 16 - r_flt)) < 1.0
    assert np.max(np.abs(r_flt)) < 3.0  # TDC truncation of three tags, nothing else
    assert accepted.all()


def test_fixed_point_rounds_exactly_at_half_pulses():
    period = np.full(5, NOMINAL_PERIOD_PS + 12_345)
    # d exactly at (j + 1/2) pulses: round half up, residual -P/2**17 (just outside any gate)
    j = np.array([0, 1, 1000, 40_000, 65_535])
    d = ((2 * j + 1) * period) // (2 * FRAME_PULSES) + 1
    n, _, accepted = index_fixed(d, period, np.zeros(5, dtype=np.int64), 400)
    n_flt, _ = index_float(d, 0, np.zeros(5), period, np.zeros(5))
    assert np.array_equal(n.astype(np.int64), n_flt)
    assert np.array_equal(n.astype(np.int64), j + 1)
    assert not accepted.any()


@pytest.mark.parametrize("rate, ppm", [(7_500.0, 1.0), (-7_500.0, -1.0), (7_500.0, -1.0)])
def test_model_indexes_every_photon_at_max_doppler(rate, ppm):
    cfg = StimulusConfig(frames=8, first_frame=1000, range_m=linear_range(800e3, rate),
                         clock_ppm=ppm, response=None, sync_fwhm_ps=0.0, delta_ps=DELTA,
                         background_cps=100_000.0)
    stim = generate(cfg)
    det = stim.channel < CH_SYNC
    recs = run_indexer(stim.time, stim.channel, stim.frame, IndexerConfig(delta=DELTA))
    assert len(recs) == det.sum()
    status = np.array([r.status for r in recs])
    n = np.array([r.n for r in recs])
    signal = stim.pulse[det] >= 0
    assert (status[signal & (stim.pulse[det] < 1001 * FRAME_PULSES)] == Status.NO_SYNC).all()
    signal &= stim.pulse[det] >= 1001 * FRAME_PULSES  # after the probation interval
    assert (status[signal] == Status.ACCEPTED).all()
    assert np.array_equal(n[signal], stim.pulse[det][signal])
    r16 = np.array([r.r16 for r in recs])
    assert np.abs(r16[signal]).max() <= 2 * 16  # TDC truncation only
    assert 0.4 < np.mean(status[~signal] == Status.ACCEPTED) < 0.6  # background halved by gate


def test_statuses_for_bad_streams():
    recs = run_indexer(*bad_stream(), IndexerConfig(delta=0, depth=2))
    got = [(r.status, r.n) for r in recs]
    assert got == [
        (Status.NO_SYNC, 0),         # drained by the first sync: no interval before it
        (Status.OVERFLOW, 0), (Status.ORDER, 0), (Status.BAD_CHANNEL, 0),
        (Status.ACCEPTED, 7 * FRAME_PULSES + 5),
        (Status.OUTSIDE_GATE, 7 * FRAME_PULSES + 9),
        (Status.NO_SYNC, 0),         # interval 8..10 is not consecutive
        (Status.BAD_PERIOD, 0),
        (Status.TRUNCATED, 0),
    ]


def test_garbage_stream_never_yields_a_wrong_index():
    rng = np.random.default_rng(9)
    t = rng.integers(0, 1 << 40, 3000).astype(np.uint64)
    ch = rng.integers(0, 8, 3000)
    frame = rng.integers(0, 4, 3000)
    recs = run_indexer(t, ch, frame, IndexerConfig())
    assert all(r.status != Status.ACCEPTED for r in recs)


def test_config_and_stimulus_errors_are_one_line():
    with pytest.raises(IndexerConfigError, match="delta"):
        IndexerConfig(delta=-1)
    with pytest.raises(IndexerConfigError, match="power of two"):
        IndexerConfig(depth=100)
    with pytest.raises(StimulusError, match=r"7\.5 km/s"):
        linear_range(rate_m_s=9_000)
    with pytest.raises(StimulusError, match="ppm"):
        StimulusConfig(clock_ppm=500)


def test_stimulus_truth_and_dead_time():
    stim = generate(StimulusConfig(frames=4, transmittance=2e-2))
    det = stim.channel < CH_SYNC
    assert (stim.channel == CH_SYNC).sum() == 5
    assert np.all(np.diff(stim.time.astype(np.int64)) >= 0)
    for ch in range(4):
        times = stim.time[stim.channel == ch].astype(np.int64)
        assert np.diff(times).min() >= 22_000 - 1
    sig = det & (stim.pulse >= 0)
    assert sig.sum() > 1000
    # matched basis: the detector reports the satellite's bit (polarisation error 0.3 %)
    matched = sig & (stim.channel // 2 == stim.basis)
    assert np.mean((stim.channel[matched] & 1) == stim.bit[matched]) > 0.98
    assert 0.45 < np.mean(stim.intensity[sig] == 0) < 0.95  # signal pulses click most
