"""QRNG health tests in the style of NIST SP 800-90B section 4.4 (SPEC 3.1).

The raw QRNG delivers ``lanes`` 32-bit words per fabric cycle. The intake treats every byte
position of every lane as its own noise-source channel of 8-bit samples (``4 * lanes`` channels,
one sample per channel per beat), the way parallel ADC channels of a real QRNG are tested
separately. Each channel runs

* the **repetition count test** (SP 800-90B 4.4.1): alarm when a sample repeats ``rct_cutoff``
  times in a row;
* the **adaptive proportion test** (4.4.2): in non-overlapping windows of ``apt_window`` samples,
  alarm when the window's first sample occurs ``apt_cutoff`` times.

Cutoffs follow the standard's formulas for an assessed min-entropy ``H`` per sample and a false
positive probability ``alpha`` per sample. The default ``alpha = 2**-64`` is below the standard's
2**-20..2**-40 range on purpose: 16 channels at 156.25 MS/s make 2.5e9 samples per second, and
2**-40 would give about one false alarm per pass.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SAMPLE_BITS = 8


def rct_cutoff(min_entropy: float, alpha_log2: float) -> int:
    """SP 800-90B: C = 1 + ceil(-log2(alpha) / H)."""
    return 1 + math.ceil(-alpha_log2 / min_entropy)


def apt_cutoff(min_entropy: float, alpha_log2: float, window: int) -> int:
    """SP 800-90B: smallest C with P[1 + Binom(W-1, 2**-H) >= C] <= alpha."""
    p = 2.0 ** -min_entropy
    alpha = 2.0**alpha_log2
    n = window - 1
    # Upper tail of the binomial, summed from the top down in doubles.
    tail = 0.0
    for k in range(n, -1, -1):
        tail += _binomial_term(n, k, p)
        if tail > alpha:
            return k + 2  # P[count >= k+1] > alpha, so C = (k + 1) + 1 in "1 + Binom" terms
    return 1


#: Largest n whose binomial coefficients all fit a double (C(1029, 514) ~ 1.4e308).
_DIRECT_MAX_N = 1029


def _binomial_term(n: int, k: int, p: float) -> float:
    """P[Binom(n, p) = k] in doubles: as the direct product while the coefficient fits a double,
    else in log space (far from the exact ties with alpha where the product's rounding
    matters: those need a term that is an exact power of two)."""
    if n <= _DIRECT_MAX_N:
        return math.comb(n, k) * p**k * (1 - p) ** (n - k)
    return math.exp(math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
                    + k * math.log(p) + (n - k) * math.log1p(-p))


@dataclass(frozen=True)
class HealthConfig:
    """Parameters of the health tests; the defaults are the project's (see module docstring)."""

    min_entropy: float = 7.0
    alpha_log2: float = -64.0
    apt_window: int = 512

    @property
    def rct_cutoff(self) -> int:
        return rct_cutoff(self.min_entropy, self.alpha_log2)

    @property
    def apt_cutoff(self) -> int:
        return apt_cutoff(self.min_entropy, self.alpha_log2, self.apt_window)


def samples_of_words(words: np.ndarray) -> np.ndarray:
    """[beats, lanes] uint32 words -> [beats, 4*lanes] uint8 samples, channel = 4*lane + byte."""
    w = np.asarray(words, dtype=np.uint32)
    shifts = np.arange(4, dtype=np.uint32) * np.uint32(SAMPLE_BITS)
    # explicit width: an empty window (no beats) still has 4*lanes channels
    samples = (w[:, :, None] >> shifts) & np.uint32(0xFF)
    return samples.reshape(w.shape[0], 4 * w.shape[1]).astype(np.uint8)


@dataclass(frozen=True)
class HealthVerdict:
    """First failing beat (``None`` if all passed) and which tests failed at that beat."""

    fail_beat: int | None
    rct: bool
    apt: bool


def run_health_tests(words: np.ndarray, config: HealthConfig = HealthConfig()) -> HealthVerdict:
    """Run both tests on every channel of the beats ``words`` ([beats, lanes] uint32).

    Returns the first beat at which any channel fails; that beat and all after it are withheld
    by the intake.
    """
    s = samples_of_words(words).astype(np.int16)
    beats = s.shape[0]
    if beats == 0:
        return HealthVerdict(None, False, False)
    idx = np.arange(beats)[:, None]

    # Repetition count: run length ending at each sample.
    new_run = np.ones_like(s, dtype=bool)
    new_run[1:] = s[1:] != s[:-1]
    run_start = np.maximum.accumulate(np.where(new_run, idx, 0), axis=0)
    rct_fail = (idx - run_start + 1) >= config.rct_cutoff

    # Adaptive proportion: count of the window's first sample, up to and including each sample.
    w = config.apt_window
    first = s[(idx // w) * w, np.arange(s.shape[1])[None, :]]
    hits = (s == first).astype(np.int32)
    padded = -(-beats // w) * w
    hp = np.zeros((padded, s.shape[1]), dtype=np.int32)
    hp[:beats] = hits
    counts = np.cumsum(hp.reshape(-1, w, s.shape[1]), axis=1).reshape(padded, -1)[:beats]
    apt_fail = counts >= config.apt_cutoff

    rct_beats = np.flatnonzero(rct_fail.any(axis=1))
    apt_beats = np.flatnonzero(apt_fail.any(axis=1))
    first_fail = min([b[0] for b in (rct_beats, apt_beats) if b.size], default=None)
    if first_fail is None:
        return HealthVerdict(None, False, False)
    return HealthVerdict(
        int(first_fail), bool(rct_fail[first_fail].any()), bool(apt_fail[first_fail].any())
    )
