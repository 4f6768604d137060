"""Whole-pass runner up to the sifted packets, outputs and the ``qkdsim pass`` error path."""

import stat
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from models.channel.config import REPO_CONFIGS, load_pass
from models.channel.passmodel import config_slices, simulate_detections
from sim import cli
from sim.pass_run import run_pass, sift_pass

JINAN = REPO_CONFIGS / "passes" / "jinan-2022-09-25.toml"


@pytest.fixture(scope="module")
def short_pass():
    """60 s around culmination of the Jinan 2022-09-25 pass, 20 kbit packets."""
    config = load_pass(JINAN)
    config = replace(config, duration_s=60.0, post=replace(config.post, packet_bits=20_000,
                                                           pa_block_bits=100_000))
    slices = config_slices(config)
    det = simulate_detections(config, slices)
    return sift_pass(config, det)


def test_both_sides_hold_identical_packets(short_pass):
    sifted = short_pass
    assert len(sifted.satellite) == len(sifted.ground) > 10
    for s, g in zip(sifted.satellite, sifted.ground, strict=True):
        assert s.same_as(g) and len(s.bit) == 20_000
        assert np.all(np.diff(s.pulse.astype(np.int64)) > 0)
    qber = np.array(sifted.true_qber())
    assert 0.004 < qber.mean() < 0.02


def test_sampled_counts_are_split_over_packets(short_pass):
    sifted = short_pass
    total = np.sum(sifted.sampled_detected, axis=0)
    assert np.all(total <= sifted.sat.detected)
    # only the sampled detections after the last full packet are missing
    missing = int(sifted.sat.detected.sum() - total.sum())
    assert 0 <= missing <= 0.2 * sifted.partial_bits + 50
    # about 10 % of basis-matched detections are sampled: 1/9 of the key bits
    per_packet = np.array([d.sum() for d in sifted.sampled_detected])
    assert np.all(np.abs(per_packet - 20_000 / 9) < 6 * np.sqrt(20_000 / 9))
    errors = np.sum(sifted.sampled_errors, axis=0)
    assert errors.sum() / total.sum() == pytest.approx(np.mean(sifted.true_qber()), rel=0.3)
    # vacuum sampled detections are mostly noise: QBER near 50 %
    assert errors[:, 2].sum() / total[:, 2].sum() > 0.3


def test_run_pass_writes_report_keys_and_plots(tmp_path: Path):
    config = replace(load_pass(JINAN), duration_s=20.0)
    report = run_pass(config, tmp_path, postprocess=False)
    for key in ("station", "max_elevation_deg", "duration_s", "detections", "sifted_packets",
                "qber_per_packet", "pa_blocks", "final_key_bits", "keys_match", "wall_s"):
        assert key in report
    assert report["station"] == "Jinan" and report["duration_s"] == 20.0
    assert report["max_elevation_deg"] == pytest.approx(34.1, abs=0.01)
    assert report["detections"] > 300_000
    for name in ("satellite.key", "ground.key"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    assert (tmp_path / "range_countrate.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "qber_per_packet.png").stat().st_size > 1000
    assert (tmp_path / "report.json").is_file()


def test_qkdsim_pass_reports_bad_configs_in_one_line(tmp_path: Path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('station = "jinan"\nmax_elevation_deg = 40.0\n'
                   '[source]\nprobabilities = {s = 0.5, d = 0.5, v = 0.25}\n')
    assert cli.main(["pass", str(bad), "--out", str(tmp_path / "o")]) == cli.EXIT_INPUT_ERROR
    err = capsys.readouterr().err
    assert err.startswith("qkdsim: error: ") and "sum to 1" in err and err.count("\n") == 1
    assert cli.main(["pass", str(tmp_path / "none.toml"), "--out", "o"]) == 2
    assert "no such configuration file" in capsys.readouterr().err
    assert cli.main(["pass", str(JINAN), "--out", "o", "--duration", "-1"]) == 2
    assert "--duration" in capsys.readouterr().err


def test_qkdsim_pass_end_to_end(tmp_path: Path, capsys):
    import json

    out = tmp_path / "out"
    assert cli.main(["pass", str(JINAN), "--out", str(out), "--duration", "40",
                     "--no-plots"]) == 0
    summary = json.loads(capsys.readouterr().out)
    report = json.loads((out / "report.json").read_text())
    assert summary["final_key_bits"] == report["final_key_bits"] > 0
    assert report["keys_match"] and report["final_key_bits"] % 128 == 0
    assert report["sifted_packets"] == len(report["qber_per_packet"]) >= 3
    block = report["pa_blocks"][0]
    assert set(block["counts"]) >= {"intensities", "probabilities", "detected", "errors",
                                    "leak_ec_bits"}
    assert block["status"] == "ok" and block["key_bits"] > 0
    # the block's COUNTS object is what `qkdsim keyrate` reads, and gives the same length
    counts = out / "counts.json"
    counts.write_text(json.dumps(block["counts"]))
    assert cli.main(["keyrate", str(counts)]) == 0
    assert json.loads(capsys.readouterr().out)["key_bits"] == block["key_bits"]
    key = (out / "satellite.key").read_bytes()
    assert key == (out / "ground.key").read_bytes() and len(key) * 8 == report["final_key_bits"]
    assert stat.S_IMODE((out / "satellite.key").stat().st_mode) == 0o600


def test_unwritable_outputs_are_one_line_errors(tmp_path: Path, capsys):
    a_file = tmp_path / "file"
    a_file.write_text("")
    assert cli.main(["pass", str(JINAN), "--out", str(a_file), "--duration", "1"]) == 2
    assert "cannot create output directory" in capsys.readouterr().err
    out = tmp_path / "out"
    (out / "satellite.key").mkdir(parents=True)  # a directory where the key file must go
    assert cli.main(["pass", str(JINAN), "--out", str(out), "--duration", "1",
                     "--no-plots"]) == 2
    err = capsys.readouterr().err
    assert "cannot write the outputs" in err and err.count("\n") == 1


def test_a_pass_too_lossy_for_any_packet_gives_an_empty_key(tmp_path: Path):
    config = load_pass(JINAN)
    config = replace(config, duration_s=10.0, link=replace(config.link, extra_loss_db=30.0))
    report = run_pass(config, tmp_path)
    assert report["sifted_packets"] == 0 and report["final_key_bits"] == 0
    assert report["keys_match"] and (tmp_path / "ground.key").read_bytes() == b""


def test_bench_plugin_returns_spec8_entries(tmp_path: Path, monkeypatch):
    import sim.bench_pass as bench

    short = tmp_path / "passes" / "short.toml"
    short.parent.mkdir()
    short.write_text(JINAN.read_text().replace("duration_s = 300.0", "duration_s = 20.0"))
    monkeypatch.setattr(bench, "CONFIG", short)
    entries = bench.run(tmp_path / "bench")
    names = [e["name"] for e in entries]
    assert names[0] == "pass_jinan_20220925" and "pass_jinan_20220925_channel" in names
    assert all(e["unit"] == "s" and e["value"] > 0 for e in entries)
    assert entries[0]["keys_match"] and entries[0]["detections"] > 100_000
    assert (tmp_path / "bench" / "pass_jinan_20220925" / "range_countrate.png").is_file()
