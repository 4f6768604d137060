"""``make bench`` plug-in: throughput of the fault campaign on this machine.

Entry ``campaign_window_runs`` (unit ``runs/min``): window runs of
``configs/campaign/faults-1000.toml`` (its fault mix and windows, the first
:data:`RUNS` run numbers, no scenario runs) on a LocalCluster of its two worker processes,
wall clock from cluster start to the last row written, so it includes the workers' start and
import. Context: runs, workers, crashes, the figure's pass/fail, the load average.
"""

from __future__ import annotations

import os
import pathlib
import tempfile

from models.channel.config import REPO_CONFIGS
from sim.campaign.config import load_campaign
from sim.campaign.runner import run_campaign

NAME = "campaign_window_runs"
CONFIG = REPO_CONFIGS / "campaign" / "faults-1000.toml"
RUNS = 40


def run(out_dir: pathlib.Path) -> list[dict]:
    config = load_campaign(CONFIG)
    with tempfile.TemporaryDirectory(prefix="bench-campaign-", dir=out_dir) as tmp:
        summary = run_campaign(config, pathlib.Path(tmp), runs=RUNS, scenario_runs=0)
    return [{"name": NAME, "value": summary["runs_per_minute"], "unit": "runs/min",
             "runs": summary["runs"], "workers": summary["workers"],
             "crashes": summary["crashes"], "figure_met": summary["figure_met"],
             "wall_s": summary["wall_s"], "load_average": round(os.getloadavg()[0], 2),
             "config": CONFIG.name}]
