"""Finite-key length (SPEC 7): Chernoff / Hoeffding bounds, decoy bounds, key length."""

import math

import pytest

from models.postprocess.finitekey import (
    KeyRateInput,
    KeyRateInputError,
    binary_entropy,
    chernoff_bounds,
    gamma,
    hoeffding_bounds,
    key_length,
)

XI = 1e-10 / 21
MU = {"s": 0.8, "d": 0.1, "v": 0.001}
P = {"s": 0.5, "d": 0.25, "v": 0.25}


# Values hand-checked with an independent bisection on SPEC's (non-logarithmic) equations
# [e^δ/(1+δ)^(1+δ)]^(x/(1+δ)) = ξ/2 and [e^−δ/(1−δ)^(1−δ)]^(x/(1−δ)) = ξ/2, ξ = 1e-10/21.
@pytest.mark.parametrize(
    ("x", "low", "high"),
    [
        (10, 0.25981499409517533, 53.542410147335836),
        (100, 43.48260941955363, 191.99173368941035),
        (1e4, 9286.110731334897, 10749.571840580802),
        (1e6, 992701.613781261, 1007334.0708915795),
    ],
)
def test_chernoff_known_values(x, low, high):
    lo, hi = chernoff_bounds(x, XI)
    assert lo == pytest.approx(low, rel=1e-9)
    assert hi == pytest.approx(high, rel=1e-9)


def test_chernoff_equations_hold():
    for x in (3.0, 57.0, 12345.0):
        lo, hi = chernoff_bounds(x, XI)
        dl, du = x / lo - 1, 1 - x / hi
        lhs_l = (x / (1 + dl)) * (dl - (1 + dl) * math.log(1 + dl))
        lhs_u = (x / (1 - du)) * (-du - (1 - du) * math.log(1 - du))
        assert lhs_l == pytest.approx(math.log(XI / 2), rel=1e-9)
        assert lhs_u == pytest.approx(math.log(XI / 2), rel=1e-9)


def test_chernoff_zero_count():
    assert chernoff_bounds(0, XI) == (0.0, pytest.approx(math.log(2 / XI)))
    assert math.log(2 / XI) == pytest.approx(26.763520548223823)


def test_hoeffding():
    lo, hi = hoeffding_bounds(1000, 50000, 1e-10)
    d = math.sqrt(50000 / 2 * math.log(21 / 1e-10))
    assert (lo, hi) == (pytest.approx(1000 - d), pytest.approx(1000 + d))
    assert d == pytest.approx(807.32, abs=0.01)  # sqrt(25000 · 26.0703)


def test_binary_entropy_and_gamma():
    assert binary_entropy(0.5) == 1.0
    assert binary_entropy(0.0) == 0.0
    assert binary_entropy(0.11) == pytest.approx(0.4999, abs=1e-4)
    # γ(1e-10, 0.02, 1e5, 1e5) by hand: sqrt(2e5·0.98·0.02/(1e10·ln2) · log2(2e5/(1e10·0.0196)
    # ·441/1e-20)) = sqrt(5.6557e-7 · log2(4.5e19) = 65.29) = 6.077e-3
    assert gamma(1e-10, 0.02, 1e5, 1e5) == pytest.approx(6.077e-3, rel=1e-3)
    assert gamma(1e-10, 0.0, 1e5, 1e5) == 0.0


def counts(det_z, err_z, det_x=None, err_x=None, leak=(0, 0), **kw):
    det_x = det_x or det_z
    err_x = err_x or err_z
    keys = ("s", "d", "v")
    return KeyRateInput(
        intensities=kw.pop("mu", MU), probabilities=kw.pop("p", P),
        detected={"Z": dict(zip(keys, det_z, strict=True)),
                  "X": dict(zip(keys, det_x, strict=True))},
        errors={"Z": dict(zip(keys, err_z, strict=True)),
                "X": dict(zip(keys, err_x, strict=True))},
        leak_ec_bits={"Z": leak[0], "X": leak[1]}, **kw)


