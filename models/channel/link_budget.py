"""Link budget (SPEC 6): efficiency from a photon leaving the satellite to a detector click.

Factors (all numbers defaults from SPEC 1 / the paper unless marked *project choice*):

* diffraction: Gaussian beam of full-angle 1/e² divergence ``θ`` = 9 µrad from a 200 mm
  aperture; beam radius at range d ``w(d) = sqrt(w0² + (θ d / 2)²)`` with w0 = 100 mm; fraction
  collected by the 280 mm receiver (radius a = 140 mm): ``1 − exp(−2 a² / w²)``;
* pointing: Gaussian pointing jitter of RMS ``σ`` per axis (*project choice* 1 µrad, the paper's
  sub-µrad to 1.6 µrad satellite fine-tracking error); averaged over the jitter the collected
  fraction is multiplied by ``w² / (w² + 4 σ² d²)``;
* atmosphere: ``T_zenith ^ airmass(E)`` with the Kasten-Young (1989) air mass, so the model stays
  finite at the horizon; ``T_zenith`` per station (*project choice*, calibrated: docs/physics.md);
* satellite optics (*project choice*, calibrated against Table 1) and a per-pass ``extra_loss_db``
  (clouds, haze, tracking quality of that night: the paper gives no per-pass conditions);
* OGS optics 49 %, detector 60 %, detection gate 80 % of the signal photons kept.

:func:`link_efficiency` returns the product, i.e. the mean number of detector clicks caused by
one photon leaving the satellite (before dead time).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


class LinkError(ValueError):
    """Link parameters outside their physical range."""


@dataclass(frozen=True)
class LinkParams:
    divergence_urad: float = 9.0
    tx_aperture_m: float = 0.200
    rx_aperture_m: float = 0.280
    pointing_rms_urad: float = 1.0
    zenith_transmission: float = 0.85
    satellite_optics: float = 0.2927  # calibrated, docs/calibration.md
    ogs_optics: float = 0.49
    detector_efficiency: float = 0.60
    gate_efficiency: float = 0.80
    extra_loss_db: float = 0.0

    def __post_init__(self) -> None:
        for name in ("divergence_urad", "tx_aperture_m", "rx_aperture_m"):
            if not getattr(self, name) > 0:
                raise LinkError(f"link parameter {name}={getattr(self, name)} must be positive")
        if self.pointing_rms_urad < 0:
            raise LinkError(f"pointing_rms_urad={self.pointing_rms_urad} must not be negative")
        for name in ("zenith_transmission", "satellite_optics", "ogs_optics",
                     "detector_efficiency", "gate_efficiency"):
            value = getattr(self, name)
            if not 0 < value <= 1:
                raise LinkError(f"link efficiency {name}={value} is outside (0, 1]")
        if self.extra_loss_db < 0:
            raise LinkError(f"extra_loss_db={self.extra_loss_db} must not be negative (a loss)")

    @property
    def fixed_efficiency(self) -> float:
        """Product of the range-independent factors."""
        return (self.satellite_optics * self.ogs_optics * self.detector_efficiency
                * self.gate_efficiency * 10 ** (-self.extra_loss_db / 10))


def beam_radius(range_m: np.ndarray, params: LinkParams) -> np.ndarray:
    """1/e² beam radius (m) at the receiver."""
    w0 = params.tx_aperture_m / 2
    return np.sqrt(w0**2 + (params.divergence_urad * 1e-6 * np.asarray(range_m) / 2) ** 2)


def diffraction_efficiency(range_m: np.ndarray, params: LinkParams) -> np.ndarray:
    """Fraction of the Gaussian beam inside the receiver aperture."""
    a = params.rx_aperture_m / 2
    return -np.expm1(-2 * a**2 / beam_radius(range_m, params) ** 2)


def pointing_efficiency(range_m: np.ndarray, params: LinkParams) -> np.ndarray:
    """Mean loss factor of Gaussian pointing jitter (per-axis RMS ``pointing_rms_urad``)."""
    w = beam_radius(range_m, params)
    jitter = params.pointing_rms_urad * 1e-6 * np.asarray(range_m)
    return w**2 / (w**2 + 4 * jitter**2)


def air_mass(elevation_deg: np.ndarray) -> np.ndarray:
    """Kasten-Young air mass (1 at zenith, about 38 at the horizon)."""
    e = np.asarray(elevation_deg, dtype=np.float64)
    return 1.0 / (np.sin(np.radians(e)) + 0.50572 * (e + 6.07995) ** -1.6364)


def atmosphere_efficiency(elevation_deg: np.ndarray, params: LinkParams) -> np.ndarray:
    return params.zenith_transmission ** air_mass(elevation_deg)


def link_efficiency(range_m: np.ndarray, elevation_deg: np.ndarray,
                    params: LinkParams) -> np.ndarray:
    """Mean detector clicks per photon leaving the satellite, per sample of the track."""
    return (diffraction_efficiency(range_m, params) * pointing_efficiency(range_m, params)
            * atmosphere_efficiency(elevation_deg, params) * params.fixed_efficiency)


def to_db(efficiency: np.ndarray | float) -> np.ndarray | float:
    """Loss in dB (positive) of an efficiency."""
    return -10 * np.log10(efficiency) if isinstance(efficiency, np.ndarray) else (
        -10 * math.log10(efficiency))
