"""End-to-end co-simulation speed for ``make bench`` (SPEC 8 ``cosim_<simulator>``).

Pulses per wall-second of the simulation loop (build and stimulus preparation excluded) of the
full two-FPGA top (:mod:`sim.e2e`) on the nominal scenario, every stream checked; the ratio to
real time (625 M pulses/s), the window and the scenario go alongside. Icarus runs ~100 cycles/s
on this top, so its window is a smoke window of a few thousand cycles.
"""

import pathlib

from sim.e2e import DEFAULT_SCENARIO, REAL_TIME_PULSES_PER_S, run_e2e
from sim.e2e_scenario import load_scenario

# simulator -> (sync frames of the window, cycle limit)
WINDOWS = {"verilator": (32, None), "icarus": (2, 3000)}


def run(out_dir: pathlib.Path) -> list[dict]:
    scenario = load_scenario(DEFAULT_SCENARIO)
    entries = []
    for simulator, (frames, max_cycles) in WINDOWS.items():
        result = run_e2e(simulator, scenario, frames, case="e2e", max_cycles=max_cycles)
        rate = result["pulses_per_s"]
        entries.append({
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
        })
    return entries
