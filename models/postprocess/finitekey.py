"""Finite-key length of the three-intensity decoy-state BB84 protocol (SPEC 7).

Implements exactly the bounds of SPEC section 7 (Lim et al., PRA 89, 022307 (2014), with the
Chernoff bounds of Zhang et al., PRA 95, 012333 (2017) as in the paper):

* ``chernoff`` (default): x_L = x/(1+δ_L), x_U = x/(1−δ_U) with δ_L, δ_U solving
  ``(x/(1+δ)) ((1+δ) ln(1+δ) − δ) = ln(2/ξ)`` and ``x (δ/(1−δ) + ln(1−δ)) = ln(2/ξ)``
  (the logarithms of SPEC's two equations), ξ = ε_sec/21; x = 0 gives x_L = 0, x_U = ln(2/ξ).
* ``lim2014``: x ∓ sqrt(n_B/2 · ln(21/ε_sec)) (Hoeffding), n_B the basis total.

Both left-hand sides are strictly increasing in δ (derivatives δ/(1+δ)² and x δ/(1−δ)²), so each
equation has exactly one root, found with :func:`scipy.optimize.brentq` to 1e-13 relative.

The counts are per privacy-amplification block: ``detected[B][k]`` key bits of basis B and
intensity k (basis-matched, non-sampled detections), ``errors[B][k]`` the errors error correction
found among them, ``leak_ec[B]`` the EC leakage attributed to basis B.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from scipy.optimize import brentq

from models.postprocess.errors import PostprocessInputError

BASES = ("Z", "X")
INTENSITY_KEYS = ("s", "d", "v")  # μ1 = signal > μ2 = decoy > μ3 = vacuum
METHODS = ("chernoff", "lim2014")
KEY_QUANTUM = 128  # final keys are multiples of 128 bits (paper, SPEC 7)
# Privacy amplification outputs ℓ + 32 bits; the CRC-32 of all of them is published for the
# confirmation and the last 32 are discarded, so they come out of the secure length (SPEC 7).
CONFIRM_CRC_BITS = 32


class KeyRateInputError(PostprocessInputError):
    """Counts or parameters that cannot describe a decoy-state BB84 run."""


def binary_entropy(p: float) -> float:
    """h(p) in bits; 0 at p <= 0 or p >= 1."""
    if p <= 0.0 or p >= 1.0:
        return 0.0
    return -p * math.log2(p) - (1.0 - p) * math.log2(1.0 - p)


def chernoff_deltas(x: float, xi: float) -> tuple[float, float]:
    """(δ_L, δ_U) of the Chernoff bounds for observed value x > 0 and failure probability ξ."""
    if x <= 0:
        raise KeyRateInputError("chernoff_deltas needs x > 0")
    target = math.log(2.0 / xi)

    def f_low(d: float) -> float:
        return x * (math.log1p(d) - d / (1.0 + d)) - target

    def f_up(d: float) -> float:
        return x * (d / (1.0 - d) + math.log1p(-d)) - target

    hi = 1.0
    while f_low(hi) < 0:
        hi *= 2.0
    d_low = brentq(f_low, 0.0, hi, xtol=1e-15, rtol=1e-13)
    # f_up(δ) → ∞ as δ → 1; bracket below 1 where it is already positive.
    hi_u = 0.5
    while f_up(hi_u) < 0:
        hi_u = 1.0 - (1.0 - hi_u) / 4.0
    d_up = brentq(f_up, 0.0, hi_u, xtol=1e-15, rtol=1e-13)
    return d_low, d_up


def chernoff_bounds(x: float, xi: float) -> tuple[float, float]:
    """(x_L, x_U): bounds on the expected value of a sum of Bernoulli trials observed as x."""
    if x < 0:
        raise KeyRateInputError(f"negative count {x}")
    if x == 0:
        return 0.0, math.log(2.0 / xi)
    d_low, d_up = chernoff_deltas(x, xi)
    return x / (1.0 + d_low), x / (1.0 - d_up)


def hoeffding_bounds(x: float, total: float, eps_sec: float) -> tuple[float, float]:
    """(x_L, x_U) of method lim2014: x ∓ sqrt(total/2 · ln(21/ε_sec))."""
    delta = math.sqrt(total / 2.0 * math.log(21.0 / eps_sec))
    return x - delta, x + delta


def gamma(a: float, b: float, c: float, d: float) -> float:
    """γ(a, b, c, d) of SPEC 7 (Lim et al. 2014, eq. for the phase-error correction)."""
    if c <= 0 or d <= 0 or b <= 0 or b >= 1:
        return 0.0
    arg = (c + d) / (c * d * (1.0 - b) * b) * (21.0**2) / (a**2)
    val = (c + d) * (1.0 - b) * b / (c * d * math.log(2.0)) * math.log2(arg)
    return math.sqrt(max(val, 0.0))


@dataclass(frozen=True)
class KeyRateInput:
    """The COUNTS.json object of SPEC 8 (one privacy-amplification block)."""

    intensities: Mapping[str, float]
    probabilities: Mapping[str, float]
    detected: Mapping[str, Mapping[str, float]]
    errors: Mapping[str, Mapping[str, float]]
    leak_ec_bits: Mapping[str, float]
    epsilon_sec: float = 1e-10
    epsilon_cor: float = 1e-15

    def __post_init__(self) -> None:
        validate_counts(self)

    @classmethod
    def from_json(cls, obj: object) -> KeyRateInput:
        """Build from a parsed COUNTS.json object; raises KeyRateInputError naming the problem."""
        if not isinstance(obj, dict):
            raise KeyRateInputError("counts must be a JSON object")
        missing = [k for k in ("intensities", "probabilities", "detected", "errors",
                               "leak_ec_bits") if k not in obj]
        if missing:
            raise KeyRateInputError(f"counts object lacks field(s): {', '.join(missing)}")
        try:
            return cls(
                intensities={k: float(obj["intensities"][k]) for k in INTENSITY_KEYS},
                probabilities={k: float(obj["probabilities"][k]) for k in INTENSITY_KEYS},
                detected={b: {k: float(obj["detected"][b][k]) for k in INTENSITY_KEYS}
                          for b in BASES},
                errors={b: {k: float(obj["errors"][b][k]) for k in INTENSITY_KEYS}
                        for b in BASES},
                leak_ec_bits={b: float(obj["leak_ec_bits"][b]) for b in BASES},
                epsilon_sec=float(obj.get("epsilon_sec", 1e-10)),
                epsilon_cor=float(obj.get("epsilon_cor", 1e-15)),
            )
        except KeyError as exc:
            raise KeyRateInputError(f"counts object lacks key {exc}") from None
        except (TypeError, ValueError, OverflowError) as exc:
            raise KeyRateInputError(f"counts object has a non-numeric or malformed entry: {exc}"
                                    ) from None

    def to_json(self) -> dict:
        return {
            "intensities": dict(self.intensities),
            "probabilities": dict(self.probabilities),
            "detected": {b: {k: _num(v) for k, v in self.detected[b].items()} for b in BASES},
            "errors": {b: {k: _num(v) for k, v in self.errors[b].items()} for b in BASES},
            "leak_ec_bits": {b: _num(self.leak_ec_bits[b]) for b in BASES},
            "epsilon_sec": self.epsilon_sec,
            "epsilon_cor": self.epsilon_cor,
        }


def _num(v: float) -> float | int:
    return int(v) if float(v).is_integer() else float(v)


def validate_counts(c: KeyRateInput) -> None:
    """Raise KeyRateInputError (one line, naming the problem) on impossible inputs."""
    mu = c.intensities
    p = c.probabilities
    for k in INTENSITY_KEYS:
        if not math.isfinite(mu[k]) or mu[k] < 0:
            raise KeyRateInputError(f"intensity {k}={mu[k]} must be finite and >= 0")
        if not math.isfinite(p[k]) or not 0 < p[k] <= 1:
            raise KeyRateInputError(f"probability {k}={p[k]} must be in (0, 1]")
    if abs(sum(p.values()) - 1.0) > 1e-9:
        raise KeyRateInputError(f"intensity probabilities sum to {sum(p.values())}, not 1")
    if not mu["s"] > mu["d"] > mu["v"]:
        raise KeyRateInputError(
            f"intensities must satisfy signal > decoy > vacuum, got {mu['s']}, {mu['d']}, "
            f"{mu['v']}")
    if mu["s"] * (mu["d"] - mu["v"]) - mu["d"] ** 2 + mu["v"] ** 2 <= 0:
        raise KeyRateInputError("intensities violate μ1(μ2−μ3) > μ2²−μ3² (decoy bound undefined)")
    for name, table in (("detected", c.detected), ("errors", c.errors)):
        for b in BASES:
            for k in INTENSITY_KEYS:
                v = table[b][k]
                if not math.isfinite(v) or v < 0:
                    raise KeyRateInputError(f"{name}.{b}.{k}={v} must be a finite count >= 0")
    for b in BASES:
        for k in INTENSITY_KEYS:
            if c.errors[b][k] > c.detected[b][k]:
                raise KeyRateInputError(
                    f"errors.{b}.{k}={c.errors[b][k]} exceeds detected.{b}.{k}="
                    f"{c.detected[b][k]}")
        if not math.isfinite(c.leak_ec_bits[b]) or c.leak_ec_bits[b] < 0:
            raise KeyRateInputError(f"leak_ec_bits.{b}={c.leak_ec_bits[b]} must be >= 0")
    for name, eps in (("epsilon_sec", c.epsilon_sec), ("epsilon_cor", c.epsilon_cor)):
        if not 0 < eps < 1:
            raise KeyRateInputError(f"{name}={eps} must be in (0, 1)")


@dataclass
class BasisResult:
    s0: float
    s1: float
    v1_test: float  # v_(B̄,1): single-photon errors of the test basis
    phi: float
    key_bits: float  # ℓ_B before the 128-bit rounding (clipped at 0, floored)
    bounds: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"s0": self.s0, "s1": self.s1, "v1_test": self.v1_test, "phi": self.phi,
                "key_bits": self.key_bits}


@dataclass
class KeyRateResult:
    key_bits: int
    method: str
    per_basis: dict[str, BasisResult]

    def to_json(self) -> dict:
        out: dict = {"key_bits": self.key_bits, "method": self.method}
        for b in BASES:
            out[b] = self.per_basis[b].to_json()
        return out


def _tau(n: int, mu: Mapping[str, float], p: Mapping[str, float]) -> float:
    return sum(math.exp(-mu[k]) * mu[k] ** n * p[k] / math.factorial(n) for k in INTENSITY_KEYS)


def _bounded(values: Mapping[str, float], mu: Mapping[str, float], p: Mapping[str, float],
             method: str, eps_sec: float) -> tuple[dict[str, float], dict[str, float]]:
    """(lower, upper) of (e^μk/p_k)·bound(x_k) for each intensity k."""
    total = sum(values[k] for k in INTENSITY_KEYS)
    lo: dict[str, float] = {}
    hi: dict[str, float] = {}
    for k in INTENSITY_KEYS:
        x = values[k]
        if method == "chernoff":
            xl, xu = chernoff_bounds(x, eps_sec / 21.0)
        else:
            xl, xu = hoeffding_bounds(x, total, eps_sec)
        scale = math.exp(mu[k]) / p[k]
        lo[k] = scale * xl
        hi[k] = scale * xu
    return lo, hi


def key_length(c: KeyRateInput, method: str = "chernoff") -> KeyRateResult:
    """Final key length ℓ = 128·⌊(ℓ_Z + ℓ_X − 32)/128⌋ (at least 0) of one PA block (SPEC 7):
    privacy amplification outputs ℓ + 32 ≤ ℓ_Z + ℓ_X bits, the confirmation's CRC-32 covers
    all of them and the final key is the first ℓ."""
    if method not in METHODS:
        raise KeyRateInputError(f"unknown method {method!r} (use chernoff or lim2014)")
    mu, p = c.intensities, c.probabilities
    mu1, mu2, mu3 = mu["s"], mu["d"], mu["v"]
    tau0, tau1 = _tau(0, mu, p), _tau(1, mu, p)
    eps = c.epsilon_sec

    s0: dict[str, float] = {}
    s1: dict[str, float] = {}
    v1: dict[str, float] = {}
    for b in BASES:
        n_lo, n_hi = _bounded(c.detected[b], mu, p, method, eps)
        m_lo, m_hi = _bounded(c.errors[b], mu, p, method, eps)
        s0_b = tau0 * (mu2 * n_lo["v"] - mu3 * n_hi["d"]) / (mu2 - mu3)
        s0_b = max(s0_b, 0.0)
        s1_b = (tau1 * mu1 * (n_lo["d"] - n_hi["v"] - (mu2**2 - mu3**2) / mu1**2
                               * (n_hi["s"] - s0_b / tau0))
                / (mu1 * (mu2 - mu3) - mu2**2 + mu3**2))
        s1_b = max(s1_b, 0.0)
        m_total = sum(c.errors[b][k] for k in INTENSITY_KEYS)
        v1_b = min(tau1 * (m_hi["d"] - m_lo["v"]) / (mu2 - mu3), m_total)
        s0[b], s1[b], v1[b] = s0_b, s1_b, max(v1_b, 0.0)

    per_basis: dict[str, BasisResult] = {}
    for b in BASES:
        t = "X" if b == "Z" else "Z"
        if s1[t] > 0 and s1[b] > 0:
            ratio = v1[t] / s1[t]
            phi = ratio + gamma(eps, ratio, s1[t], s1[b])
        else:
            phi = 0.5
        phi = min(phi, 0.5)
        raw = (s0[b] + s1[b] * (1.0 - binary_entropy(phi)) - c.leak_ec_bits[b]
               - 6.0 * math.log2(21.0 / eps) - math.log2(2.0 / c.epsilon_cor))
        ell = max(math.floor(raw), 0)
        per_basis[b] = BasisResult(s0=s0[b], s1=s1[b], v1_test=v1[t], phi=phi, key_bits=ell)
    total = per_basis["Z"].key_bits + per_basis["X"].key_bits
    final = max(KEY_QUANTUM * ((total - CONFIRM_CRC_BITS) // KEY_QUANTUM), 0)
    return KeyRateResult(key_bits=int(final), method=method,
                         per_basis=per_basis)
