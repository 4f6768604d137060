"""Pass geometry (SPEC 6): range, elevation and range rate of a 500 km circular orbit versus time.

Circular-orbit model (default)
------------------------------
Spherical Earth (radius ``R`` = 6371 km), circular orbit of radius ``r = R + h`` traversed at the
Keplerian rate ``ω = sqrt(GM / r³)``, and the station fixed in the orbit's frame (the Earth's
rotation, 0.46 km/s at the equator against 7.6 km/s ground-track speed, only tilts the ground
track by a few degrees during a pass and is neglected). A pass is fixed by its maximum elevation
``E_max``: at culmination (t = 0) the Earth-central angle between the station and the
sub-satellite point is ``ψ0 = arccos(R cos E_max / r) − E_max``; t seconds later the satellite
has moved ``φ = ω t`` along its orbit and

    cos ψ(t) = cos ψ0 · cos φ(t)
    d(t)²    = R² + r² − 2 R r cos ψ(t)              (slant range)
    sin E(t) = (r cos ψ(t) − R) / d(t)               (elevation)
    ḋ(t)     = R r ω cos ψ0 sin φ(t) / d(t)          (range rate, > 0 receding)

Optional TLE model
------------------
:func:`tle_track` propagates a two-line element set with ``sgp4`` (TEME frame), rotates it to an
Earth-fixed frame with the Greenwich mean sidereal time (IAU 1982; polar motion and the
equation of the equinoxes are below a kilometre and neglected) and computes the topocentric
range, elevation and range rate on a WGS-84 station.

The data-collection window of a pass is ``duration_s`` (default 300 s) centred on culmination
and clipped to the part above ``min_elevation_deg``; it is sampled every ``step_s`` and sample i
stands for the interval ``[t_i, t_i + step_s)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

EARTH_RADIUS_M = 6_371_000.0
GM_EARTH = 3.986004418e14  # m³/s²
WGS84_A = 6_378_137.0
WGS84_F = 1 / 298.257223563
DEFAULT_ALTITUDE_M = 500_000.0


class GeometryError(ValueError):
    """A pass that the geometry cannot describe (elevation, altitude or TLE out of range)."""


@dataclass(frozen=True)
class Track:
    """Satellite as seen from the station: equal-length arrays versus time.

    ``t_s`` seconds from culmination (circular model) or from the window start (TLE model);
    ``range_m`` slant range; ``elevation_deg``; ``range_rate_m_s`` (positive when receding).
    """

    t_s: np.ndarray
    range_m: np.ndarray
    elevation_deg: np.ndarray
    range_rate_m_s: np.ndarray

    @property
    def max_elevation_deg(self) -> float:
        return float(np.max(self.elevation_deg))

    def window(self, duration_s: float, min_elevation_deg: float) -> Track:
        """``duration_s`` of uniformly spaced samples centred on the elevation maximum, the part
        above ``min_elevation_deg``; sample i stands for ``[t_i, t_i + step)``."""
        step = float(self.t_s[1] - self.t_s[0]) if len(self.t_s) > 1 else duration_s
        n = max(1, round(duration_s / step))
        lo = max(0, int(np.argmax(self.elevation_deg)) - n // 2)
        index = np.arange(lo, min(len(self.t_s), lo + n))
        index = index[self.elevation_deg[index] >= min_elevation_deg]
        if len(index) == 0:
            raise GeometryError(
                f"the pass never rises above min_elevation_deg={min_elevation_deg}")
        return Track(self.t_s[index], self.range_m[index], self.elevation_deg[index],
                     self.range_rate_m_s[index])


def orbit_rate(altitude_m: float = DEFAULT_ALTITUDE_M) -> float:
    """Angular rate ω (rad/s) of a circular orbit at ``altitude_m``."""
    return math.sqrt(GM_EARTH / (EARTH_RADIUS_M + altitude_m) ** 3)


def central_angle(elevation_deg: float, altitude_m: float = DEFAULT_ALTITUDE_M) -> float:
    """Earth-central angle ψ (rad) between station and sub-satellite point at an elevation."""
    e = math.radians(elevation_deg)
    r = EARTH_RADIUS_M + altitude_m
    return math.acos(EARTH_RADIUS_M * math.cos(e) / r) - e


def circular_pass(max_elevation_deg: float, t_s: np.ndarray,
                  altitude_m: float = DEFAULT_ALTITUDE_M) -> Track:
    """Track of a circular-orbit pass with maximum elevation ``max_elevation_deg`` at t = 0."""
    if not 0 < max_elevation_deg <= 90:
        raise GeometryError(f"max_elevation_deg={max_elevation_deg} is outside (0, 90]")
    if not 100_000 <= altitude_m <= 2_000_000:
        raise GeometryError(f"altitude_m={altitude_m} is outside the LEO range 100..2000 km")
    t = np.asarray(t_s, dtype=np.float64)
    big_r, r = EARTH_RADIUS_M, EARTH_RADIUS_M + altitude_m
    omega = orbit_rate(altitude_m)
    cos_psi0 = math.cos(central_angle(max_elevation_deg, altitude_m))
    phi = omega * t
    cos_psi = cos_psi0 * np.cos(phi)
    d = np.sqrt(big_r**2 + r**2 - 2 * big_r * r * cos_psi)
    elevation = np.degrees(np.arcsin(np.clip((r * cos_psi - big_r) / d, -1.0, 1.0)))
    rate = big_r * r * omega * cos_psi0 * np.sin(phi) / d
    return Track(t, d, elevation, rate)


def pass_track(max_elevation_deg: float, duration_s: float = 300.0,
               min_elevation_deg: float = 10.0, step_s: float = 0.1,
               altitude_m: float = DEFAULT_ALTITUDE_M) -> Track:
    """Data-collection track of a circular-orbit pass, sampled every ``step_s`` seconds."""
    if duration_s <= 0 or step_s <= 0:
        raise GeometryError(f"duration_s={duration_s} and step_s={step_s} must be positive")
    if max_elevation_deg < min_elevation_deg:
        raise GeometryError(f"max_elevation_deg={max_elevation_deg} is below "
                            f"min_elevation_deg={min_elevation_deg}: no data collection")
    n = round(duration_s / step_s)
    t = (np.arange(n) - n // 2) * step_s
    return circular_pass(max_elevation_deg, t, altitude_m).window(duration_s, min_elevation_deg)


def _gmst_rad(jd_ut1: np.ndarray) -> np.ndarray:
    """Greenwich mean sidereal time (IAU 1982) in radians."""
    tu = (jd_ut1 - 2451545.0) / 36525.0
    seconds = (67310.54841 + (876600.0 * 3600 + 8640184.812866) * tu + 0.093104 * tu**2
               - 6.2e-6 * tu**3)
    return np.mod(np.radians(seconds / 240.0), 2 * np.pi)


def _station_ecef(lat_deg: float, lon_deg: float, height_m: float) -> np.ndarray:
    lat, lon = math.radians(lat_deg), math.radians(lon_deg)
    e2 = WGS84_F * (2 - WGS84_F)
    n = WGS84_A / math.sqrt(1 - e2 * math.sin(lat) ** 2)
    return np.array([(n + height_m) * math.cos(lat) * math.cos(lon),
                     (n + height_m) * math.cos(lat) * math.sin(lon),
                     (n * (1 - e2) + height_m) * math.sin(lat)])


def tle_track(line1: str, line2: str, lat_deg: float, lon_deg: float, height_m: float,
              jd_start: float, span_s: float, step_s: float = 0.1) -> Track:
    """Topocentric track of a TLE satellite over ``span_s`` seconds from Julian date ``jd_start``.

    Raises :class:`GeometryError` for a TLE that ``sgp4`` rejects or cannot propagate.
    """
    from sgp4.api import Satrec

    try:
        sat = Satrec.twoline2rv(line1, line2)
    except ValueError as exc:
        raise GeometryError(f"invalid TLE: {exc}") from None
    t = np.arange(0.0, span_s + step_s / 2, step_s)
    jd = jd_start + t / 86400.0
    jd_int = np.floor(jd)
    err, pos, vel = sat.sgp4_array(jd_int, jd - jd_int)
    if np.any(err):
        raise GeometryError(f"sgp4 cannot propagate the TLE (error code {int(np.max(err))})")
    theta = _gmst_rad(jd)
    c, s = np.cos(theta), np.sin(theta)
    omega_earth = 7.2921158553e-5
    p_teme, v_teme = pos * 1000.0, vel * 1000.0
    x = c * p_teme[:, 0] + s * p_teme[:, 1]
    y = -s * p_teme[:, 0] + c * p_teme[:, 1]
    p = np.stack([x, y, p_teme[:, 2]], axis=1)
    vx = c * v_teme[:, 0] + s * v_teme[:, 1] + omega_earth * y
    vy = -s * v_teme[:, 0] + c * v_teme[:, 1] - omega_earth * x
    v = np.stack([vx, vy, v_teme[:, 2]], axis=1)
    station = _station_ecef(lat_deg, lon_deg, height_m)
    lat, lon = math.radians(lat_deg), math.radians(lon_deg)
    up = np.array([math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)])
    rel = p - station
    d = np.linalg.norm(rel, axis=1)
    elevation = np.degrees(np.arcsin(rel @ up / d))
    rate = np.sum(rel * v, axis=1) / d
    return Track(t, d, elevation, rate)
