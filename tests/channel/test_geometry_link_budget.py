"""Pass geometry and link budget against hand-computed values."""

import math

import numpy as np
import pytest

from models.channel.geometry import (
    EARTH_RADIUS_M,
    GeometryError,
    central_angle,
    circular_pass,
    orbit_rate,
    pass_track,
    tle_track,
)
from models.channel.link_budget import (
    LinkError,
    LinkParams,
    air_mass,
    diffraction_efficiency,
    link_efficiency,
    pointing_efficiency,
    to_db,
)


def slant_range_by_hand(elevation_deg: float, h: float = 500e3) -> float:
    """Law of cosines solved for the slant range at elevation E."""
    s = EARTH_RADIUS_M * math.sin(math.radians(elevation_deg))
    return -s + math.sqrt(s * s + 2 * EARTH_RADIUS_M * h + h * h)


def test_orbit_period_of_500_km():
    assert 2 * math.pi / orbit_rate() == pytest.approx(5668, rel=2e-3)  # 94.5 min


@pytest.mark.parametrize("elevation", [15.0, 34.1, 60.9, 89.3])
def test_culmination_range_and_elevation(elevation):
    track = circular_pass(elevation, np.array([0.0]))
    assert track.range_m[0] == pytest.approx(slant_range_by_hand(elevation), rel=1e-9)
    assert track.elevation_deg[0] == pytest.approx(elevation, abs=1e-9)
    assert track.range_rate_m_s[0] == 0.0


def test_zenith_pass_is_symmetric_and_consistent():
    t = np.linspace(-200, 200, 4001)
    track = circular_pass(90.0, t)
    assert track.range_m.min() == pytest.approx(500e3)
    np.testing.assert_allclose(track.range_m, track.range_m[::-1], rtol=1e-12)
    np.testing.assert_allclose(track.range_rate_m_s, -track.range_rate_m_s[::-1], atol=1e-6)
    # the range rate is the derivative of the range
    np.testing.assert_allclose(np.gradient(track.range_m, t)[1:-1],
                               track.range_rate_m_s[1:-1], atol=0.05)
    # range and elevation agree with the hand formula everywhere
    np.testing.assert_allclose(
        track.range_m, [slant_range_by_hand(e) for e in track.elevation_deg], rtol=1e-9)
    assert np.abs(track.range_rate_m_s).max() < 7.61e3


def test_pass_window_is_300_s_above_min_elevation():
    track = pass_track(34.1, duration_s=300, min_elevation_deg=10, step_s=0.5)
    assert track.t_s[0] == -150 and track.t_s[-1] == 149.5 and len(track.t_s) == 600
    assert track.elevation_deg.min() > 10
    clipped = pass_track(12.0, duration_s=300, min_elevation_deg=10, step_s=0.5)
    assert clipped.elevation_deg.min() >= 10 and clipped.t_s[-1] - clipped.t_s[0] < 299


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"max_elevation_deg": 95.0}, "max_elevation_deg"),
    ({"max_elevation_deg": 5.0}, "below min_elevation_deg"),
    ({"max_elevation_deg": 40.0, "duration_s": -1.0}, "must be positive"),
])
def test_impossible_passes_raise_clear_errors(kwargs, match):
    with pytest.raises(GeometryError, match=match):
        pass_track(**kwargs)


def _tle_line(body: str) -> str:
    checksum = sum(int(c) if c.isdigit() else (c == "-") for c in body) % 10
    return f"{body}{checksum}"


def test_sgp4_pass_matches_circular_model():
    n_rev_day = orbit_rate() * 86400 / (2 * math.pi)
    line1 = _tle_line("1 99999U 22001A   22268.50000000  .00000000  00000-0  00000-0 0  999")
    line2 = _tle_line(f"2 99999  97.4000 120.0000 0001000  90.0000 270.0000 {n_rev_day:11.8f}"
                      "    1")
    jd0 = 2459848.0  # 2022-09-25 12:00 UTC
    lat, lon = 36.677, 117.1225
    day = tle_track(line1, line2, lat, lon, 50.0, jd0, 86400.0, step_s=10.0)
    culm = float(day.t_s[np.argmax(day.elevation_deg)])
    fine = tle_track(line1, line2, lat, lon, 50.0, jd0 + (culm - 200) / 86400, 400.0, 1.0)
    top = int(np.argmax(fine.elevation_deg))
    model = circular_pass(fine.max_elevation_deg, fine.t_s - fine.t_s[top])
    assert fine.max_elevation_deg > 20
    np.testing.assert_allclose(fine.range_m[top - 100:top + 100],
                               model.range_m[top - 100:top + 100], rtol=0.04)
    assert abs(fine.range_rate_m_s[top]) < 100


def test_invalid_tle_is_a_geometry_error():
    with pytest.raises(GeometryError, match="TLE"):
        tle_track("1 garbage", "2 garbage", 36.7, 117.1, 0.0, 2459848.0, 10.0)


def test_diffraction_and_pointing_by_hand():
    params = LinkParams()
    w = math.sqrt(0.1**2 + (9e-6 * 1e6 / 2) ** 2)
    assert diffraction_efficiency(np.array(1e6), params) == pytest.approx(
        1 - math.exp(-2 * 0.14**2 / w**2), rel=1e-12)
    assert to_db(float(diffraction_efficiency(np.array(1e6), params))) == pytest.approx(27.1,
                                                                                        abs=0.05)
    assert pointing_efficiency(np.array(1e6), params) == pytest.approx(w**2 / (w**2 + 4),
                                                                       rel=1e-12)


def test_air_mass_and_total_efficiency():
    assert air_mass(np.array(90.0)) == pytest.approx(1.0, abs=1e-3)
    assert air_mass(np.array(30.0)) == pytest.approx(2.0, rel=5e-3)
    assert 30 < air_mass(np.array(0.0)) < 40
    params = LinkParams(zenith_transmission=0.8, satellite_optics=0.5, extra_loss_db=3.0)
    eta = link_efficiency(np.array([5e5]), np.array([90.0]), params)
    by_hand = (diffraction_efficiency(np.array(5e5), params)
               * pointing_efficiency(np.array(5e5), params) * 0.8 ** float(air_mass(90.0))
               * 0.5 * 0.49 * 0.6 * 0.8 * 10**-0.3)
    assert eta[0] == pytest.approx(float(by_hand), rel=1e-12)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"ogs_optics": 1.5}, "ogs_optics"),
    ({"divergence_urad": 0.0}, "divergence_urad"),
    ({"extra_loss_db": -1.0}, "extra_loss_db"),
    ({"pointing_rms_urad": -0.1}, "pointing_rms_urad"),
])
def test_bad_link_parameters(kwargs, match):
    with pytest.raises(LinkError, match=match):
        LinkParams(**kwargs)


def test_central_angle_of_zenith_is_zero():
    assert central_angle(90.0) == pytest.approx(0.0, abs=1e-12)
