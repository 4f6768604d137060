"""``make waves``: a short transmitter co-simulation window with FST waves and a GTKWave view.

Runs :mod:`sim.tx_cosim` with ``WAVES=1`` and writes, next to the FST, a copy of each shipped
save file of ``sim/gtkw/`` with the dump path and the simulator's scope prefix filled in::

    python -m sim.waves [--simulator verilator|icarus] [--pulses N]
    gtkwave build/cocotb/tx_waves/verilator/tx_cosim.gtkw
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from sim.tx_cosim import CosimError, run_tx_cosim
from tb.runner import BUILD_ROOT, SIMULATORS

GTKW_DIR = Path(__file__).resolve().parent / "gtkw"
CASE = "tx_waves"
# Both simulators name the design scope after the top module (Verilator adds only $rootio).
SCOPE = "top"


def wave_file(simulator: str) -> Path:
    build = BUILD_ROOT / CASE / simulator
    return build / (f"{CASE}.fst" if simulator == "verilator" else "top.fst")


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
    args = parser.parse_args(argv)
    if args.pulses < 1:
        parser.error(f"--pulses {args.pulses} must be positive")
    os.environ["WAVES"] = "1"
    try:
        run_tx_cosim(args.simulator, args.pulses, case=CASE)
    except CosimError as exc:
        print(f"waves: error: {exc}", file=sys.stderr)
        return 1
    dump = wave_file(args.simulator)
    if not dump.exists():
        print(f"waves: error: the simulator wrote no FST at {dump}", file=sys.stderr)
        return 1
    print(f"waves: {dump} ({dump.stat().st_size / 1e6:.1f} MB)")
    for template in sorted(GTKW_DIR.glob("*.gtkw")):
        print(f"waves: gtkwave {write_save_file(template, dump)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
