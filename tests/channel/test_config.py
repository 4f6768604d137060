"""Station and pass configurations: every Table 1 pass loads, bad input gives one-line errors."""

import json
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.channel.config import REPO_CONFIGS, PassConfigError, load_pass, load_station
from models.channel.passmodel import config_slices

PASSES = sorted((REPO_CONFIGS / "passes").glob("*.toml"))
GOOD = 'station = "jinan"\nmax_elevation_deg = 40.0\n'


def test_every_table1_row_has_a_pass_config():
    assert len(PASSES) == 18
    for path in PASSES:
        config = load_pass(path)
        assert config.paper["sifted_packets"] > 0
        assert config.station.name.lower() == path.stem.split("-")[0]


def test_station_coordinates_from_the_paper():
    jinan = load_station("jinan", [REPO_CONFIGS / "stations"])
    assert jinan.latitude_deg == pytest.approx(36 + 40 / 60 + 38 / 3600, abs=1e-6)
    assert jinan.longitude_deg == pytest.approx(117 + 7 / 60 + 21 / 3600, abs=1e-6)
    nanshan = load_station("Nanshan", [REPO_CONFIGS / "stations"])
    assert nanshan.environment == "mountain"


def test_minimal_config_gets_defaults_and_a_300_s_pass(tmp_path: Path):
    path = tmp_path / "p.toml"
    path.write_text(GOOD)
    config = load_pass(path)
    assert config.source.intensities == (0.8, 0.1, 0.001)
    assert config.source.mapper.probabilities()["signal"] == 0.5
    assert config.post.sample_below == 6554 and config.post.pa_block_bits == 500_000
    slices = config_slices(config)
    assert slices.pulses == 300 * 625_000_000
    assert len(slices.eta) == 3000 and (slices.eta > 0).all()


def test_moon_in_view_adds_background(tmp_path: Path):
    path = tmp_path / "p.toml"
    path.write_text(GOOD)
    dark = load_pass(path).detector.background_cps
    path.write_text(GOOD + "moon_in_view = true\n")
    assert load_pass(path).detector.background_cps > dark


BAD = [
    ('[source]\nprobabilities = {s = 0.5, d = 0.25, v = 0.5}\n', "sum to 1"),
    ('[source]\nintensities = {s = 0.8, d = -0.1, v = 0.001}\n', "negative intensity"),
    ('[source]\nintensities = {s = 0.1, d = 0.8, v = 0.001}\n', "signal > decoy > vacuum"),
    ('[source]\nprobabilities = {s = 0.3, d = 0.3, v = 0.4}\n', "multiple of 1/256"),
    ('[source]\nintensities = {s = 0.8, d = 0.1}\n', "keys s, d, v"),
    ('[link]\nogs_optics = 1.2\n', "ogs_optics"),
    ('[link]\nogs_optic = 0.4\n', "unknown key 'ogs_optic'"),
    ('[detector]\ndark_cps = -5\n', "dark_cps"),
    ('[detector]\ndark_cps = "lots"\n', "must be float"),
    ('[postprocess]\npa_block_bits = 550000\n', "pa_block_bits"),
    ('[postprocess]\nmethod = "magic"\n', "method"),
    ('duration_s = -3.0\n', "duration_s"),
    ('altitude_km = 50.0\n', "altitude_km"),
    ('moon_fov_s = [5.0]\n', "moon_fov_s"),
    ('moon_fov_s = [9.0, 3.0]\n', "moon_fov_s"),
    ('moon_fov_cps = -1.0\n', "moon_fov_cps"),
]


