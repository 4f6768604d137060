"""Transmitter co-simulation speed for ``make bench`` (SPEC 8 ``tx_cosim_<simulator>``).

Pulses per wall-second of the simulation loop (build excluded) of
:mod:`sim.tx_cosim`, with every output checked by the scoreboard; fabric cycles per second, pulses
per CPU-second of the simulator process (what the wall figure is on an idle machine) and the
ratio to real time (625 M pulses/s) are reported alongside.
"""

import pathlib

from sim.tx_cosim import run_tx_cosim

REAL_TIME_PULSES_PER_S = 625e6
WINDOWS = {"verilator": 1 << 21, "icarus": 1 << 14}  # Icarus runs ~100x slower


def run(out_dir: pathlib.Path) -> list[dict]:
    entries = []
    for simulator, pulses in WINDOWS.items():
        result = run_tx_cosim(simulator, pulses, case="tx_cosim_bench")
        rate = result["pulses_per_s"]
        entries.append({
            "name": f"tx_cosim_{simulator}",
            "value": rate,
            "unit": "pulses/s",
            "pulses": result["pulses"],
            "mismatches": result["mismatches"],
            "cycles_per_s": result["cycles_per_s"],
            "pulses_per_cpu_s": result["pulses_per_cpu_s"],
            "real_time_ratio": rate / REAL_TIME_PULSES_PER_S,
            "target": 2e6 if simulator == "verilator" else None,
        })
    return entries
