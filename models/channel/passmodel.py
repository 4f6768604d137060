"""A whole pass of the channel model: configuration → track → slices → detections.

The pass starts at pulse 0 at the first sample of the data-collection window; slice i covers the
pulses of ``[t_i, t_i + step_s)`` and uses the link efficiency at the middle of the slice. The
moon in the telescope's field of view (``moon_fov_s``) adds ``moon_fov_cps`` of background per
detector to the slices that start inside that window.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from models.channel.config import PassConfig, PassConfigError
from models.channel.events import Detections, generate_detections
from models.channel.geometry import GeometryError, Track, circular_pass, pass_track, tle_track
from models.channel.link_budget import link_efficiency
from models.constants import pass_squash_seed


@dataclass(frozen=True)
class PassSlices:
    """The track at slice centres, pulse edges of the slices and link efficiency per slice."""

    track: Track
    edges: np.ndarray
    eta: np.ndarray
    extra_background_cps: np.ndarray

    @property
    def pulses(self) -> int:
        return int(self.edges[-1])


def config_track(config: PassConfig) -> Track:
    """Data-collection track of a pass configuration, sampled at the slice starts."""
    try:
        if config.tle is not None:
            st = config.station
            full = tle_track(config.tle.line1, config.tle.line2, st.latitude_deg,
                             st.longitude_deg, st.height_m, config.tle.jd_start(),
                             config.tle.span_s, config.step_s)
            return full.window(config.duration_s, config.min_elevation_deg)
        assert config.max_elevation_deg is not None
        return pass_track(config.max_elevation_deg, config.duration_s,
                          config.min_elevation_deg, config.step_s, config.altitude_km * 1e3)
    except GeometryError as exc:
        raise PassConfigError(f"{config.path}: {exc}") from None


def config_slices(config: PassConfig) -> PassSlices:
    start = config_track(config)
    t0 = start.t_s[0]
    edges_s = np.r_[start.t_s - t0, start.t_s[-1] - t0 + config.step_s]
    edges = np.rint(edges_s * config.source.pulse_rate_hz).astype(np.int64)
    centre = start.t_s + config.step_s / 2
    if config.tle is not None:
        mid = Track(centre, *(np.interp(centre, start.t_s, a) for a in (
            start.range_m, start.elevation_deg, start.range_rate_m_s)))
    else:
        assert config.max_elevation_deg is not None
        mid = circular_pass(config.max_elevation_deg, centre, config.altitude_km * 1e3)
    eta = link_efficiency(mid.range_m, mid.elevation_deg, config.link)
    extra = np.zeros(len(eta))
    if config.moon_fov_s is not None:
        since_start = start.t_s - t0
        extra[(since_start >= config.moon_fov_s[0]) & (since_start < config.moon_fov_s[1])] = (
            config.moon_fov_cps)
    return PassSlices(mid, edges, eta, extra)


def simulate_detections(config: PassConfig, slices: PassSlices,
                        progress: Callable[[int], None] | None = None) -> Detections:
    """Detections of the whole pass (O(detections)); ``progress`` gets slices done."""
    return generate_detections(config.seed, pass_squash_seed(config.ground_seed),
                               slices.edges, slices.eta, config.source, config.detector,
                               rng_seed=config.physics_seed, progress=progress,
                               extra_background_cps=slices.extra_background_cps)
