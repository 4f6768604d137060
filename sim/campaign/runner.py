"""``qkdsim campaign CONFIG.toml --out DIR``: the fault campaign on a Dask cluster.

Every run is one Dask task (:mod:`sim.campaign.runs`), drawn from ``(seed, run number)`` alone,
so a campaign's table does not depend on the number of workers or the order they finish in.
Without ``--scheduler`` the runner starts a ``LocalCluster`` of worker processes on this machine
(``[dask] workers``); with ``--scheduler tcp://HOST:8786`` it submits to an existing cluster
(``dask scheduler`` and ``dask worker`` started on any machines where this repository is
installed), so the same command scales to many machines. Scenario runs (``make sim``, minutes
each, in a simulator subprocess) are submitted first so they do not finish last, and leave their
worker's thread while they wait for the subprocess, so the window runs are not held up.

Outputs, written once all runs are back (an existing table is never overwritten):

* ``DIR/runs.csv``: one row per run (drawn parameters, counts, reasons, checks, outcome);
  ``DIR/runs.jsonl`` receives each row as it comes back (the progress of a long campaign, and
  what an interrupted one keeps);
* ``DIR/summary.json``: totals, outcomes, reasons, throughput and the pass/fail of the figure
  (zero crashes, zero mismatched keys accepted, zero unauthenticated messages accepted, zero
  corrupted stored keys read, every abandoned block and dropped packet with a known reason);
* ``DIR/campaign.png``: outcomes, reasons, and final key against link loss.

Exit status 0 if the figure holds, 1 if not, 2 on bad input.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sim.campaign.config import CampaignConfig, CampaignConfigError, load_campaign
from sim.campaign.runs import ScenarioPlan, scenario_run, window_run

INPUT_ERRORS: tuple[type[BaseException], ...] = (CampaignConfigError,)
TABLE = "runs.csv"
ROWS = "runs.jsonl"  # the rows as they come back: progress, and what an interrupted run keeps
SUMMARY = "summary.json"
PLOT = "campaign.png"
FIRST_COLUMNS = ("run", "kind", "outcome", "error", "seed", "pass", "scenario", "wall_s")
CONNECT_TIMEOUT_S = 30
CHECKS = ("mismatched_keys_accepted", "unauthenticated_accepted", "key_flip_undetected",
          "unexplained")


class CampaignOutputError(CampaignConfigError):
    """The output directory cannot be used."""


@contextlib.contextmanager
def _client(config: CampaignConfig, scheduler: str) -> Iterator[Any]:
    """A Dask client: of the cluster at ``scheduler``, else of a new local cluster (closed on
    exit)."""
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError, ValueError) as exc:
            raise CampaignConfigError(f"cannot reach the Dask scheduler {scheduler!r}: {exc}"
                                      ) from None
        with client:
            yield client
        return
    with (LocalCluster(n_workers=config.workers, threads_per_worker=config.threads_per_worker,
                       processes=True, dashboard_address=":0") as cluster,
          Client(cluster) as client):
        yield client


def _scenario_task(plan: ScenarioPlan, run: int) -> dict[str, Any]:
    """A scenario run on a worker: it waits minutes for its simulator subprocess, so it leaves
    the worker's thread pool meanwhile (``secede``) and window runs go on there."""
    from distributed import rejoin, secede

    secede()
    try:
        return scenario_run(plan, run)
    finally:
        rejoin()


def _submit(client: Any, config: CampaignConfig, runs: int, scenario_runs: int) -> list[Any]:
    import numpy as np

    futures = []
    rng = np.random.default_rng([config.seed, 1 << 40])  # scenario draws, apart from windows
    for j in range(scenario_runs):
        name = config.scenario_files[j % len(config.scenario_files)]
        plan = ScenarioPlan(str(Path("configs/scenarios") / f"{name}.toml"),
                            config.scenario_frames, int(rng.integers(1, 1 << 31)),
                            config.simulator)
        futures.append(client.submit(_scenario_task, plan, runs + j, pure=False))
    futures += [client.submit(window_run, config.window, config.seed, i, pure=False)
                for i in range(runs)]
    return futures


