"""models.ground.stimulus: the detector response's density (what the calibration's expected
histogram is built from) against its moments, and the stretch length checks."""

from pathlib import Path

import numpy as np
import pytest

from models.ground.stimulus import (
    CH_SYNC,
    FWHM_PER_SIGMA,
    DetectorResponse,
    StimulusConfig,
    StimulusError,
    generate,
)

GRID = np.arange(-12000.0, 12001.0)  # 15 tail constants: the moments come out exact


@pytest.mark.parametrize("sync_fwhm", [0.0, 300.0])
def test_response_density_has_unit_area_and_the_moments_of_its_parts(sync_fwhm):
    """Gaussian core (detector, laser and sync jitter added in quadrature) * fibre box *
    (prompt or exponential tail cut at the grid's end): area 1, mean the tail's, variance the
    sum of the parts' variances."""
    r = DetectorResponse()
    p = r.pdf(GRID, sync_fwhm)
    t = GRID[GRID >= 0]
    w = np.exp(-t / r.tail_tau_ps)
    tail_mean, tail_sq = (w * t).sum() / w.sum(), (w * t * t).sum() / w.sum()
    mean = r.tail_fraction * tail_mean
    var = (np.hypot(np.hypot(r.core_fwhm_ps, r.laser_fwhm_ps), sync_fwhm) / FWHM_PER_SIGMA) ** 2 \
        + r.fibre_spread_ps**2 / 12 + r.tail_fraction * tail_sq - mean**2
    got_mean = (p * GRID).sum()
    assert abs(p.sum() - 1.0) < 1e-9
    assert abs(got_mean - mean) < 0.1
    assert abs(np.sqrt((p * (GRID - got_mean) ** 2).sum()) / np.sqrt(var) - 1) < 1e-4


def variance(p: np.ndarray) -> float:
    mean = (p * GRID).sum()
    return float((p * (GRID - mean) ** 2).sum())


@pytest.mark.parametrize("part", ["laser", "sync", "core"])
def test_each_gaussian_jitter_adds_its_variance(part):
    """Laser pulse, sync jitter and detector core add in quadrature: widening one from 0 to
    its FWHM raises the density's variance by (FWHM / 2.3548)**2."""
    fwhm = {"laser": 60.0, "sync": 300.0, "core": 350.0}[part]
    base = DetectorResponse(**{f"{part}_fwhm_ps": 0.0} if part != "sync" else {})
    wide = DetectorResponse(**{f"{part}_fwhm_ps": fwhm} if part != "sync" else {})
    added = variance(wide.pdf(GRID, fwhm if part == "sync" else 0.0)) - variance(base.pdf(GRID))
    assert abs(added / (fwhm / FWHM_PER_SIGMA) ** 2 - 1) < 1e-3


def test_response_defaults_are_the_documented_ones():
    """docs/ground.md's table of the detector response gives the defaults and their sources."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "ground.md").read_text()
    r = DetectorResponse()
    assert f"| Gaussian core | {r.core_fwhm_ps:.0f} ps FWHM |" in doc
    assert f"| laser pulse | {r.laser_fwhm_ps:.0f} ps FWHM Gaussian |" in doc
    assert f"| multimode fibre | {r.fibre_spread_ps:.0f} ps uniform |" in doc
    assert (f"| diffusion tail | {r.tail_fraction * 100:.0f} % of detections, exponential, "
            f"tau = {r.tail_tau_ps:.0f} ps |") in doc


def test_response_peak_sits_just_after_zero():
    """The tail pulls the peak a few ps late of the prompt core; sync jitter widens the core."""
    r = DetectorResponse()
    assert 0 < r.mode_ps() < 30 and 0 < r.mode_ps(300.0) < 30
    assert r.mode_ps() == GRID[np.argmax(r.pdf(GRID))]


def test_one_frame_stretch_is_accepted_and_none_refused():
    assert StimulusConfig(frames=1).frames == 1
    with pytest.raises(StimulusError, match="frames=0, first_frame=0: need frames >= 1"):
        StimulusConfig(frames=0)


def test_sync_tags_are_no_photon():
    """Sync tags carry their frame and no pulse (-1): only signal clicks have a true pulse."""
    s = generate(StimulusConfig(frames=2))
    sync = s.channel == CH_SYNC
    assert s.frame[sync].tolist() == [0, 1, 2]
    assert (s.pulse[sync] == -1).all() and not s.signal[sync].any()
    assert s.signal.sum() > 0 and (s.pulse[s.signal] >= 0).all()
