"""``make waves``: short co-simulation windows with waves, GTKWave save files and PNG views.

Runs the transmitter co-simulation (:mod:`sim.tx_cosim`, default) or, with ``--e2e``, the
end-to-end top (:mod:`sim.e2e`, nominal scenario) with waves on (FST, or VCD with
``--format vcd``), then writes next to the dump the save file of each view of that design
(:data:`sim.wave_views.VIEWS`: signal ranges from the dump, zoom and markers on the window's
events) and, unless ``--no-png``, opens it headless in GTKWave and writes what it shows to
``build/waves/<view>.png``::

    python -m sim.waves [--simulator verilator|icarus] [--format fst|vcd] [--pulses N]
                        [--e2e [--cycles N]] [--no-png] [--update-shipped]
    gtkwave build/cocotb/e2e_waves/verilator/e2e.gtkw

The shipped save files (``sim/gtkw/<view>.gtkw``) are those of the default windows on Verilator
with FST; GTKWave finds their dump relative to the save file (:func:`shipped_paths`).
``--update-shipped`` rewrites them from the run (the waves tests check that a default run
reproduces them). Guide: ``docs/waves.md``.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from models.constants import FRAME_PULSES
from rtl.e2e.top import E2eParams
from sim.e2e import DEFAULT_SCENARIO, run_e2e
from sim.e2e import CosimError as E2eError
from sim.e2e_scenario import ScenarioError, load_scenario
from sim.gtkwave_headless import GtkwaveError, GtkwaveView, open_headless
from sim.tx_cosim import CosimError, run_tx_cosim
from sim.wave_views import (
    SCOPE,
    VIEWS,
    View,
    ViewError,
    displayed_names,
    dump_signals,
    first_rises,
    save_file_text,
    signal_changes,
)
from tb.runner import ROOT, SIMULATORS, WAVE_FORMATS, case_build_dir
from tb.runner import wave_file as runner_wave_file

GTKW_DIR = Path(__file__).resolve().parent / "gtkw"
SHIPPED_ROOT = "/jinan1-qkd-cosim"
PNG_DIR = ROOT / "build" / "waves"
GENERATOR = "sim/waves.py from the views of sim/wave_views.py"
CASES = {"tx": "tx_waves", "e2e": "e2e_waves"}
TX_PULSES = 1 << 14  # 4096 cycles: the first RND cache queries, answers and symbol batches
# The nominal scenario's first events: sync lock at cycle 16,520 and the first joined sync tag
# 27 cycles later, detections and reports from 49,412 (the indexer needs two joined sync tags),
# the first uplink frame at 74,331 with its sift entries and satellite key bits, then the sift
# message at the ground with the ground key bits (docs/waves.md); then a tail, so that the zoom
# from the lock to the ground key fits before the end of the dump (GTKWave shows a view that
# would pass the end from time 0).
E2E_CYCLES = 135_000
# Verilator VCD is ~10x the size of FST (13.5 KB per cycle of the transmitter top, 11.5 KB of
# the e2e top): shorter windows; the e2e one ends after the sync lock, before any detection.
VCD_TX_PULSES = 1 << 12
VCD_E2E_CYCLES = 18_000


def case_name(design: str, fmt: str) -> str:
    return CASES[design] if fmt == "fst" else f"{CASES[design]}_{fmt}"


def wave_file(simulator: str, design: str = "tx", fmt: str = "fst") -> Path:
    case = case_name(design, fmt)
    return runner_wave_file(case_build_dir(case, simulator), simulator, case, fmt)


def design_views(design: str) -> list[View]:
    return [view for view in VIEWS.values() if view.design == design]


def shipped_paths(view: View) -> tuple[str, str]:
    """``[dumpfile]`` and ``[savefile]`` of a shipped save file: both under a root that exists
    nowhere, so GTKWave finds the default run's dump relative to the save file's own place (a
    relative ``[dumpfile]`` would be relative to the working directory)."""
    dump = wave_file("verilator", view.design).relative_to(ROOT)
    save = (GTKW_DIR / f"{view.name}.gtkw").relative_to(ROOT)
    return f"{SHIPPED_ROOT}/{dump}", f"{SHIPPED_ROOT}/{save}"


def view_text(view: View, dump: Path, paths: tuple[str | Path, str | Path]) -> str:
    """Save file text of ``view`` for ``dump``; ``paths``: its ``[dumpfile]``, ``[savefile]``."""
    signals = dump_signals(dump)
    clock = signal_changes(dump, [f"{SCOPE}.clk"])[f"{SCOPE}.clk"]
    end = clock[-1][0] if clock else 0
    return save_file_text(view, signals, first_rises(dump, view.event_paths()), *paths, end,
                          header=(f"`make waves` writes this file ({GENERATOR})",))


@dataclass(frozen=True)
class ViewCheck:
    """What GTKWave makes of the save file that :func:`write_views` wrote next to a dump."""

    shown: GtkwaveView
    listed: list[str]  # the signals the save file lists, as GTKWave reports them
    as_shipped: bool  # equal to sim/gtkw/<view>.gtkw but for the dump's path
    rises: dict[str, int | None]  # first rising edge of each event of the view

    @property
    def left_out(self) -> list[str]:
        """Signals GTKWave does not show: a wrong name is dropped without a word."""
        return [name for name in self.listed if name not in self.shown.displayed]


def _without_paths(text: str) -> str:
    return re.sub(r"^\[(dumpfile|savefile)\] .*$", "", text, flags=re.M)


def check_view(view: View, dump: Path, png: Path | None = None) -> ViewCheck:
    """Open the save file of ``view`` next to ``dump`` in GTKWave (headless; ``png``: its
    screen) and compare it with the shipped one."""
    saved = dump.parent / f"{view.name}.gtkw"
    text = saved.read_text()
    shipped = GTKW_DIR / saved.name
    return ViewCheck(
        shown=open_headless(saved, png=png),
        listed=displayed_names(text),
        as_shipped=shipped.exists() and _without_paths(text) == _without_paths(
            shipped.read_text()),
        rises=first_rises(dump, view.event_paths()),
    )


def write_views(design: str, dump: Path, png: bool, update_shipped: bool = False) -> list[Path]:
    """Write the save files of ``design`` next to ``dump`` (and the PNGs); return the files."""
    written = []
    for view in design_views(design):
        out = dump.parent / f"{view.name}.gtkw"
        out.write_text(view_text(view, dump, (dump, out)))
        written.append(out)
        if update_shipped:
            shipped = GTKW_DIR / f"{view.name}.gtkw"
            shipped.write_text(view_text(view, dump, shipped_paths(view)))
            written.append(shipped)
        if png:
            image = PNG_DIR / f"{view.name}.png"
            left_out = check_view(view, dump, png=image).left_out
            if left_out:
                raise ViewError(f"GTKWave does not show {', '.join(left_out)} of {out}")
            written.append(image)
    return written


def run_window(simulator: str, design: str, fmt: str, pulses: int, cycles: int) -> Path:
    """Record one window with waves in ``fmt``; return the dump."""
    os.environ["WAVES"] = fmt
    case = case_name(design, fmt)
    if design == "e2e":
        scenario = load_scenario(DEFAULT_SCENARIO)
        frames = -(-cycles * E2eParams().lanes // FRAME_PULSES) + 1
        run_e2e(simulator, scenario, frames, case=case, max_cycles=cycles)
    else:
        run_tx_cosim(simulator, pulses, case=case)
    return wave_file(simulator, design, fmt)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.waves", description=__doc__.split("\n")[0])
    parser.add_argument("--simulator", choices=SIMULATORS, default="verilator")
    parser.add_argument("--format", choices=WAVE_FORMATS, default="fst")
    parser.add_argument("--pulses", type=int, help="transmitter window in pulses "
                        f"(default {TX_PULSES}, {VCD_TX_PULSES} with VCD)")
    parser.add_argument("--e2e", action="store_true", help="the end-to-end top instead")
    parser.add_argument("--cycles", type=int, help="end-to-end window in clock cycles "
                        f"(default {E2E_CYCLES}, {VCD_E2E_CYCLES} with VCD)")
    parser.add_argument("--no-png", action="store_true", help="write no PNG (needs no GTKWave)")
    parser.add_argument("--update-shipped", action="store_true",
                        help="also rewrite sim/gtkw/<view>.gtkw from this run")
    args = parser.parse_args(argv)
    vcd = args.format == "vcd"
    pulses = args.pulses or (VCD_TX_PULSES if vcd else TX_PULSES)
    cycles = args.cycles or (VCD_E2E_CYCLES if vcd else E2E_CYCLES)
    if pulses < 1 or cycles < 1:
        parser.error(f"--pulses {pulses} and --cycles {cycles} must be positive")
    design = "e2e" if args.e2e else "tx"
    try:
        dump = run_window(args.simulator, design, args.format, pulses, cycles)
        if not dump.exists():
            raise ViewError(f"the simulator wrote no {args.format.upper()} at {dump}")
        print(f"waves: {dump} ({dump.stat().st_size / 1e6:.1f} MB)")
        for path in write_views(design, dump, not args.no_png, args.update_shipped):
            print(f"waves: {'gtkwave ' if path.suffix == '.gtkw' else ''}{path}")
    except (CosimError, E2eError, ScenarioError, ViewError, GtkwaveError) as exc:
        print(f"waves: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