def run_campaign(config: CampaignConfig, out: Path, *, scheduler: str | None = None,
                 runs: int | None = None, scenario_runs: int | None = None,
                 progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Run the campaign, write table, summary and plot into ``out``; return the summary."""
    from distributed import as_completed

    runs = config.runs if runs is None else runs
    scenario_runs = config.scenario_runs if scenario_runs is None else scenario_runs
    for name in (TABLE, ROWS):
        if (out / name).exists():
            raise CampaignOutputError(f"{out / name} already exists: choose another --out "
                                      "(a campaign table is never overwritten)")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CampaignOutputError(f"cannot create output directory {out}: {exc.strerror}"
                                  ) from None
    address = config.scheduler if scheduler is None else scheduler
    start = time.perf_counter()
    rows: list[dict[str, Any]] = []
    with _client(config, address) as client, (out / ROWS).open("x") as stream:
        workers = len(client.scheduler_info().get("workers", {}))
        for future in as_completed(_submit(client, config, runs, scenario_runs)):
            rows.append(future.result())
            stream.write(json.dumps(rows[-1]) + "\n")
            stream.flush()
            if progress is not None:
                progress(1)
    wall = time.perf_counter() - start
    rows.sort(key=lambda r: r["run"])
    summary = summarise(rows, wall) | {"name": config.name, "config": config.path,
                                       "workers": workers,
                                       "scheduler": address or "LocalCluster"}
    try:
        write_table(out / TABLE, rows)
        (out / SUMMARY).write_text(json.dumps(summary, indent=2) + "\n")
        plot_campaign(out / PLOT, rows, summary)
    except OSError as exc:
        raise CampaignOutputError(f"cannot write the outputs into {out}: {exc.strerror}"
                                  ) from None
    return summary


def write_table(path: Path, rows: list[dict[str, Any]]) -> None:
    """CSV of all rows; columns: :data:`FIRST_COLUMNS`, then the others in first-seen order."""
    columns = list(FIRST_COLUMNS)
    for row in rows:
        columns += [k for k in row if k not in columns]
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, columns, restval="")
        writer.writeheader()
        writer.writerows(rows)


def _reason_totals(rows: list[dict[str, Any]], column: str) -> dict[str, int]:
    total: Counter[str] = Counter()
    for row in rows:
        for item in filter(None, str(row.get(column, "")).split(";")):
            reason, count = item.rsplit(":", 1)
            total[reason] += int(count)
    return dict(sorted(total.items()))


def summarise(rows: list[dict[str, Any]], wall_s: float) -> dict[str, Any]:
    """Totals of a campaign table (the figure the campaign must reach)."""
    windows = [r for r in rows if r["kind"] == "window"]
    scenarios = [r for r in rows if r["kind"] == "scenario"]
    checks = {c: sum(int(r.get(c) or 0) for r in windows) for c in CHECKS}
    crashes = sum(r["outcome"] == "crash" for r in rows)
    flips = [r for r in windows if r.get("key_flip")]
    summary = {
        "runs": len(rows), "window_runs": len(windows), "scenario_runs": len(scenarios),
        "outcomes": dict(sorted(Counter(r["outcome"] for r in rows).items())),
        "crashes": crashes, **checks,
        "scenario_mismatches": sum(int(r.get("mismatches") or 0) for r in scenarios),
        "packets": sum(int(r.get("packets") or 0) for r in windows),
        "packets_ok": sum(int(r.get("packets_ok") or 0) for r in windows),
        "packet_drop_reasons": _reason_totals(windows, "packet_drop_reasons"),
        "blocks": sum(int(r.get("blocks") or 0) for r in windows),
        "blocks_ok": sum(int(r.get("blocks_ok") or 0) for r in windows),
        "block_abandon_reasons": _reason_totals(windows, "block_abandon_reasons"),
        "messages_altered": sum(int(r.get("messages_altered") or 0) for r in windows),
        "message_faults": _reason_totals(windows, "message_faults"),
        "cache_flips": sum(bool(r.get("cache_flip")) for r in windows),
        "key_flips": len(flips),
        "key_flips_refused": sum(r.get("key_read_refused") == r["key_flip"] for r in flips),
        "final_key_bits": sum(int(r.get("final_key_bits") or 0) for r in windows),
        "errors": sorted({r["error"] for r in rows if r["error"]})[:20],
        "wall_s": round(wall_s, 1),
        "runs_per_minute": round(60.0 * len(rows) / wall_s, 2) if wall_s > 0 else None,
    }
    summary["figure_met"] = (crashes == 0 and not any(checks.values())
                             and summary["scenario_mismatches"] == 0)
    return summary


def plot_campaign(path: Path, rows: list[dict[str, Any]], summary: dict[str, Any]) -> None:
    """Outcomes per run, reasons per packet / block, final key against link loss."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    outcomes = summary["outcomes"]
    axes[0].bar(list(outcomes), list(outcomes.values()), color="tab:blue")
    axes[0].set_title(f"outcome of {summary['runs']} runs")
    axes[0].set_ylabel("runs")
    reasons = {f"packet {k}": v for k, v in summary["packet_drop_reasons"].items()}
    reasons |= {f"block {k}": v for k, v in summary["block_abandon_reasons"].items()}
    axes[1].barh(list(reasons) or ["none"], list(reasons.values()) or [0], color="tab:orange")
    axes[1].set_title("dropped packets and abandoned blocks by reason")
    windows = [r for r in rows if r["kind"] == "window" and r["outcome"] != "crash"]
    points = axes[2].scatter([100 * float(r["loss"]) for r in windows],
                             [int(r["final_key_bits"]) / 1000 for r in windows],
                             c=[float(r["message_fault_rate"]) for r in windows], s=8,
                             cmap="viridis")
    fig.colorbar(points, ax=axes[2], label="message fault rate")
    axes[2].set_xlabel("random link loss (%)")
    axes[2].set_ylabel("final key (kbit)")
    axes[2].set_title("final key per window run")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", metavar="CONFIG.toml", help="campaign file (configs/campaign/)")
    parser.add_argument("--out", metavar="DIR", required=True,
                        help="output directory: runs.csv, summary.json, campaign.png")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="existing Dask scheduler (tcp://host:8786); default: a local cluster")
    parser.add_argument("--runs", type=int, metavar="N", help="window runs (default: the file's)")
    parser.add_argument("--scenario-runs", type=int, metavar="N",
                        help="make sim scenario runs (default: the file's)")


def main(args: argparse.Namespace) -> int:
    config = load_campaign(args.config)
    for option in ("runs", "scenario_runs"):
        value = getattr(args, option)
        if value is not None and value < 0:
            raise CampaignConfigError(f"--{option.replace('_', '-')} {value} is negative")
    from tqdm import tqdm

    total = ((config.runs if args.runs is None else args.runs)
             + (config.scenario_runs if args.scenario_runs is None else args.scenario_runs))
    with tqdm(total=total, desc="campaign", unit="run", disable=not sys.stderr.isatty()) as bar:
        summary = run_campaign(config, Path(args.out), scheduler=args.scheduler, runs=args.runs,
                               scenario_runs=args.scenario_runs, progress=bar.update)
    print(json.dumps({k: summary[k] for k in ("runs", "outcomes", "crashes", *CHECKS,
                                              "runs_per_minute", "figure_met")}))
    return 0 if summary["figure_met"] else 1
