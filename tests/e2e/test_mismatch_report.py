"""``make sim`` as a user lives with it: the first-mismatch report points at the right beat and
cycle, the waves recorded around it show that beat, windows are sized per simulator, the
progress bar stays out of logs, and the run's picture is drawn."""

import io
import json

import pytest
import pywellen

from models.constants import FABRIC_CLOCK_PS
from rtl.common.payload import unpack
from rtl.sifting.layouts import Report
from sim import e2e
from sim.e2e import plan_window, record_mismatch_waves, run_e2e, start_line
from sim.e2e_scenario import SCENARIO_DIR, load_scenario
from sim.gtkwave_headless import open_headless
from sim.timeline import plot_timeline
from sim.wave_views import displayed_names
from tb.e2e.progress import Progress

CORRUPT_DETECTION = 5  # the model's measured bit of this detection is flipped
NOMINAL = SCENARIO_DIR / "nominal.toml"


def value_at(wave: pywellen.Waveform, name: str, time_ps: int) -> int:
    """Value of signal ``name`` (a hierarchical name ending) just after ``time_ps``."""
    var = min((v for v in wave.all_vars() if v.full_name.endswith(name)),
              key=lambda v: v.full_name.count("."))
    value = var.signal.value_at(time_ps)
    assert value is not None, f"{var.full_name} has no value at {time_ps} ps"
    return int(value)


@pytest.mark.cocotb
@pytest.mark.timeout(1800)  # two e2e windows and a wave dump: 530 s at load 13 on 2 cores
def test_first_mismatch_report_and_waves_point_at_the_corrupted_beat(tmp_path):
    nominal = load_scenario(NOMINAL)
    plan = plan_window("verilator", nominal, 4)
    result = run_e2e("verilator", nominal, plan.frames, case="e2e_test",
                     corrupt=(CORRUPT_DETECTION, 10**9))
    first = result["first_mismatch"]
    assert first["stream"] == "reports" and first["beat"] == CORRUPT_DETECTION, first
    assert first["expected"]["bit"] != first["received"]["bit"]
    assert {k: v for k, v in first["expected"].items() if k != "bit"} == {
        k: v for k, v in first["received"].items() if k != "bit"}
    assert first["context"]["detection"] == CORRUPT_DETECTION
    assert first["context"]["frame"] == first["expected"]["pulse"] // 2**16
    assert first["time_ns"] == first["cycle"] * FABRIC_CLOCK_PS / 1000
    # summary.json carries the same report
    assert json.loads(json.dumps(result))["first_mismatch"] == first

    waves = record_mismatch_waves("verilator", nominal, plan, result, tmp_path)
    assert waves.start_cycle < waves.cycle == first["cycle"] < waves.end_cycle
    wave = pywellen.Waveform(str(waves.dump))
    edge = waves.cycle * FABRIC_CLOCK_PS  # the clock's rising edge that takes the beat
    before = edge + FABRIC_CLOCK_PS // 4  # settled values of the cycle that ends at `edge`
    assert value_at(wave, ".now", before) == waves.cycle
    assert value_at(wave, "capture_rep.i__valid", before) == 1
    payload = value_at(wave, "capture_rep.i__payload", before)
    got = unpack(Report, payload & ((1 << Report.size) - 1))
    assert got == {k: first["received"][k] for k in ("pulse", "basis", "sampled", "bit")}
    assert payload >> Report.size == waves.cycle  # the capture's own cycle stamp
    text = waves.save_file.read_text()
    assert str(waves.dump) in text and "capture_rep.i__payload[" in text
    assert f"first mismatch: reports beat at cycle {waves.cycle}" in text
    assert f" {edge} " in next(line for line in text.splitlines() if line.startswith("*"))
    # GTKWave itself opens it on that cycle with every signal of the view
    shown = open_headless(waves.save_file)
    assert shown.displayed == displayed_names(text) and len(shown.displayed) == 5
    assert shown.start <= edge <= shown.end


def test_icarus_default_window_is_short_and_verilator_runs_the_scenario():
    nominal = load_scenario(NOMINAL)
    icarus, verilator = plan_window("icarus", nominal, None), plan_window("verilator", nominal,
                                                                          None)
    assert icarus.max_cycles is not None and icarus.expected_s("icarus", 4) < 600
    assert verilator.frames == nominal.frames and verilator.expected_s("verilator", 4) < 600
    line = start_line("icarus", nominal, icarus, 4)
    assert "smoke window" in line and "FRAMES=" in line and "PULSES=" in line


def test_an_hours_long_default_window_asks_for_an_explicit_one(tmp_path, capsys):
    long = tmp_path / "long.toml"
    long.write_text(NOMINAL.read_text().replace(f"frames = {load_scenario(NOMINAL).frames}",
                                                "frames = 200000"))
    assert load_scenario(long).frames == 200_000
    assert e2e.main(["--scenario", str(long), "--summary", str(tmp_path / "s.json")]) == 2
    err = capsys.readouterr().err
    assert "would take" in err and "FRAMES=" in err
    assert not (tmp_path / "s.json").exists()


def test_progress_is_quiet_in_ci_and_counts_frames(monkeypatch):
    monkeypatch.setenv("CI", "true")
    assert not e2e.show_progress()

    class Board:
        mismatches = 3

    out = io.StringIO()
    monkeypatch.setattr("sys.stderr", out)
    bar = Progress(8, 4, Board())
    bar.close(4 * 2**16 // 4)  # 4 of 8 frames simulated
    text = out.getvalue()
    assert "4/8 frames" in text and "3 mismatches" in text and "M pulses/s" in text


def test_timeline_picture_is_drawn(tmp_path):
    result = {
        "scenario": "nominal", "simulator": "verilator", "pulses": 4 * 2**16, "mismatches": 1,
        "cycles": 8 * 2**14, "detection_frames": [10, 30, 40, 20],
        "timeline": {"sync_cycles": [2**14 * k for k in range(1, 8)],
                     "report_frames": {"1": 29, "2": 40}, "uplink_missing": [2],
                     "packet_cycles": {"satellite": [5 * 2**14], "ground": [6 * 2**14]}},
        "mismatch_cycles": {"reports": [3 * 2**14]},
    }
    path = plot_timeline(result, tmp_path / "timeline.png")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
