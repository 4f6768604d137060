"""A picture of one end-to-end co-simulation run (``build/sim/timeline.png``).

Time runs left to right in sync frames (2**16 pulses, 104.9 us of satellite time). Top panel:
detections the channel produced per frame (the model's, after the ground's timing models) and
the reports the ground FPGA accepted and sent up per frame. Bottom panel, one row each: the
ground's sync events (the first one is the lock), uplink frames lost on the link, packets
closing on the satellite and on the ground, and mismatches of any scoreboard (red), each at the
cycle it happened.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure  # no pyplot: files only, no display or global state

from models.constants import FRAME_PULSES, LANES

ROWS = ("sync events", "uplink frames lost", "satellite packets", "ground packets", "mismatches")


def cycles_to_frames(cycles: list[int] | np.ndarray) -> np.ndarray:
    return np.asarray(cycles, dtype=float) * LANES / FRAME_PULSES


def plot_timeline(result: dict, path: Path) -> Path:
    """Draw the run of ``result`` (:func:`sim.e2e.run_e2e`) into a PNG at ``path``."""
    timeline = result.get("timeline", {})
    fig = Figure(figsize=(11, 5.5))
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    detections = np.asarray(result.get("detection_frames", []), dtype=float)
    reports = timeline.get("report_frames", {})
    top.stairs(detections, np.arange(len(detections) + 1), label="detections (model)",
               color="tab:blue")
    if reports:
        index = np.array([int(k) for k in reports])
        top.plot(index + 0.5, [reports[k] for k in reports], "o", ms=3, color="tab:green",
                 label="reports accepted and sent up (RTL)")
    top.set_ylabel("per sync frame")
    top.legend(loc="upper right", fontsize=8)
    top.set_title(f"{result.get('scenario', '?')} on {result.get('simulator', '?')}: "
                  f"{result.get('pulses', 0):,} pulses, {result.get('mismatches', 0)} mismatches",
                  fontsize=10)

    mismatch_cycles = [c for cycles in result.get("mismatch_cycles", {}).values() for c in cycles]
    rows = {
        "sync events": cycles_to_frames(timeline.get("sync_cycles", [])),
        "uplink frames lost": np.asarray(timeline.get("uplink_missing", []), dtype=float),
        "satellite packets": cycles_to_frames(timeline.get("packet_cycles", {}).get(
            "satellite", [])),
        "ground packets": cycles_to_frames(timeline.get("packet_cycles", {}).get("ground", [])),
        "mismatches": cycles_to_frames(mismatch_cycles),
    }
    colors = ("tab:gray", "tab:orange", "tab:purple", "tab:brown", "tab:red")
    for y, (name, color) in enumerate(zip(ROWS, colors, strict=True)):
        x = rows[name]
        bottom.plot(x, np.full(len(x), y), "|", ms=12, color=color)
        if name == "sync events" and len(x):
            bottom.annotate("lock", (x[0], y), xytext=(3, 6), textcoords="offset points",
                            fontsize=7)
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
