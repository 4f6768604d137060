"""O(detections) event generator: rates, error floor, dead time, afterpulsing, squashing."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.channel.events import (
    ChannelError,
    DetectorParams,
    SourceParams,
    contrast_error,
    generate_detections,
)
from models.qrng import qrng_hash, qrng_words
from models.symbols import map_symbols

QUIET = DetectorParams(background_cps=0.0, dark_cps=0.0, afterpulse_prob=0.0, dead_time_ns=0.0)


def slices(n_slices: int, pulses_per_slice: int, eta: float) -> tuple[np.ndarray, np.ndarray]:
    edges = np.arange(n_slices + 1, dtype=np.int64) * pulses_per_slice
    return edges, np.full(n_slices, eta)


def expected_detections(n_pulses: int, eta: float, det: DetectorParams) -> float:
    mu = np.array(SourceParams().intensities)
    p = np.array([0.5, 0.25, 0.25])
    quiet = (1 - det.noise_per_gate()) ** 4
    return n_pulses * float(np.dot(p, 1 - np.exp(-mu * eta) * quiet))


def test_contrast_25_db_gives_0_32_percent():
    assert contrast_error(25.0) == pytest.approx(0.00315, abs=1e-5)


def test_routing_rows_are_distributions():
    q = DetectorParams(pol_error=0.03, z_split=0.6).routing()
    np.testing.assert_allclose(q.sum(axis=1), 1.0)
    assert q[0, 0] == pytest.approx(0.6 * 0.97) and q[0, 1] == pytest.approx(0.6 * 0.03)
    assert q[3, 0] == pytest.approx(0.3) and q[3, 3] == pytest.approx(0.4 * 0.97)


def test_every_detection_carries_its_true_symbol():
    edges, eta = slices(50, 10**8, 1e-4)
    d = generate_detections(7, 8, edges, eta, rng_seed=1)
    sym = map_symbols(qrng_words(7, d.pulse))
    assert len(d) > 10_000
    np.testing.assert_array_equal(d.sym_intensity, sym.intensity)
    np.testing.assert_array_equal(d.sym_basis, sym.basis)
    np.testing.assert_array_equal(d.sym_bit, sym.bit)
    assert np.all(np.diff(d.pulse.astype(np.int64)) > 0) and d.pulse[-1] < edges[-1]


def test_detection_count_matches_poisson_expectation():
    det = DetectorParams(afterpulse_prob=0.0, dead_time_ns=0.0, background_cps=2000.0)
    edges, eta = slices(40, 5 * 10**7, 2e-4)
    d = generate_detections(3, 4, edges, eta, detector=det, rng_seed=2)
    expected = expected_detections(int(edges[-1]), 2e-4, det)
    assert abs(len(d) - expected) < 5 * math.sqrt(expected)


def test_error_floor_and_per_intensity_yields_without_noise():
    det = DetectorParams(background_cps=0.0, dark_cps=0.0, afterpulse_prob=0.0,
                         dead_time_ns=0.0, pol_error=0.02)
    edges, eta = slices(20, 10**8, 5e-4)
    d = generate_detections(5, 6, edges, eta, detector=det, rng_seed=3)
    match = d.basis == d.sym_basis
    signal = match & (d.sym_intensity == 0)
    qber = np.mean(d.bit[signal] != d.sym_bit[signal])
    assert abs(qber - 0.02) < 5 * math.sqrt(0.02 * 0.98 / signal.sum())
    yields = [np.count_nonzero(d.sym_intensity == k) for k in range(3)]
    # signal : decoy : vacuum = 0.5·0.8 : 0.25·0.1 : 0.25·0.001 (photon counting, low eta)
    assert yields[0] / yields[1] == pytest.approx(16, rel=0.05)
    assert yields[2] < 0.05 * yields[1]
    assert np.mean(match) == pytest.approx(0.5, abs=0.01)


def test_noise_only_detections_are_random():
    det = DetectorParams(background_cps=5e4, dark_cps=0.0, afterpulse_prob=0.0)
    edges, eta = slices(10, 10**8, 0.0)
    d = generate_detections(9, 10, edges, eta, detector=det, rng_seed=4)
    expected = expected_detections(int(edges[-1]), 0.0, det)
    assert abs(len(d) - expected) < 5 * math.sqrt(expected)
    match = d.basis == d.sym_basis
    assert np.mean(d.bit[match] != d.sym_bit[match]) == pytest.approx(0.5, abs=0.02)


def test_dead_time_separates_clicks_of_one_detector():
    det = DetectorParams(background_cps=0.0, dark_cps=0.0, afterpulse_prob=0.0,
                         dead_time_ns=22.0)
    edges, eta = slices(4, 50_000, 0.5)
    d = generate_detections(11, 12, edges, eta, detector=det, rng_seed=5)
    dead_pulses = 22e3 / SourceParams().period_ps
    for detector in range(4):
        pulses = d.pulse[(d.mask >> detector) & 1 == 1].astype(np.int64)
        assert np.diff(pulses).min() >= dead_pulses
    # each detector clicks i.i.d. per pulse with p_d; after a registered click, the 13 next
    # pulses are dead: registered fraction 1 / (1 + 13 p_d)
    mu = np.array(SourceParams().intensities)[:, None, None]
    p_int = np.array([0.5, 0.25, 0.25])[:, None, None]
    p_d = np.sum(p_int / 4 * -np.expm1(-mu * 0.5 * det.routing()[None]), axis=(0, 1))
    expected = np.sum(edges[-1] * p_d / (1 + 13 * p_d))
    clicks = int(np.bitwise_count(d.mask).sum())
    assert clicks == pytest.approx(expected, rel=0.03)
    assert clicks < 0.75 * edges[-1] * p_d.sum()


def test_afterpulses_follow_their_parent_detector():
    det = DetectorParams(background_cps=0.0, dark_cps=0.0, afterpulse_prob=1.0,
                         dead_time_ns=22.0, afterpulse_tau_ns=50.0)
    edges, eta = slices(10, 10**7, 1e-3)
    d = generate_detections(13, 14, edges, eta, detector=det, rng_seed=6)
    after = d.afterpulse == 1
    # half of the afterpulses land inside an 800 ps gate at 1600 ps period
    assert np.count_nonzero(after) / np.count_nonzero(~after) == pytest.approx(0.5, rel=0.05)
    match = after & (d.basis == d.sym_basis)
    assert np.mean(d.bit[match] != d.sym_bit[match]) == pytest.approx(0.5, abs=0.03)


def test_multi_click_squashing_uses_the_ground_rng():
    det = DetectorParams(background_cps=2e6, dark_cps=0.0, afterpulse_prob=0.0,
                         dead_time_ns=0.0)
    edges, eta = slices(5, 10**6, 0.05)
    d = generate_detections(15, 16, edges, eta, detector=det, rng_seed=7)
    clicks = np.bitwise_count(d.mask)
    rand = qrng_hash(16, d.pulse)
    single = clicks == 1
    np.testing.assert_array_equal(d.mask[single], 1 << (2 * d.basis[single] + d.bit[single]))
    multi = ~single
    assert multi.sum() > 100
    np.testing.assert_array_equal(d.bit[multi], (rand[multi] & np.uint64(1)).astype(np.uint8))
    mixed = ((d.mask & 3) != 0) & ((d.mask & 12) != 0)
    np.testing.assert_array_equal(d.basis[mixed],
                                  ((rand[mixed] >> np.uint64(1)) & np.uint64(1)).astype(np.uint8))
    same = multi & ~mixed
    np.testing.assert_array_equal(d.basis[same], (d.mask[same] & 12) != 0)


def test_a_whole_pass_of_pulses_is_never_enumerated():
    edges, eta = slices(3000, 62_500_000, 1e-7)  # 300 s at 625 MHz: 1.9e11 pulses
    d = generate_detections(1, 2, edges, eta, rng_seed=8)
    assert 1000 < len(d) < 1_000_000


def test_same_seeds_same_detections():
    edges, eta = slices(5, 10**7, 1e-3)
    a, b = (generate_detections(1, 2, edges, eta, rng_seed=9) for _ in range(2))
    np.testing.assert_array_equal(a.pulse, b.pulse)
    np.testing.assert_array_equal(a.bit, b.bit)
    c = generate_detections(1, 2, edges, eta, rng_seed=10)
    assert not np.array_equal(a.pulse[:100], c.pulse[:100])


@pytest.mark.parametrize(("edges", "eta", "match"), [
    (np.array([0, 10, 5]), np.array([0.1, 0.1]), "ascending"),
    (np.array([0, 10]), np.array([1.5]), "eta"),
    (np.array([0, 10, 20]), np.array([0.1]), "one more"),
])
def test_bad_slices(edges, eta, match):
    with pytest.raises(ChannelError, match=match):
        generate_detections(1, 2, edges, eta)


@pytest.mark.parametrize(("factory", "match"), [
    (lambda: SourceParams(intensities=(0.8, -0.1, 0.001)), "intensities"),
    (lambda: DetectorParams(dark_cps=-1.0), "dark_cps"),
    (lambda: DetectorParams(pol_error=1.5), "pol_error"),
    (lambda: DetectorParams(gate_ps=0.0), "gate_ps"),
])
def test_bad_physics_parameters(factory, match):
    with pytest.raises(ChannelError, match=match):
        factory()


def test_generator_agrees_with_expected_rates():
    from models.channel.expect import expected_rates

    det = DetectorParams(background_cps=3000.0, pol_error=0.01)
    edges, eta = slices(20, 10**8, 4e-5)
    d = generate_detections(17, 18, edges, eta, detector=det, rng_seed=11)
    rates = expected_rates(eta, detector=det)
    n = np.diff(edges)
    assert len(d) == pytest.approx(float(np.dot(n, rates.detected.sum(axis=1))), rel=0.02)
    match = d.basis == d.sym_basis
    assert np.count_nonzero(match) == pytest.approx(float(np.dot(n, rates.matched.sum(axis=1))),
                                                    rel=0.02)
    qber = np.mean(d.bit[match] != d.sym_bit[match])
    assert qber == pytest.approx(float(rates.qber()[0]), rel=0.08)


@given(eta=st.floats(0.0, 0.3), background=st.floats(0.0, 1e6),
       dead=st.sampled_from([0.0, 22.0]), afterpulse=st.floats(0.0, 0.5),
       seed=st.integers(0, 2**64 - 1))
@settings(max_examples=25, deadline=None)
def test_detection_invariants(eta, background, dead, afterpulse, seed):
    det = DetectorParams(background_cps=background, dead_time_ns=dead,
                         afterpulse_prob=afterpulse)
    edges = np.array([0, 3000, 5000, 20000], dtype=np.int64)
    d = generate_detections(seed, seed ^ 1, edges, np.array([eta, 0.0, eta / 2]),
                            detector=det, rng_seed=seed % 1000)
    assert np.all(np.diff(d.pulse.astype(np.int64)) > 0) and np.all(d.pulse < 20000)
    assert np.all((d.mask > 0) & (d.mask < 16))
    single = np.bitwise_count(d.mask) == 1
    np.testing.assert_array_equal(d.mask[single], 1 << (2 * d.basis[single] + d.bit[single]))
    sym = map_symbols(qrng_words(seed, d.pulse))
    np.testing.assert_array_equal(d.sym_intensity, sym.intensity)
    np.testing.assert_array_equal(d.sym_bit, sym.bit)
