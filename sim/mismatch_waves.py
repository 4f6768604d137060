"""Waves where a co-simulation failed: a window of cycles around the first mismatch.

A whole default window in FST would take gigabytes, and an engineer wants the few thousand cycles
before the first wrong beat. :func:`window_for` places a window of :data:`CYCLES_BEFORE` cycles
before and :data:`CYCLES_AFTER` after the mismatch's capture cycle; the run is repeated with the
same seed and scenario, the top's :mod:`rtl.simonly.wave_window` instance opening the dump at the
window's start and the testbench stopping the run at its end (same stimulus, same cycles: the
design is deterministic). :func:`write_save_file` then writes a GTKWave save file that opens at
the mismatch's cycle with the failing stream's capture port, the clock and ``now`` (the cycle
counter the scoreboards' cycle numbers come from), vectors named with their ranges as GTKWave
needs them and labelled by stream.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pywellen

from models.constants import FABRIC_CLOCK_PS

CYCLES_BEFORE = 2000
CYCLES_AFTER = 200
# Scoreboard stream -> the e2e top's capture that carries it (rtl.e2e.top.CAPTURES).
STREAM_CAPTURE = {"symbols": "sig", "sync_frames": "frm", "reports": "rep",
                  "cache_answers": "ans", "sift_entries": "ent", "satellite_key": "skey",
                  "ground_key": "gkey"}


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


@dataclass(frozen=True)
class DumpSignal:
    name: str  # full hierarchical name as GTKWave shows it (with ``[msb:lsb]`` for vectors)
    width: int


def dump_signals(dump: Path) -> dict[str, DumpSignal]:
    """Signals of a dump by their plain hierarchical name (``top.capture_rep.i__valid``)."""
    wave = pywellen.Waveform(str(dump))
    out = {}
    for var in wave.all_vars():
        name, width = var.full_name, var.bitwidth
        shown = name if width == 1 else f"{name}[{width - 1}:0]"
        out[name] = DumpSignal(shown, width)
    return out


def _find(signals: dict[str, DumpSignal], suffix: str) -> DumpSignal | None:
    """The shallowest signal whose name ends in ``suffix`` (a design has one top)."""
    hits = sorted((n for n in signals if n.endswith(suffix)), key=lambda n: n.count("."))
    return signals[hits[0]] if hits else None


def write_save_file(waves: MismatchWaves, signals: dict[str, DumpSignal]) -> Path:
    """A GTKWave save file over ``waves.dump`` that opens on the mismatch's cycle."""
    capture = STREAM_CAPTURE[waves.stream]
    wanted = [("clock", ".clk"), ("cycle (now)", ".now"),
              (f"{waves.stream} valid", f".capture_{capture}.i__valid"),
              (f"{waves.stream} ready", f".capture_{capture}.i__ready"),
              (f"{waves.stream} payload+cycle", f".capture_{capture}.i__payload"),
              (f"{waves.stream} batches", f".{capture}_batches")]
    lines = [f'[dumpfile] "{waves.dump}"', "[timestart] "
             f"{waves.start_cycle * FABRIC_CLOCK_PS}", "[size] 1600 800", "[pos] -1 -1",
             # zoom: about 64 cycles across the window, the marker on the mismatch
             f"*-{_zoom_level(64 * FABRIC_CLOCK_PS):.6f} {waves.cycle * FABRIC_CLOCK_PS} -1",
             "[sst_width] 240", "[signals_width] 260", "[sst_expanded] 1",
             f"@28\n-first mismatch: {waves.stream} at cycle {waves.cycle}"]
    for label, suffix in wanted:
        signal = _find(signals, suffix)
        if signal is None:
            continue
        flags = "28" if signal.width == 1 else "22"  # binary for bits, hex for vectors
        lines += [f"@{flags}", f"+{{{label}}} {signal.name}"]
    waves.save_file.write_text("\n".join(lines) + "\n")
    return waves.save_file


def _zoom_level(span_ps: int) -> float:
    """GTKWave's zoom exponent for about ``span_ps`` across a 1600-pixel wave pane."""
    return math.log2(span_ps / 1600)
