"""Waves where a co-simulation failed: a window of cycles around the first mismatch.

A whole default window in FST would take gigabytes, and an engineer wants the few thousand cycles
before the first wrong beat. :func:`window_for` places a window of :data:`CYCLES_BEFORE` cycles
before and :data:`CYCLES_AFTER` after the mismatch's capture cycle; the run is repeated with the
same seed and scenario, the top's :mod:`rtl.simonly.wave_window` instance opening the dump at the
window's start and the testbench stopping the run at its end (same stimulus, same cycles: the
design is deterministic). :func:`write_save_file` then writes a GTKWave save file
(:mod:`sim.wave_views`) that opens on the mismatch's cycle with the failing stream's capture
port, the clock and ``now`` (the cycle counter the scoreboards' cycle numbers come from).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from models.constants import FABRIC_CLOCK_PS
from sim.wave_views import Group, View, bit, dec, dump_signals, hexa, save_file_text

CYCLES_BEFORE = 2000
CYCLES_AFTER = 200
# Scoreboard stream -> the e2e top's capture that carries it (rtl.e2e.top.CAPTURES).
STREAM_CAPTURE = {"symbols": "sig", "sync_frames": "frm", "reports": "rep",
                  "cache_answers": "ans", "sift_entries": "ent", "satellite_key": "skey",
                  "ground_key": "gkey", "raw_hits": "raw"}


@dataclass(frozen=True)
class MismatchWaves:
    """Where the waves of a mismatch went and which cycles they hold."""

    dump: Path
    save_file: Path
    stream: str
    cycle: int
    start_cycle: int
    end_cycle: int


def window_for(cycle: int) -> tuple[int, int]:
    """First and last cycle of the waves around a mismatch captured at ``cycle``."""
    return max(0, cycle - CYCLES_BEFORE), cycle + CYCLES_AFTER


CYCLES_ON_SCREEN = 64  # the first view: this many cycles around the mismatch


def mismatch_view(stream: str) -> View:
    """The failing stream's capture port, the clock and the cycle counter, the primary marker
    on the capture's valid (placed at the mismatch's cycle)."""
    capture = f"capture_{STREAM_CAPTURE[stream]}"
    return View(
        name="mismatch", design="e2e", title=f"first mismatch of stream {stream}",
        groups=(
            Group("clock and cycle", (bit("clk", "clock"), dec("now", "cycle (now)"))),
            Group(f"{stream}: capture {capture}", (
                bit(f"{capture}.i__valid", f"{stream} valid"),
                bit(f"{capture}.i__ready", f"{stream} ready"),
                hexa(f"{capture}.i__payload", f"{stream} payload | cycle << payload bits"))),
        ),
        events=(), marker=f"{capture}.i__valid")


def write_save_file(waves: MismatchWaves) -> Path:
    """A GTKWave save file over ``waves.dump`` that opens on the mismatch's cycle."""
    view = mismatch_view(waves.stream)
    time = waves.cycle * FABRIC_CLOCK_PS
    half = CYCLES_ON_SCREEN // 2 * FABRIC_CLOCK_PS
    text = save_file_text(
        view, dump_signals(waves.dump), {view.marker: time}, waves.dump, waves.save_file,
        waves.end_cycle * FABRIC_CLOCK_PS,
        header=[f"first mismatch: {waves.stream} beat at cycle {waves.cycle}, waves of cycles "
                f"{waves.start_cycle}..{waves.end_cycle}"],
        focus=(time - half, time + half))
    waves.save_file.write_text(text)
    return waves.save_file
