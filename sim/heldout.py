"""Held-out validation of the channel calibration (docs/calibration.md).

For every moonless night of a station with at least three Table 1 nights, the station-level
parameters (one ``extra_loss_db``, one ``background_cps``) are fitted on the station's other
nights (:func:`models.channel.calibrate.leave_one_night_out`), and the night is simulated end to
end twice with the seeds of its pass file: with its own per-pass fit (``configs/passes``) and
with the station-level prediction. Packets, mean true QBER and final key of both runs are
compared with the paper.

``python -m sim.heldout [--out build/heldout] [--station Jinan ...]`` writes ``heldout.json``
and prints the markdown table of docs/calibration.md with a summary of the residuals.
"""

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from models.channel.calibrate import (
    heldout_config,
    leave_one_night_out,
    pass_file_name,
    rows_from_configs,
)
from models.channel.config import REPO_CONFIGS, load_pass
from models.channel.link_budget import LinkParams
from sim.pass_run import run_pass

QUANTITIES = ("packets", "qber_pct", "final_key_bits")


def _measure(report: dict[str, Any]) -> dict[str, float]:
    return {"packets": report["sifted_packets"],
            "qber_pct": 100 * float(np.mean(report["true_qber_per_packet"])),
            "final_key_bits": report["final_key_bits"]}


def run(out_dir: Path, stations: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    """Both runs of every held-out night; one row each."""
    rows = []
    for h in leave_one_night_out(rows_from_configs(), LinkParams().satellite_optics,
                                 stations=stations):
        path = REPO_CONFIGS / "passes" / pass_file_name(h.row)
        config = load_pass(path)
        fitted = run_pass(config, out_dir / path.stem / "fitted", plots=False)
        predicted = run_pass(heldout_config(config, h.fit), out_dir / path.stem / "heldout",
                             plots=False)
        rows.append({"pass": path.stem, "label": h.label, "training_nights": list(h.fit.nights),
                     "station_fit": {"extra_loss_db": round(h.fit.extra_loss_db, 3),
                                     "background_cps": round(h.fit.background_cps, 1)},
                     "paper": {"packets": config.paper["sifted_packets"],
                               "qber_pct": config.paper["qber_mean_pct"],
                               "final_key_bits": config.paper["final_key_bits"]},
                     "fitted": _measure(fitted), "heldout": _measure(predicted)})
    return rows


def residual(row: dict[str, Any], run_name: str, quantity: str) -> float:
    """Relative residual simulated / paper − 1 of one quantity of one run."""
    return row[run_name][quantity] / row["paper"][quantity] - 1


def summary(rows: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
    """Mean, RMS and largest absolute relative residual per run and quantity."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for run_name in ("fitted", "heldout"):
        out[run_name] = {}
        for q in QUANTITIES:
            r = np.array([residual(row, run_name, q) for row in rows])
            out[run_name][q] = {"mean": float(r.mean()), "rms": float(np.sqrt((r ** 2).mean())),
                                "max_abs": float(np.abs(r).max())}
    return out


def markdown(rows: list[dict[str, Any]]) -> str:
    """Per-night table and residual summary of docs/calibration.md."""
    lines = ["| night | station fit (loss dB, bg cps) | packets fit / held-out / paper | "
             "QBER % fit / held-out / paper | final kbit fit / held-out / paper | "
             "final residual fit / held-out |", "|---|---|---|---|---|---|"]
    for r in rows:
        f, h, p = r["fitted"], r["heldout"], r["paper"]
        lines.append(
            f"| {r['label']} | {r['station_fit']['extra_loss_db']:.2f}, "
            f"{r['station_fit']['background_cps']:.0f} | "
            f"{f['packets']} / {h['packets']} / {p['packets']:.0f} | "
            f"{f['qber_pct']:.2f} / {h['qber_pct']:.2f} / {p['qber_pct']:.2f} | "
            f"{f['final_key_bits'] / 1e3:.0f} / {h['final_key_bits'] / 1e3:.0f} / "
            f"{p['final_key_bits'] / 1e3:.0f} | {residual(r, 'fitted', 'final_key_bits'):+.0%} "
            f"/ {residual(r, 'heldout', 'final_key_bits'):+.0%} |")
    lines += ["", "| residual (sim / paper − 1) | run | mean | RMS | max abs |",
              "|---|---|---|---|---|"]
    stats = summary(rows)
    for q in QUANTITIES:
        for run_name in ("fitted", "heldout"):
            s = stats[run_name][q]
            lines.append(f"| {q} | {run_name} | {s['mean']:+.1%} | {s['rms']:.1%} | "
                         f"{s['max_abs']:.1%} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("build/heldout"),
                        help="output directory (one pass directory per run, heldout.json)")
    parser.add_argument("--station", action="append", metavar="NAME",
                        help="only this station (repeatable; default: every station with at "
                        "least three moonless nights)")
    args = parser.parse_args()
    rows = run(args.out, None if args.station is None else tuple(args.station))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "heldout.json").write_text(json.dumps({"rows": rows, "summary": summary(rows)},
                                                      indent=2) + "\n")
    print(markdown(rows))


if __name__ == "__main__":
    main()
