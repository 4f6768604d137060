"""``make waves``: short co-simulation windows with FST waves and GTKWave views.

Runs :mod:`sim.tx_cosim` (default) or, with ``--e2e``, the end-to-end top of :mod:`sim.e2e`
with ``WAVES=1`` and writes, next to the FST, a copy of each shipped save file (``sim/gtkw/*.gtkw``
for the transmitter, ``sim/gtkw/e2e/*.gtkw`` for the end-to-end top) with the dump path and the
simulator's scope prefix filled in::

    python -m sim.waves [--simulator verilator|icarus] [--pulses N] [--e2e [--cycles N]]
    gtkwave build/cocotb/tx_waves/verilator/tx_cosim.gtkw
    gtkwave build/cocotb/e2e_waves/verilator/e2e.gtkw
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from models.constants import FRAME_PULSES
from rtl.e2e.top import E2eParams
from sim.e2e import DEFAULT_SCENARIO, run_e2e
from sim.e2e import CosimError as E2eError
from sim.e2e_scenario import ScenarioError, load_scenario
from sim.tx_cosim import CosimError, run_tx_cosim
from tb.runner import BUILD_ROOT, SIMULATORS

GTKW_DIR = Path(__file__).resolve().parent / "gtkw"
E2E_GTKW_DIR = GTKW_DIR / "e2e"
CASE = "tx_waves"
E2E_CASE = "e2e_waves"
E2E_CYCLES = 40_000  # two sync frames and a half: lock, first detections, reports
# Both simulators name the design scope after the top module (Verilator adds only $rootio).
SCOPE = "top"


def wave_file(simulator: str, case: str = CASE) -> Path:
    build = BUILD_ROOT / case / simulator
    return build / (f"{case}.fst" if simulator == "verilator" else "top.fst")


def gtkw_signals(save_file: Path) -> list[str]:
    """Signal paths listed in a save file (lines that are not comments, flags or groups)."""
    return [line.strip() for line in save_file.read_text().splitlines()
            if line.strip() and line[0] not in "[@-*"]


def write_save_file(template: Path, dump: Path) -> Path:
    body = template.read_text().replace("@TOP@", SCOPE)
    out = dump.parent / template.name
    out.write_text(f'[dumpfile] "{dump}"\n[savefile] "{out}"\n{body}')
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.waves", description=__doc__.split("\n")[0])
    parser.add_argument("--simulator", choices=SIMULATORS, default="verilator")
    parser.add_argument("--pulses", type=int, default=1 << 14)
    parser.add_argument("--e2e", action="store_true", help="the end-to-end top instead")
    parser.add_argument("--cycles", type=int, default=E2E_CYCLES,
                        help="end-to-end window in clock cycles")
    args = parser.parse_args(argv)
    if args.pulses < 1 or args.cycles < 1:
        parser.error(f"--pulses {args.pulses} and --cycles {args.cycles} must be positive")
    os.environ["WAVES"] = "1"
    case, templates = (E2E_CASE, E2E_GTKW_DIR) if args.e2e else (CASE, GTKW_DIR)
    try:
        if args.e2e:
            scenario = load_scenario(DEFAULT_SCENARIO)
            frames = -(-args.cycles * E2eParams().lanes // FRAME_PULSES) + 1
            run_e2e(args.simulator, scenario, frames, case=case, max_cycles=args.cycles)
        else:
            run_tx_cosim(args.simulator, args.pulses, case=case)
    except (CosimError, E2eError, ScenarioError) as exc:
        print(f"waves: error: {exc}", file=sys.stderr)
        return 1
    dump = wave_file(args.simulator, case)
    if not dump.exists():
        print(f"waves: error: the simulator wrote no FST at {dump}", file=sys.stderr)
        return 1
    print(f"waves: {dump} ({dump.stat().st_size / 1e6:.1f} MB)")
    for template in sorted(templates.glob("*.gtkw")):
        print(f"waves: gtkwave {write_save_file(template, dump)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
