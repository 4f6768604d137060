"""Detection events of a pass in O(number of detections) (SPEC 6).

A 300 s pass has ~1.9e11 pulses but only a few million detector clicks, so pulses are never
enumerated. The pass is cut into slices (one per track sample, pulses ``edges[i] ..
edges[i+1]``) with a constant link efficiency ``eta[i]``.

Physics of one pulse with intensity μ_k, BB84 state (basis b, bit x):

* detected photon number per detector d ∈ {H, V, D, A} (index ``2·basis + bit``) is Poisson with
  mean ``μ_k · η · q_d``: passive basis choice (50/50, parameter ``z_split``), then in the matching
  basis the right detector with probability ``1 − e_pol`` and the wrong one with ``e_pol`` (the
  polarization error floor; 25 dB contrast gives e_pol = 1/(1 + 10^2.5) = 0.32 %), in the other
  basis 50/50;
* background and dark counts: each detector fires in the 800 ps gate of a pulse with
  probability ``p_b = (background_cps + dark_cps) · gate`` (the gate keeps half of a uniform
  background at 1600 ps period: the paper's "3 dB suppression");
* detector d clicks with ``1 − exp(−μ_k η q_d) (1 − p_b)``.

Exact O(detections) sampling by thinning: in slice i candidates are Bernoulli(P_max) pulses with
P_max the click probability of the brightest intensity (count K ~ Binomial(N, P_max), then a
uniform K-subset of the slice: uniform draws, coinciding ones redrawn). Each candidate's
symbol comes from the counter-based QRNG (:func:`models.qrng.qrng_words` +
:func:`models.symbols.map_symbols`), so every detection's true symbol is known; it is kept with
probability P_any(k)/P_max. Its clicks are then drawn conditional on at least one click, by
cause, all exact: photons were detected with probability P_photon/P_any (number of photons from
the zero-truncated Poisson law, each routed with ``routing()``; background clicks added
independently), otherwise it is a background-only pulse (zero-truncated binomial number of
background clicks on distinct detectors). Per detection only scalars are drawn, no per-detector
arrays.

Detector effects after the primary clicks:

* afterpulsing: each primary click makes, with probability ``afterpulse_prob``, a click in the same
  detector ``dead_time + Exp(afterpulse_tau)`` later; it counts only if it falls in a gate
  (pulse ``n + round(delay / period)``, |residual| ≤ gate/2); afterpulses of afterpulses are
  neglected (second order);
* dead time (non-paralysable, per detector): a click closer than ``dead_time_ns`` to the previous
  registered click of the same detector is lost. Clicks outside the gates are not generated, so
  their dead time is neglected (a 1 kcps background loses 2e-5 of the signal at 22 ns);
* squashing (SPEC 4.3): several clicks in one pulse give a random bit, and a random basis when
  the clicks disagree in basis, from the ground RNG: bits 0 (bit) and 1 (basis) of
  ``qrng_hash(squash_seed, n)``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from models.qrng import qrng_hash, qrng_words
from models.symbols import MapperConfig, map_symbols

PULSE_RATE_HZ = 625e6
N_DETECTORS = 4  # H, V, D, A: index 2 * basis + bit


class ChannelError(ValueError):
    """Source or detector parameters outside their physical range."""


def contrast_error(contrast_db: float) -> float:
    """Polarization error probability of a source with extinction ``contrast_db``."""
    return 1.0 / (1.0 + 10 ** (contrast_db / 10))


@dataclass(frozen=True)
class SourceParams:
    intensities: tuple[float, float, float] = (0.8, 0.1, 0.001)  # signal, decoy, vacuum
    mapper: MapperConfig = MapperConfig()
    pulse_rate_hz: float = PULSE_RATE_HZ

    def __post_init__(self) -> None:
        if len(self.intensities) != 3 or min(self.intensities) < 0:
            raise ChannelError(f"intensities {self.intensities} must be three values >= 0")
        if not self.pulse_rate_hz > 0:
            raise ChannelError(f"pulse_rate_hz={self.pulse_rate_hz} must be positive")

    @property
    def period_ps(self) -> float:
        return 1e12 / self.pulse_rate_hz

    def mean_photons(self) -> float:
        p = self.mapper.probabilities()
        return float(np.dot(self.intensities, [p["signal"], p["decoy"], p["vacuum"]]))


@dataclass(frozen=True)
class DetectorParams:
    background_cps: float = 60.0  # per detector, sky and ground light before the gate
    dark_cps: float = 25.0  # per detector
    gate_ps: float = 800.0
    dead_time_ns: float = 22.0
    afterpulse_prob: float = 0.005
    afterpulse_tau_ns: float = 100.0
    pol_error: float = contrast_error(25.0)
    z_split: float = 0.5  # passive basis choice: fraction of photons measured in Z

    def __post_init__(self) -> None:
        for name in ("background_cps", "dark_cps", "dead_time_ns", "afterpulse_tau_ns"):
            if getattr(self, name) < 0:
                raise ChannelError(f"detector parameter {name}={getattr(self, name)} is negative")
        if not self.gate_ps > 0:
            raise ChannelError(f"gate_ps={self.gate_ps} must be positive")
        for name in ("afterpulse_prob", "pol_error", "z_split"):
            if not 0 <= getattr(self, name) <= 1:
                raise ChannelError(f"{name}={getattr(self, name)} is not a probability")

    def noise_per_gate(self, extra_cps: np.ndarray | float = 0.0) -> np.ndarray | float:
        """Background + dark click probability of one detector in one gate, with ``extra_cps``
        of time-dependent background (e.g. the moon in the field of view) on top."""
        rate = self.background_cps + self.dark_cps + np.asarray(extra_cps, dtype=np.float64)
        p = -np.expm1(-rate * self.gate_ps * 1e-12)
        return float(p) if p.ndim == 0 else p

    def routing(self) -> np.ndarray:
        """q[state, detector]: probability that a photon of state 2·basis + bit reaches each
        detector (H, V, D, A)."""
        e, z = self.pol_error, self.z_split
        q = np.zeros((4, 4))
        for basis in (0, 1):
            own = z if basis == 0 else 1 - z
            for bit in (0, 1):
                state = 2 * basis + bit
                q[state, 2 * basis + bit] = own * (1 - e)
                q[state, 2 * basis + 1 - bit] = own * e
                q[state, 2 * (1 - basis):2 * (1 - basis) + 2] = (1 - own) / 2
        return q


@dataclass(frozen=True)
class Detections:
    """Accepted detections of a pass in ascending pulse order (arrays of equal length).

    ``mask``: clicked detectors (bit d for detector d = 2·basis + bit); ``basis`` / ``bit``: the
    ground's measurement after squashing; ``sym_*``: the satellite's true symbol of that pulse;
    ``afterpulse``: 1 if any click of the pulse is an afterpulse.
    """

    pulse: np.ndarray
    mask: np.ndarray
    basis: np.ndarray
    bit: np.ndarray
    sym_intensity: np.ndarray
    sym_basis: np.ndarray
    sym_bit: np.ndarray
    afterpulse: np.ndarray

    def __len__(self) -> int:
        return len(self.pulse)


def _primary_clicks(rng: np.random.Generator, seed: int, edges: np.ndarray, eta: np.ndarray,
                    source: SourceParams, det: DetectorParams, p_b: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """(pulse, detector) of the primary clicks of slices ``edges`` (one row per click);
    ``p_b[i]`` is the noise click probability per detector and gate in slice i."""
    mu = np.asarray(source.intensities, dtype=np.float64)
    noise_free = (1 - p_b) ** N_DETECTORS
    p_max = -np.expm1(-mu.max() * eta) * noise_free + (1 - noise_free)
    sizes = np.diff(edges)
    counts = rng.binomial(sizes, p_max)
    pulse = owner = np.zeros(0, dtype=np.int64)
    need = counts
    while need.any():
        # Uniform draws with coinciding positions redrawn: a uniform subset of the slice.
        owner = np.repeat(np.arange(len(sizes)), need)
        pulse = np.sort(np.r_[pulse, edges[:-1][owner] + rng.integers(0, sizes[owner])])
        pulse = pulse[np.r_[True, pulse[1:] != pulse[:-1]]]
        owner = np.searchsorted(edges, pulse, side="right") - 1
        need = counts - np.bincount(owner, minlength=len(sizes))
    sym = map_symbols(qrng_words(seed, pulse.astype(np.uint64)), source.mapper)
    m = mu[sym.intensity] * eta[owner]
    p_photon = -np.expm1(-m)
    p_any = p_photon * noise_free[owner] + (1 - noise_free[owner])
    u = rng.random(len(pulse)) * p_max[owner]
    keep = u < p_any
    # Given a click (u uniform on [0, P_any)), photons were detected iff u < P_photon: exact,
    # since P(photon >= 1 | any click) = P_photon / P_any.
    photon = (u < p_photon)[keep]
    pulse, m, owner = pulse[keep], m[keep], owner[keep]
    state = (2 * sym.basis + sym.bit)[keep]
    ph_pulse, ph_det = _photon_clicks(rng, pulse[photon], m[photon], state[photon], det)
    ns_pulse, ns_det = _noise_clicks(rng, pulse[~photon], p_b[owner[~photon]])
    # background also fires, independently, in pulses that had photons: per slice a
    # Binomial(4 n_i, p_b,i) number of (pulse, detector) draws among its n_i photon pulses
    per_slice = np.bincount(owner[photon], minlength=len(eta))
    extra = rng.binomial(N_DETECTORS * per_slice, p_b)
    first = np.r_[0, np.cumsum(per_slice)[:-1]]
    slice_of = np.repeat(np.arange(len(eta)), extra)
    ex_pulse = pulse[photon][first[slice_of] + rng.integers(0, np.maximum(per_slice, 1)[slice_of])]
    ex_det = rng.integers(0, N_DETECTORS, len(slice_of)).astype(np.uint8)
    return np.r_[ph_pulse, ns_pulse, ex_pulse], np.r_[ph_det, ns_det, ex_det]


def _photon_clicks(rng: np.random.Generator, pulse: np.ndarray, m: np.ndarray,
                   state: np.ndarray, det: DetectorParams) -> tuple[np.ndarray, np.ndarray]:
    """Clicks of pulses with at least one detected photon: k ~ Poisson(m) given k >= 1 (inverse
    CDF), each photon routed to a detector with the probabilities ``routing()[state]``."""
    u = rng.random(len(m)) * -np.expm1(-m)  # uniform on [0, P(k >= 1))
    k = np.ones(len(m), dtype=np.int64)
    term = m * np.exp(-m)  # P(k = j), starting at j = 1
    cdf = term.copy()
    more = np.flatnonzero(u >= cdf)
    j = 1
    while len(more):
        j += 1
        term[more] *= m[more] / j
        cdf[more] += term[more]
        k[more] = j
        more = more[(u[more] >= cdf[more]) & (j < 60)]
    rows = np.repeat(np.arange(len(m)), k)
    cum = np.cumsum(det.routing(), axis=1)[state[rows], :N_DETECTORS - 1]
    detector = (rng.random(len(rows))[:, None] >= cum).sum(axis=1).astype(np.uint8)
    return pulse[rows], detector


def _noise_clicks(rng: np.random.Generator, pulse: np.ndarray, p_b: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Clicks of pulses with background/dark clicks only: c ~ Binomial(4, p_b) given c >= 1
    (inverse CDF, ``p_b`` per pulse), then c distinct detectors."""
    c_values = np.arange(1, N_DETECTORS + 1)
    p_c = np.stack([math.comb(N_DETECTORS, int(c)) * p_b**c * (1 - p_b) ** (N_DETECTORS - c)
                    for c in c_values], axis=1)
    cdf = np.cumsum(p_c, axis=1)
    u = rng.random(len(pulse)) * cdf[:, -1]
    c = 1 + (u[:, None] >= cdf[:, :-1]).sum(axis=1)
    order = np.argsort(rng.random((len(pulse), N_DETECTORS)), axis=1)
    take = np.arange(N_DETECTORS)[None, :] < c[:, None]
    rows, cols = np.nonzero(take)
    return pulse[rows], order[rows, cols].astype(np.uint8)