def test_hand_computed_lim2014_case():
    """One block worked through by hand (method lim2014, numbers rounded in the comments)."""
    c = counts((200000, 12000, 300), (1600, 300, 150), leak=(20000, 20000))
    r = key_length(c, "lim2014")
    e = math.exp
    d_n = math.sqrt(212300 / 2 * math.log(21e10))  # Hoeffding width of n_B = 212300: 1601.0
    d_m = math.sqrt(2050 / 2 * math.log(21e10))    # width for m_B = 2050: 156.8
    n_lo = {k: e(MU[k]) / P[k] * (v - d_n) for k, v in zip("sdv", (200000, 12000, 300),
                                                           strict=True)}
    n_hi = {k: e(MU[k]) / P[k] * (v + d_n) for k, v in zip("sdv", (200000, 12000, 300),
                                                           strict=True)}
    tau0 = 0.5 * e(-0.8) + 0.25 * e(-0.1) + 0.25 * e(-0.001)          # 0.6998
    tau1 = 0.5 * e(-0.8) * 0.8 + 0.25 * e(-0.1) * 0.1 + 0.25 * e(-0.001) * 0.001  # 0.2023
    s0 = max(tau0 * (0.1 * n_lo["v"] - 0.001 * n_hi["d"]) / 0.099, 0)
    assert s0 == 0.0  # the vacuum count is below its own Hoeffding width
    s1 = tau1 * 0.8 * (n_lo["d"] - n_hi["v"] - (0.01 - 1e-6) / 0.64 * (n_hi["s"] - 0)) / (
        0.8 * 0.099 - 0.01 + 1e-6)
    assert r.per_basis["Z"].s0 == pytest.approx(s0)
    assert r.per_basis["Z"].s1 == pytest.approx(max(s1, 0))
    m_hi_d = e(0.1) / 0.25 * (300 + d_m)
    m_lo_v = e(0.001) / 0.25 * (150 - d_m)
    v1 = min(tau1 * (m_hi_d - m_lo_v) / 0.099, 2050)
    assert r.per_basis["X"].v1_test == pytest.approx(v1)
    assert v1 == 2050  # capped by the observed errors m_B
    # both bases are identical, so the test basis has the same s1: φ = v1/s1 + γ
    phi = v1 / s1 + gamma(1e-10, v1 / s1, s1, s1)
    assert r.per_basis["Z"].phi == pytest.approx(phi)
    ell = math.floor(s0 + s1 * (1 - binary_entropy(phi)) - 20000 - 6 * math.log2(21e10)
                     - math.log2(2e15))
    assert r.per_basis["Z"].key_bits == ell
    assert r.key_bits == 128 * ((2 * ell - 32) // 128)


def test_chernoff_block_key_positive_and_quantised():
    # a 500 kbit block at ~1 % QBER, counts from the pass model's expectation values
    c = counts((235000, 14600, 450), (1700, 200, 220), leak=(20300, 20300))
    r = key_length(c)
    assert r.key_bits % 128 == 0
    assert 80000 < r.key_bits < 140000
    for b in ("Z", "X"):
        assert 0 < r.per_basis[b].phi < 0.1
        assert r.per_basis[b].s1 > 0.3 * 235000
    assert key_length(c, "lim2014").key_bits < r.key_bits


def test_asymptotic_bounds_approach_true_values():
    """With huge counts the decoy bounds approach their asymptotic (infinite-data) values.

    SPEC 7's v_(B̄,1) bound is τ1 (e^μ2 E_μ2 Q_μ2 − e^μ3 E_μ3 Q_μ3)/(μ2 − μ3), which is the true
    single-photon error yield plus the multi-photon terms
    Σ_(n≥2) (μ2^n − μ3^n)/(n!(μ2 − μ3)) e_n Y_n
    (about +10 % here, n = 2 dominating), and s_(B̄,1) is ~5.5 % below the truth; so φ converges to
    v1_asym/s1_asym = 0.01226, not to the true e1 = 0.01049. φ must be conservative (>= e1).
    """
    eta, y0, e_opt, N = 1e-3, 1e-6, 0.01, 1e15
    e = math.exp
    det, err, s1_true, s0_true = [], [], 0.0, 0.0
    gain, egain = {}, {}
    for k in "sdv":
        mu, p = MU[k], P[k]
        gain[k] = y0 + 1 - e(-eta * mu)
        egain[k] = y0 / 2 + e_opt * (1 - e(-eta * mu))
        det.append(N * p * gain[k] / 2)
        err.append(N * p * egain[k] / 2)
        s1_true += N * p * e(-mu) * mu * (y0 + eta) / 2
        s0_true += N * p * e(-mu) * y0 / 2
    r = key_length(counts(tuple(det), tuple(err)))
    z = r.per_basis["Z"]
    # the vacuum bound is inherently loose by the μ3 e^μ2 Q_μ2 term: 0.886 of the truth here
    assert 0.87 * s0_true < z.s0 < s0_true
    # three-intensity bound with μ2 = 0.1, μ3 = 0.001: within 6 % below the truth
    assert 0.94 * s1_true < z.s1 <= s1_true
    # asymptotic bounds (the SPEC formulas applied to the expected, fluctuation-free counts)
    tau0 = sum(e(-MU[k]) * P[k] for k in "sdv")
    tau1 = sum(e(-MU[k]) * MU[k] * P[k] for k in "sdv")
    mu1, mu2, mu3 = MU["s"], MU["d"], MU["v"]
    s0_asym = tau0 * (mu2 * e(mu3) * gain["v"] - mu3 * e(mu2) * gain["d"]) / (mu2 - mu3)
    s1_asym = tau1 * mu1 * (e(mu2) * gain["d"] - e(mu3) * gain["v"] - (mu2**2 - mu3**2) / mu1**2
                            * (e(mu1) * gain["s"] - s0_asym / tau0)) / (
        mu1 * (mu2 - mu3) - mu2**2 + mu3**2)
    v1_asym = tau1 * (e(mu2) * egain["d"] - e(mu3) * egain["v"]) / (mu2 - mu3)
    assert v1_asym / s1_asym == pytest.approx(0.012255, rel=1e-3)
    # with N = 1e15 pulses the Chernoff widths and γ add well under 1 %
    assert z.phi == pytest.approx(v1_asym / s1_asym, rel=0.01)
    assert z.phi > v1_asym / s1_asym
    e1_true = (y0 / 2 + e_opt * eta) / (y0 + eta)
    assert z.phi > 1.1 * e1_true


def test_monotone_in_errors_and_leak():
    base = counts((235000, 14600, 450), (1700, 200, 220), leak=(20300, 20300))
    more_err = counts((235000, 14600, 450), (2500, 300, 220), leak=(20300, 20300))
    more_leak = counts((235000, 14600, 450), (1700, 200, 220), leak=(30300, 30300))
    k0 = key_length(base)
    assert key_length(more_err).key_bits < k0.key_bits
    k2 = key_length(more_leak)
    raw0 = k0.per_basis["Z"].key_bits + k0.per_basis["X"].key_bits
    raw2 = k2.per_basis["Z"].key_bits + k2.per_basis["X"].key_bits
    assert raw0 - raw2 == pytest.approx(20000, abs=2)


@pytest.mark.parametrize("excess", [0, 16, 31, 32, 100])
def test_confirmation_crc_bits_come_out_of_the_key(excess):
    """ℓ = 128·⌊(ℓ_Z + ℓ_X − 32)/128⌋: a block whose raw length exceeds a multiple of 128 by
    fewer than 32 bits loses a whole 128-bit unit, since privacy amplification must also
    output the 32 bits the confirmation CRC covers."""
    base = key_length(counts((235000, 14600, 450), (1700, 200, 220), leak=(20300, 20300)))
    raw = base.per_basis["Z"].key_bits + base.per_basis["X"].key_bits
    shift = (raw - excess) % 128  # extra Z leak that leaves raw ≡ excess (mod 128)
    r = key_length(counts((235000, 14600, 450), (1700, 200, 220), leak=(20300 + shift, 20300)))
    total = r.per_basis["Z"].key_bits + r.per_basis["X"].key_bits
    assert total == raw - shift and total % 128 == excess
    assert r.key_bits == total - excess - (128 if excess < 32 else 0)
    assert r.key_bits + 32 <= total


def test_empty_block_gives_zero():
    r = key_length(counts((0, 0, 0), (0, 0, 0)))
    assert r.key_bits == 0
    assert r.per_basis["Z"].phi == 0.5


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"p": {"s": 0.5, "d": 0.3, "v": 0.25}}, "sum to"),
        ({"mu": {"s": 0.8, "d": -0.1, "v": 0.001}}, "intensity d"),
        ({"mu": {"s": 0.1, "d": 0.8, "v": 0.001}}, "signal > decoy"),
        ({"epsilon_sec": 0.0}, "epsilon_sec"),
    ],
)
def test_invalid_inputs(kw, message):
    with pytest.raises(KeyRateInputError, match=message):
        counts((10, 10, 10), (1, 1, 1), **kw)


