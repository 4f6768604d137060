"""models.channel.geometry: the range rate of a TLE track is the time derivative of its range;
the sidereal time is the published one."""

import math

import numpy as np

from models.channel.geometry import _gmst_rad, orbit_rate, tle_track
from tests.channel.test_geometry_link_budget import _tle_line


def test_tle_range_rate_is_the_derivative_of_the_range():
    n_rev_day = orbit_rate() * 86400 / (2 * math.pi)
    line1 = _tle_line("1 99999U 22001A   22268.50000000  .00000000  00000-0  00000-0 0  999")
    line2 = _tle_line(f"2 99999  97.4000 120.0000 0001000  90.0000 270.0000 {n_rev_day:11.8f}"
                      "    1")
    track = tle_track(line1, line2, 36.677, 117.1225, 50.0, 2459848.0, 600.0, 1.0)
    slope = np.gradient(track.range_m, track.t_s)
    assert np.abs(track.range_rate_m_s - slope)[1:-1].max() < 1.0
    assert np.abs(track.range_rate_m_s).max() > 1000.0


def test_sidereal_time_matches_the_published_values():
    """IAU 1982 GMST at the J2000.0 epoch (280.46061837504 deg) and Vallado's example 3-5
    (1992-08-20 12:14 UT1: 152.578787886 deg); an hour per century more in the rate moves the
    second by a degree."""
    jd = np.array([2451545.0, 2448854.5 + (12 * 60 + 14) / 1440])
    got = np.degrees(_gmst_rad(jd))
    np.testing.assert_allclose(got, [280.46061837504, 152.578787886], atol=1e-6)