@pytest.mark.parametrize(("extra", "match"), BAD)
def test_invalid_configs_give_one_line_errors(tmp_path: Path, extra: str, match: str):
    path = tmp_path / "bad.toml"
    path.write_text(GOOD + extra)
    with pytest.raises(PassConfigError, match=match) as info:
        load_pass(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


@pytest.mark.parametrize(("text", "match"), [
    ('station = "atlantis"\nmax_elevation_deg = 40.0\n', "unknown station 'atlantis'"),
    ('station = "jinan"\n', "missing key 'max_elevation_deg'"),
    ('station = "jinan"\nmax_elevation_deg = 95.0\n', "max_elevation_deg=95.0"),
    ('station = "jinan"\nmax_elevation_deg = 5.0\n', "max_elevation_deg=5.0"),
    ('station = "jinan"\nmax_elevation_deg = [\n', "not valid TOML"),
    ('station = "jinan"\nmax_elevation_deg = 40.0\n[tle]\nline1 = "1 x"\n', "tle"),
])
def test_unknown_station_and_impossible_passes(tmp_path: Path, text: str, match: str):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(PassConfigError, match=match) as info:
        load_pass(path)
    assert "\n" not in str(info.value)


def test_missing_file(tmp_path: Path):
    with pytest.raises(PassConfigError, match="no such configuration file"):
        load_pass(tmp_path / "nope.toml")


def test_unknown_station_lists_the_known_ones(tmp_path: Path):
    path = tmp_path / "bad.toml"
    path.write_text('station = "x"\nmax_elevation_deg = 40.0\n')
    with pytest.raises(PassConfigError, match="hefei, jinan, nanshan, wuhan"):
        load_pass(path)


def test_tle_example_gives_a_300_s_sgp4_pass():
    config = load_pass(REPO_CONFIGS / "examples" / "jinan-tle.toml")
    assert config.tle is not None and config.max_elevation_deg is None
    slices = config_slices(config)
    assert len(slices.eta) == 3000
    assert slices.track.elevation_deg.max() == pytest.approx(44.2, abs=0.2)
    assert 680e3 < slices.track.range_m.min() < 700e3


def test_table1_configs_are_calibrated_to_their_packets():
    """Expected sifted packets of every pass lie within its Table 1 count + [0, 1)."""
    from models.channel.calibrate import expected_summary

    for path in PASSES:
        config = load_pass(path)
        packets, qber = expected_summary(replace(config, step_s=1.0))
        paper = config.paper["sifted_packets"]
        assert paper + 0.3 < packets < paper + 0.7, path.stem
        assert abs(qber - config.paper["qber_mean_pct"] / 100) < 0.0005, path.stem


def test_moon_in_the_field_of_view_raises_background_in_its_window():
    config = load_pass(REPO_CONFIGS / "passes" / "wuhan-2023-09-01.toml")
    assert config.moon_in_view and config.moon_fov_s is not None
    slices = config_slices(config)
    t = slices.edges[:-1] / config.source.pulse_rate_hz
    inside = (t >= config.moon_fov_s[0]) & (t < config.moon_fov_s[1])
    assert 60 < inside.sum() < 80
    assert np.all(slices.extra_background_cps[inside] == config.moon_fov_cps)
    assert np.all(slices.extra_background_cps[~inside] == 0)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + "}"
    return repr(value)


SCALARS = st.one_of(st.booleans(), st.integers(-5, 10**6), st.floats(-10.0, 1e6),
                    st.text("abcxyz", max_size=4))
VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=3),
                   st.dictionaries(st.sampled_from(["s", "d", "v", "q"]), SCALARS, max_size=4))
SECTIONS = {
    "": ["max_elevation_deg", "duration_s", "min_elevation_deg", "step_s", "altitude_km",
         "moon_in_view", "moon_fov_s", "moon_fov_cps", "seed", "date", "bogus"],
    "source": ["intensities", "probabilities", "p_z", "pulse_rate_hz", "bogus"],
    "link": ["divergence_urad", "ogs_optics", "extra_loss_db", "pointing_rms_urad", "bogus"],
    "detector": ["dark_cps", "pol_error", "gate_ps", "afterpulse_prob", "bogus"],
    "postprocess": ["packet_bits", "sample_fraction", "pa_block_bits", "method", "bogus"],
}


@given(st.sampled_from(sorted(SECTIONS)).flatmap(
    lambda section: st.tuples(st.just(section),
                              st.dictionaries(st.sampled_from(SECTIONS[section]), VALUES,
                                              min_size=1, max_size=3))))
@settings(max_examples=150, deadline=None)
def test_any_malformed_value_is_a_pass_config_error(case):
    section, values = case
    body = "\n".join(f"{k} = {_toml_value(v)}" for k, v in values.items())
    text = 'station = "jinan"\n'
    if section:
        text += f"max_elevation_deg = 40.0\n[{section}]\n{body}\n"
    else:
        default = "" if "max_elevation_deg" in values else "max_elevation_deg = 40.0\n"
        text += body + "\n" + default
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.toml"
        path.write_text(text)
        try:
            config = load_pass(path)
        except PassConfigError as exc:
            assert "\n" not in str(exc)
            return
        config_slices(replace(config, duration_s=min(config.duration_s, 2.0), step_s=1.0))
