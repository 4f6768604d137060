"""A picture of one end-to-end co-simulation run (``build/sim/timeline.png``).

Time runs left to right in sync frames (2**16 pulses, 104.9 us of satellite time). Top panel:
detections the channel produced per frame (the model's, after the ground's timing models) and
the reports the ground FPGA accepted and sent up per frame (averaged over groups of frames when
the window has more than :data:`MAX_POINTS` frames). Bottom panel, one row each: the ground's
sync lock (its first sync event) and the frames after it without a sync event, uplink frames
lost on the link, packets closing on the satellite and on the ground, and mismatches of any
scoreboard (red), each at the cycle it happened.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure  # no pyplot: files only, no display or global state

from models.constants import FRAME_PULSES, LANES

ROWS = ("sync lock", "sync frames missed", "uplink frames lost", "satellite packets",
        "ground packets", "mismatches")
MAX_POINTS = 300  # per-frame counts of longer windows are averaged over groups of frames


def cycles_to_frames(cycles: list[int] | np.ndarray) -> np.ndarray:
    return np.asarray(cycles, dtype=float) * LANES / FRAME_PULSES


def plot_timeline(result: dict, path: Path) -> Path:
    """Draw the run of ``result`` (:func:`sim.e2e.run_e2e`) into a PNG at ``path``."""
    timeline = result.get("timeline", {})
    fig = Figure(figsize=(11, 5.5))
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    detections = np.asarray(result.get("detection_frames", []), dtype=float)
    reports = np.zeros(len(detections))
    for frame, count in timeline.get("report_frames", {}).items():
        if int(frame) < len(reports):
            reports[int(frame)] = count
    group = max(1, -(-len(detections) // MAX_POINTS))
    edges = np.append(np.arange(0, len(detections), group), len(detections))
    sums = np.add.reduceat(detections, edges[:-1]) if len(detections) else detections
    widths = np.diff(edges)
    top.stairs(sums / np.maximum(widths, 1), edges, label="detections (model)", color="tab:blue")
    if len(detections):
        got = np.add.reduceat(reports, edges[:-1]) / np.maximum(widths, 1)
        top.plot((edges[:-1] + edges[1:]) / 2, got, "o" if group == 1 else "-", ms=3,
                 color="tab:green", label="reports accepted and sent up (RTL)")
    top.set_ylabel("per sync frame" if group == 1 else f"per sync frame (mean of {group})")
    top.legend(loc="lower right", fontsize=8)
    top.set_title(f"{result.get('scenario', '?')} on {result.get('simulator', '?')}: "
                  f"{result.get('pulses', 0):,} pulses, {result.get('mismatches', 0)} mismatches",
                  fontsize=10)

    mismatch_cycles = [c for cycles in result.get("mismatch_cycles", {}).values() for c in cycles]
    sync = np.floor(cycles_to_frames(timeline.get("sync_cycles", [])))
    missed = (np.setdiff1d(np.arange(sync[0], max(sync[-1], sync[0])), sync) if len(sync)
              else np.zeros(0))
    rows = {
        "sync lock": sync[:1],
        "sync frames missed": missed,
        "uplink frames lost": np.asarray(timeline.get("uplink_missing", []), dtype=float),
        "satellite packets": cycles_to_frames(timeline.get("packet_cycles", {}).get(
            "satellite", [])),
        "ground packets": cycles_to_frames(timeline.get("packet_cycles", {}).get("ground", [])),
        "mismatches": cycles_to_frames(mismatch_cycles),
    }
    colors = ("tab:gray", "tab:gray", "tab:orange", "tab:purple", "tab:brown", "tab:red")
    for y, (name, color) in enumerate(zip(ROWS, colors, strict=True)):
        x = rows[name]
        bottom.plot(x, np.full(len(x), y), "|", ms=12, color=color)
        if name == "sync lock" and len(x):
            bottom.annotate(f"locked in frame {int(x[0])}", (x[0], y), xytext=(8, -3),
                            textcoords="offset points", fontsize=8)
    bottom.set_yticks(range(len(ROWS)), ROWS, fontsize=8)
    bottom.set_ylim(-0.7, len(ROWS) - 0.3)
    bottom.invert_yaxis()
    bottom.set_xlabel("sync frame (2**16 pulses)")
    end = max(len(detections), float(result.get("cycles", 0)) * LANES / FRAME_PULSES, 1.0)
    bottom.set_xlim(0, end)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return path