def _afterpulses(rng: np.random.Generator, pulse: np.ndarray, detector: np.ndarray,
                 source: SourceParams, det: DetectorParams) -> tuple[np.ndarray, np.ndarray]:
    parent = np.flatnonzero(rng.random(len(pulse)) < det.afterpulse_prob)
    delay_ps = (det.dead_time_ns + rng.exponential(det.afterpulse_tau_ns, len(parent))) * 1e3
    slots = np.rint(delay_ps / source.period_ps)
    in_gate = np.abs(delay_ps - slots * source.period_ps) <= det.gate_ps / 2
    parent, slots = parent[in_gate], slots[in_gate].astype(np.int64)
    return pulse[parent] + slots, detector[parent]


def _apply_dead_time(pulse: np.ndarray, detector: np.ndarray, dead_pulses: float) -> np.ndarray:
    """Keep-mask of non-paralysable dead time; input sorted by (detector, pulse)."""
    keep = np.ones(len(pulse), dtype=bool)
    while True:
        idx = np.flatnonzero(keep)
        p, d = pulse[idx], detector[idx]
        dead = np.zeros(len(idx), dtype=bool)
        dead[1:] = (d[1:] == d[:-1]) & ((p[1:] - p[:-1]) < dead_pulses)
        # The first dead click of each run follows a live one: it is certainly lost.
        first = dead.copy()
        first[1:] &= ~dead[:-1]
        if not first.any():
            return keep
        keep[idx[first]] = False


