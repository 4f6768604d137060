"""Scenario files: every shipped one loads; malformed ones give one clear line, exit code 2."""

from pathlib import Path

import pytest

from sim.e2e import main
from sim.e2e_scenario import SCENARIO_DIR, ScenarioError, load_scenario, pass_window

SHIPPED = sorted(SCENARIO_DIR.glob("*.toml"))


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_scenarios_load_and_have_a_channel(path):
    scenario = load_scenario(path)
    window = pass_window(scenario)
    assert 0 < window.eta * scenario.rate_scale <= 1
    assert scenario.description


BAD = {
    "unknown key": ('pass = "configs/passes/jinan-2022-09-25.toml"\nspeed = 3\n',
                    "unknown key 'speed'"),
    "unknown link key": ('pass = "configs/passes/jinan-2022-09-25.toml"\n[uplink]\nlos = 0.1\n',
                         "unknown key 'los' in [uplink]"),
    "not toml": ("pass = \n", "not valid TOML"),
    "no pass": ("frames = 4\n", "missing key 'pass'"),
    "negative rate": ('pass = "configs/passes/jinan-2022-09-25.toml"\nrate_scale = -1\n',
                      "rate_scale=-1.0 must be positive"),
    "loss > 1": ('pass = "configs/passes/jinan-2022-09-25.toml"\n[downlink]\nloss = 2\n',
                 "loss=2.0 is outside 0..1"),
    "string frames": ('pass = "configs/passes/jinan-2022-09-25.toml"\nframes = "many"\n',
                      "'frames' must be a number"),
    "bad burst": ('pass = "configs/passes/jinan-2022-09-25.toml"\n[uplink]\nbursts = [[1]]\n',
                  "bursts must be a list"),
    "broken oscillator": ('pass = "configs/passes/jinan-2022-09-25.toml"\nsatellite_ppm = 3000\n',
                          "satellite_ppm=3000.0 is beyond"),
    "range rate": ('pass = "configs/passes/jinan-2022-09-25.toml"\nrange_rate_m_s = 3e4\n',
                   "range_rate_m_s=30000.0 is beyond"),
    "no cdr range": ('pass = "configs/passes/jinan-2022-09-25.toml"\ncdr_pull_in_ppm = 0\n',
                     "cdr_pull_in_ppm=0.0 must be in"),
}


@pytest.mark.parametrize("name", BAD)
def test_bad_scenario_is_one_clear_error(name, tmp_path: Path):
    text, message = BAD[name]
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_scenario(path)


def test_impossible_channel_is_a_scenario_error(tmp_path: Path):
    path = tmp_path / "hot.toml"
    path.write_text('pass = "configs/passes/jinan-2022-09-25.toml"\nrate_scale = 1e9\n'
                    "offset_s = 1e6\n")
    with pytest.raises(ScenarioError, match="beyond"):
        pass_window(load_scenario(path))


def test_cli_reports_a_bad_scenario_on_one_line_with_exit_code_2(tmp_path: Path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text("frames = 4\n")
    assert main(["--scenario", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("sim: error:") and "missing key 'pass'" in err[0]
