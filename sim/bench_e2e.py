"""End-to-end co-simulation speed for ``make bench`` (SPEC 8 ``cosim_<simulator>``).

Pulses per wall-second of the simulation loop (build and stimulus preparation excluded) of the
full two-FPGA top (:mod:`sim.e2e`) on the nominal scenario, every stream checked; the ratio to
real time (625 M pulses/s), the window and the scenario go alongside. Icarus runs ~100 cycles/s
on this top, so its window is a smoke window of a few thousand cycles.

The Verilator entry also carries the speed of the bare model (``bare_pulses_per_cpu_s``): the
same Verilated objects linked with a plain C++ loop (``sim/bench_e2e_bare.cpp``: no cocotb, no
VPI, no Python) and run over the window's simulated time, so ``bare_ratio`` (co-simulation per
CPU second over bare model per CPU second, both measured here) says how much of the model's own
speed the testbench keeps, whatever the machine.
"""

import pathlib
import re
import resource
import subprocess

from models.constants import FABRIC_CLOCK_PS
from sim.e2e import DEFAULT_SCENARIO, REAL_TIME_PULSES_PER_S, run_e2e
from sim.e2e_scenario import load_scenario
from tb.runner import case_build_dir

# simulator -> (sync frames of the window, cycle limit)
WINDOWS = {"verilator": (32, None), "icarus": (2, 3000)}
BARE_SOURCE = pathlib.Path(__file__).with_name("bench_e2e_bare.cpp")


class BareModelError(RuntimeError):
    """The bare model could not be built or run."""


def build_bare(build: pathlib.Path) -> pathlib.Path:
    """Link :data:`BARE_SOURCE` against the model objects of a Verilator build directory (with
    the build's configuration defines, read from its makefiles: they fix the model's layout)."""
    try:
        makefiles = (build / "Vtop.mk").read_text() + (build / "Vtop_classes.mk").read_text()
    except FileNotFoundError:
        raise BareModelError(f"{build}: no Verilator build to link the bare model with") from None
    root = re.search(r"^VERILATOR_ROOT = (.+)$", makefiles, re.M)
    defines = [f"-D{name}={value}" for name, value in
               re.findall(r"^(VM_(?:TIMING|COVERAGE|SC|TRACE\w*)) = (\d+)$", makefiles, re.M)]
    include = pathlib.Path(root[1]) / "include"
    out = build / "bare"
    cmd = ["c++", "-std=c++20", "-Os", "-DVERILATOR=1", *defines, f"-I{build}", f"-I{include}",
           f"-I{include / 'vltstd'}", str(BARE_SOURCE), str(build / "Vtop__ALL.a"),
           # the Verilator runtime of the build (its main, verilator.o, is cocotb's); a build
           # with waves has the trace writer among them, which needs zlib
           *sorted(str(o) for o in build.glob("verilated*.o")),
           "-pthread", "-latomic", "-lz", "-o", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise BareModelError(f"linking the bare model failed: {done.stderr.strip()[-400:]}")
    return out


def bare_rate(build: pathlib.Path, cycles: int, lanes: int) -> float:
    """Pulses per CPU second of the bare model over ``cycles`` ground cycles (run in the build
    directory, where the clocks' schedule files of the last co-simulation are)."""
    binary = build_bare(build)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run([str(binary), str(cycles * FABRIC_CLOCK_PS)], cwd=build,
                          capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise BareModelError(f"the bare model failed: {done.stderr.strip()[-400:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cycles * lanes / cpu


def run(out_dir: pathlib.Path) -> list[dict]:
    scenario = load_scenario(DEFAULT_SCENARIO)
    entries = []
    for simulator, (frames, max_cycles) in WINDOWS.items():
        result = run_e2e(simulator, scenario, frames, case="e2e", max_cycles=max_cycles)
        rate = result["pulses_per_s"]
        entry = {
            "name": f"cosim_{simulator}",
            "value": rate,
            "unit": "pulses/s",
            "real_time_ratio": rate / REAL_TIME_PULSES_PER_S,
            "pulses_per_cpu_s": result["pulses_per_cpu_s"],
            "load_average": result["load_average"],
            "window_pulses": result["pulses_simulated"],
            "scenario": result["scenario"],
            "mismatches": result["mismatches"],
            "target": 1e6 if simulator == "verilator" else None,
        }
        if simulator == "verilator":
            lanes = result["pulses_simulated"] // result["cycles"]
            bare = bare_rate(case_build_dir("e2e", simulator), result["cycles"], lanes)
            entry.update({"bare_pulses_per_cpu_s": round(bare, 1),
                          "bare_ratio": round(result["pulses_per_cpu_s"] / bare, 3)})
        entries.append(entry)
    return entries