def generate_detections(seed: int, squash_seed: int, edges: np.ndarray, eta: np.ndarray,
                        source: SourceParams = SourceParams(),
                        detector: DetectorParams = DetectorParams(), rng_seed: int = 0,
                        chunk_clicks: int = 1_000_000,
                        progress: Callable[[int], None] | None = None,
                        extra_background_cps: np.ndarray | None = None) -> Detections:
    """Detections of slices ``edges[i] .. edges[i+1]`` (pulse indices) with link efficiency
    ``eta[i]`` (clicks per photon leaving the satellite), satellite QRNG ``seed``;
    ``extra_background_cps[i]`` adds background per detector in slice i.

    ``rng_seed`` seeds the physics (photon statistics); ``progress`` is called with the number of
    slices done after each chunk. Memory and time are O(detections): slices are processed in
    chunks of about ``chunk_clicks`` expected candidates.
    """
    edges = np.asarray(edges, dtype=np.int64)
    eta = np.asarray(eta, dtype=np.float64)
    if edges.ndim != 1 or len(edges) != len(eta) + 1 or np.any(np.diff(edges) <= 0):
        raise ChannelError("slice edges must be strictly ascending, one more than eta values")
    if np.any(eta < 0) or np.any(eta > 1):
        raise ChannelError("link efficiency eta must lie in [0, 1]")
    extra = np.zeros(len(eta)) if extra_background_cps is None else np.broadcast_to(
        np.asarray(extra_background_cps, dtype=np.float64), eta.shape)
    if np.any(extra < 0):
        raise ChannelError("extra background must not be negative")
    p_b = np.asarray(detector.noise_per_gate(extra), dtype=np.float64)
    rng = np.random.default_rng(rng_seed)
    expected = np.diff(edges) * (-np.expm1(-max(source.intensities) * eta) + N_DETECTORS * p_b)
    bounds = [0, *np.flatnonzero(np.diff(np.cumsum(expected) // chunk_clicks)) + 1, len(eta)]
    pulses, detectors = [], []
    for lo, hi in itertools.pairwise(bounds):
        if hi > lo:
            p, d = _primary_clicks(rng, seed, edges[lo:hi + 1], eta[lo:hi], source, detector,
                                   p_b[lo:hi])
            pulses.append(p)
            detectors.append(d)
        if progress is not None:
            progress(hi - lo)
    pulse = np.concatenate(pulses)
    det_of = np.concatenate(detectors)
    ap_pulse, ap_det = _afterpulses(rng, pulse, det_of, source, detector)
    after = np.concatenate([np.zeros(len(pulse), bool), np.ones(len(ap_pulse), bool)])
    pulse = np.concatenate([pulse, ap_pulse])
    det_of = np.concatenate([det_of, ap_det])
    inside = pulse < edges[-1]
    pulse, det_of, after = pulse[inside], det_of[inside], after[inside]
    order = np.lexsort((pulse, det_of))
    pulse, det_of, after = pulse[order], det_of[order], after[order]
    keep = _apply_dead_time(pulse, det_of, detector.dead_time_ns * 1e3 / source.period_ps)
    pulse, det_of, after = pulse[keep], det_of[keep], after[keep]
    return _squash(seed, squash_seed, pulse, det_of, after, source)


def _squash(seed: int, squash_seed: int, pulse: np.ndarray, det_of: np.ndarray,
            after: np.ndarray, source: SourceParams) -> Detections:
    order = np.argsort(pulse, kind="stable")
    pulse, det_of, after = pulse[order], det_of[order], after[order]
    if len(pulse) == 0:
        empty = np.zeros(0, dtype=np.uint8)
        return Detections(np.zeros(0, dtype=np.uint64), *([empty] * 7))
    starts = np.flatnonzero(np.r_[True, pulse[1:] != pulse[:-1]])
    mask = np.bitwise_or.reduceat((1 << det_of).astype(np.uint8), starts)
    after = np.logical_or.reduceat(after, starts)
    pulse = pulse[starts].astype(np.uint64)
    clicks = np.bitwise_count(mask)
    z_clicks, x_clicks = (mask & 3) != 0, (mask & 12) != 0
    rand = qrng_hash(squash_seed, pulse)
    rand_bit = (rand & np.uint64(1)).astype(np.uint8)
    rand_basis = ((rand >> np.uint64(1)) & np.uint64(1)).astype(np.uint8)
    single_det = np.log2(np.maximum(mask, 1)).astype(np.uint8)
    basis = np.where(z_clicks & x_clicks, rand_basis, x_clicks.astype(np.uint8))
    bit = np.where(clicks == 1, single_det & 1, rand_bit).astype(np.uint8)
    sym = map_symbols(qrng_words(seed, pulse), source.mapper)
    return Detections(pulse, mask, basis.astype(np.uint8), bit, sym.intensity, sym.basis,
                      sym.bit, after.astype(np.uint8))

