"""The campaign runner: a small campaign on a LocalCluster (table, summary, reasons, plot),
bad input, and checks that can fail."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from models.channel.config import REPO_CONFIGS
from sim import cli
from sim.campaign import runner, runs
from sim.campaign.config import CampaignConfigError, load_campaign
from sim.campaign.faults import MessageFaults

SMOKE = REPO_CONFIGS / "campaign" / "smoke.toml"
OUTCOMES = {"key", "no_key", "no_packets", "violation", "crash"}


def reasons(cell: str) -> dict[str, int]:
    return {k: int(v) for k, v in (item.rsplit(":", 1) for item in filter(None,
                                                                            cell.split(";")))}


def test_smoke_campaign_on_a_local_cluster(tmp_path: Path, capsys) -> None:
    out = tmp_path / "smoke"
    assert cli.main(["campaign", str(SMOKE), "--out", str(out)]) == 0
    printed = json.loads(capsys.readouterr().out)
    with (out / "runs.csv").open() as f:
        rows = list(csv.DictReader(f))
    summary = json.loads((out / "summary.json").read_text())
    assert printed["figure_met"] and summary["figure_met"]
    assert [int(r["run"]) for r in rows] == [0, 1, 2] and summary["runs"] == 3
    assert summary["workers"] == 1 and summary["scheduler"] == "LocalCluster"
    for row in rows:
        assert row["outcome"] in OUTCOMES - {"crash", "violation"} and not row["error"]
        assert set(reasons(row["packet_drop_reasons"])) <= runs.PACKET_REASONS
        assert set(reasons(row["block_abandon_reasons"])) <= runs.BLOCK_REASONS
        dropped = int(row["packets"]) - int(row["packets_ok"])
        assert sum(reasons(row["packet_drop_reasons"]).values()) == dropped
        abandoned = int(row["blocks"]) - int(row["blocks_ok"])
        assert sum(reasons(row["block_abandon_reasons"]).values()) == abandoned
        if row["key_flip"]:  # the corrupted key file, and only it, was refused
            assert row["key_read_refused"] == row["key_flip"]
    # the smoke file's seed gives keys, altered messages and key flips: the checks were exercised
    assert summary["final_key_bits"] > 0 and summary["messages_altered"] > 0
    assert summary["key_flips"] == summary["key_flips_refused"] > 0
    assert summary["packet_drop_reasons"].get("auth_failed", 0) > 0
    assert summary["final_key_bits"] == sum(int(r["final_key_bits"]) for r in rows)
    assert (out / "campaign.png").stat().st_size > 10_000
    # a second campaign into the same directory is refused; the table stays
    table = (out / "runs.csv").read_bytes()
    assert cli.main(["campaign", str(SMOKE), "--out", str(out), "--runs", "1"]) == 2
    err = capsys.readouterr().err
    assert "already exists" in err and err.count("\n") == 1
    assert (out / "runs.csv").read_bytes() == table


def test_a_run_depends_only_on_seed_and_number() -> None:
    plan = load_campaign(SMOKE).window
    plan = runs.WindowPlan(plan.passes, (1.0, 1.0), plan.packet_bits, plan.block_packets,
                           plan.limits)
    first, again = runs.window_run(plan, 9, 4), runs.window_run(plan, 9, 4)
    first.pop("wall_s"), again.pop("wall_s")
    assert first == again and first["outcome"] != "crash"


def test_unreachable_scheduler_is_one_line(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(runner, "CONNECT_TIMEOUT_S", 1)
    args = ["campaign", str(SMOKE), "--out", str(tmp_path / "x"), "--scheduler",
            "tcp://127.0.0.1:9"]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert "cannot reach the Dask scheduler" in err and err.count("\n") == 1


@pytest.mark.parametrize(("text", "message"), [
    ("runs = -1", "runs must be an integer"),
    ("window_s = [20.0, 10.0]", "low is above high"),
    ("passes = ['nowhere']", "unknown name 'nowhere'"),
    ("[faults]\nloss = 1.5", "faults.loss must be a number in 0..1"),
    ("[scenarios]\nsimulator = 'ghdl'", "scenarios.simulator must be one of"),
    ("[dask]\nscheduler = 8786", "dask.scheduler must be an address string"),
    ("colour = 1", "unknown key 'colour'"),
])
def test_bad_campaign_files(tmp_path: Path, capsys, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text + "\n")
    with pytest.raises(CampaignConfigError, match=message):
        load_campaign(path)
    assert cli.main(["campaign", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert message.split("'")[0] in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


# --- the checks can fail -------------------------------------------------------------------


def fake_result(statuses: list[str], blocks: list[tuple[str, int]], sat: np.ndarray,
                gnd: np.ndarray) -> SimpleNamespace:
    return SimpleNamespace(
        ec=[{"packet": i, "status": s} for i, s in enumerate(statuses)],
        pa_blocks=[{"block": i, "status": s, "key_bits": n} for i, (s, n) in enumerate(blocks)],
        satellite_key=sat, ground_key=gnd, final_key_bits=sat.size,
        keys_match=bool(np.array_equal(sat, gnd)), auth_key_consumed_bits=0)


def test_checks_count_accepted_faults_and_unexplained_drops() -> None:
    key = np.zeros(256, dtype=np.uint8)
    other = key.copy()
    other[200] = 1  # second block differs
    mix = MessageFaults(0.0, np.random.default_rng(0))
    mix.altered += [("syndrome", "packet", 0, "tamper"), ("confirm", "block", 1, "replay"),
                    ("ec_result", "packet", 1, "truncate")]
    row: dict = {}
    runs._check_distill(row, fake_result(["ok", "auth_failed", "lost"],
                                         [("auth_failed", 0), ("ok", 128), ("ok", 128)],
                                         key, other), mix)
    assert row["unauthenticated_accepted"] == 2  # packet 0 ok, block 1 ok
    assert row["mismatched_keys_accepted"] == 1
    assert row["unexplained"] == 1  # "lost" is no known reason
    assert row["packet_drop_reasons"] == "auth_failed:1;lost:1"
    row |= {"key_flip_undetected": 0, "final_key_bits": 256, "packets": 3}
    assert runs._outcome(row) == "violation"


def test_an_undetected_key_flip_is_counted(monkeypatch) -> None:
    monkeypatch.setattr(runs, "read_key", lambda path: path.read_bytes())  # no integrity check
    row: dict = {}
    key = np.ones(128, dtype=np.uint8)
    runs._check_key_files(row, key, key, np.random.default_rng(0), 1.0)
    assert row["key_flip"] and row["key_flip_undetected"] == 1


def test_a_crash_is_a_row_with_its_error(monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("decoder exploded")

    monkeypatch.setattr(runs, "distill", broken)
    plan = load_campaign(SMOKE).window
    plan = runs.WindowPlan(plan.passes, (1.0, 1.0), plan.packet_bits, plan.block_packets,
                           plan.limits)
    row = runs.window_run(plan, 1, 0)
    assert row["outcome"] == "crash" and row["error"] == "RuntimeError: decoder exploded"
    summary = runner.summarise([row], 1.0)
    assert summary["crashes"] == 1 and not summary["figure_met"]