def test_errors_exceeding_counts_rejected():
    with pytest.raises(KeyRateInputError, match="exceeds"):
        counts((10, 10, 10), (11, 1, 1))


def test_from_json_reports_missing_field():
    with pytest.raises(KeyRateInputError, match="leak_ec_bits"):
        KeyRateInput.from_json({"intensities": MU, "probabilities": P, "detected": {},
                                "errors": {}})
    with pytest.raises(KeyRateInputError, match="lacks key"):
        KeyRateInput.from_json({"intensities": MU, "probabilities": P, "detected": {"Z": {}},
                                "errors": {}, "leak_ec_bits": {}})


def test_unknown_method():
    with pytest.raises(KeyRateInputError, match="unknown method"):
        key_length(counts((10, 10, 10), (1, 1, 1)), "bogus")


def test_hand_computed_chernoff_case():
    """A block with a usable vacuum count (s0 > 0), every SPEC 7 step written out."""
    det = {"s": 2_000_000, "d": 120_000, "v": 3_000}
    err = {"s": 16_000, "d": 1_500, "v": 1_450}
    c = counts(tuple(det.values()), tuple(err.values()), leak=(200_000, 200_000))
    r = key_length(c)
    e = math.exp
    xi = 1e-10 / 21

    def scaled(k, x):
        lo, hi = chernoff_bounds(x, xi)
        return e(MU[k]) / P[k] * lo, e(MU[k]) / P[k] * hi

    n_lo = {k: scaled(k, det[k])[0] for k in "sdv"}
    n_hi = {k: scaled(k, det[k])[1] for k in "sdv"}
    m_lo = {k: scaled(k, err[k])[0] for k in "sdv"}
    m_hi = {k: scaled(k, err[k])[1] for k in "sdv"}
    tau0 = sum(e(-MU[k]) * P[k] for k in "sdv")
    tau1 = sum(e(-MU[k]) * MU[k] * P[k] for k in "sdv")
    s0 = tau0 * (0.1 * n_lo["v"] - 0.001 * n_hi["d"]) / 0.099
    assert s0 > 0
    s1 = tau1 * 0.8 * (n_lo["d"] - n_hi["v"] - (0.1**2 - 0.001**2) / 0.8**2
                       * (n_hi["s"] - s0 / tau0)) / (0.8 * 0.099 - 0.1**2 + 0.001**2)
    v1 = min(tau1 * (m_hi["d"] - m_lo["v"]) / 0.099, sum(err.values()))
    assert v1 < sum(err.values())  # the decoy bound, not the cap, is active here
    phi = v1 / s1 + gamma(1e-10, v1 / s1, s1, s1)
    ell = math.floor(s0 + s1 * (1 - binary_entropy(phi)) - 200_000 - 6 * math.log2(21e10)
                     - math.log2(2e15))
    z = r.per_basis["Z"]
    assert (z.s0, z.s1, z.v1_test, z.phi) == (pytest.approx(s0), pytest.approx(s1),
                                              pytest.approx(v1), pytest.approx(phi))
    assert z.key_bits == ell
    assert r.key_bits == 128 * ((2 * ell - 32) // 128)
    assert r.key_bits > 0
