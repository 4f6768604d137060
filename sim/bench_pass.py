"""``make bench`` plug-in: the whole Jinan 2022-09-25 pass (300 s, ~4.6 million detections)
including post-processing, against the 60 s budget on 2 cores.

Entries (SPEC 8): ``pass_jinan_20220925`` (unit s, wall time of ``qkdsim pass`` without the
plots), and per stage ``pass_jinan_20220925_channel`` / ``_sifting`` / ``_postprocess`` /
``_plots`` (unit s); context fields carry the detections, packets and final key bits of the run.
The run's outputs, including the Fig. 4-style PNGs, stay in ``out_dir/pass_jinan_20220925/``.
"""

from __future__ import annotations

import pathlib

from models.channel.config import REPO_CONFIGS, load_pass
from sim.pass_run import run_pass

NAME = "pass_jinan_20220925"
CONFIG = REPO_CONFIGS / "passes" / "jinan-2022-09-25.toml"
BUDGET_S = 60.0


def run(out_dir: pathlib.Path) -> list[dict]:
    config = load_pass(CONFIG)  # module attribute: tests point it at a short pass
    report = run_pass(config, pathlib.Path(out_dir) / NAME, plots=True)
    without_plots = report["wall_s"] - report["stage_s"].get("plots", 0.0)
    context = {"detections": report["detections"], "sifted_packets": report["sifted_packets"],
               "final_key_bits": report["final_key_bits"], "keys_match": report["keys_match"],
               "budget_s": BUDGET_S, "config": CONFIG.name}
    entries = [{"name": NAME, "value": round(without_plots, 3), "unit": "s", **context}]
    entries += [{"name": f"{NAME}_{stage}", "value": seconds, "unit": "s"}
                for stage, seconds in report["stage_s"].items()]
    return entries
