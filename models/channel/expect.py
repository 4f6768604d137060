"""Expected (mean) detection, sifting and error rates of the channel model, per slice.

The same physics as :mod:`models.channel.events`, averaged instead of sampled, used to calibrate
the defaults against the paper's Table 1 (:mod:`models.channel.calibrate`), to draw the expected
count-rate curve next to the simulated one, and by the tests as an independent check of the
generator. Approximations (each below 1 % of the rates at the paper's operating points):
multi-click pulses count as half basis-matched with half of those in error (squashing with a
random bit); afterpulses add ``afterpulse_prob · gate/period`` clicks per click, half matched
with half in error; dead time is neglected.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.channel.events import N_DETECTORS, DetectorParams, SourceParams


@dataclass(frozen=True)
class ExpectedRates:
    """Per pulse, per slice, indexed [slice, intensity]: detections, basis-matched detections
    and basis-matched errors."""

    detected: np.ndarray
    matched: np.ndarray
    errors: np.ndarray

    def qber(self) -> np.ndarray:
        """Expected QBER of the basis-matched detections per slice (all intensities)."""
        matched = self.matched.sum(axis=1)
        return np.divide(self.errors.sum(axis=1), matched, out=np.zeros_like(matched),
                         where=matched > 0)


def expected_rates(eta: np.ndarray, source: SourceParams | None = None,
                   detector: DetectorParams | None = None,
                   extra_background_cps: np.ndarray | float = 0.0) -> ExpectedRates:
    """Expected rates of slices with link efficiency ``eta`` (defaults: the paper's source and
    the default detectors)."""
    source = source or SourceParams()
    detector = detector or DetectorParams()
    eta = np.asarray(eta, dtype=np.float64)
    probs = source.mapper.probabilities()
    p_int = np.array([probs["signal"], probs["decoy"], probs["vacuum"]])
    p_state = np.array([probs["z"] / 2] * 2 + [(1 - probs["z"]) / 2] * 2)
    q = detector.routing()
    quiet = 1 - np.broadcast_to(detector.noise_per_gate(extra_background_cps), eta.shape)
    mu = np.asarray(source.intensities)
    # p_click[slice, intensity, state, detector]
    m = mu[None, :, None, None] * eta[:, None, None, None] * q[None, None]
    p_click = 1 - np.exp(-m) * quiet[:, None, None, None]
    p_none = np.prod(1 - p_click, axis=3, keepdims=True)
    single = p_click * p_none / (1 - p_click)
    p_any = 1 - p_none[..., 0]
    multi = p_any - single.sum(axis=3)
    det_basis = np.arange(N_DETECTORS) >> 1
    det_bit = np.arange(N_DETECTORS) & 1
    state_basis, state_bit = det_basis, det_bit
    same_basis = det_basis[None, :] == state_basis[:, None]  # [state, detector]
    wrong_bit = same_basis & (det_bit[None, :] != state_bit[:, None])
    ap = 1 + detector.afterpulse_prob * min(detector.gate_ps / source.period_ps, 1.0)
    extra = (ap - 1) * p_any
    matched = (single * same_basis).sum(axis=3) + (multi + extra) / 2
    errors = (single * wrong_bit).sum(axis=3) + (multi + extra) / 4
    weight = p_int[None, :, None] * p_state[None, None, :]
    return ExpectedRates(detected=(p_any * ap * weight).sum(axis=2),
                         matched=(matched * weight).sum(axis=2),
                         errors=(errors * weight).sum(axis=2))
