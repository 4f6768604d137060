"""Transmitter co-simulation speed for ``make bench`` (SPEC 8 ``tx_cosim_<simulator>``).

Pulses per wall-second of the simulation loop (build excluded) of
:mod:`sim.tx_cosim`, with every output checked by the scoreboard; fabric cycles per second, pulses
per CPU-second of the simulator process (what the wall figure is on an idle machine) and the
ratio to real time (625 M pulses/s) are reported alongside.
"""

import pathlib

from sim.tx_cosim import REAL_TIME_PULSES_PER_S, run_tx_cosim

# Verilator: ~4 s of simulation loop at the target speed (a steadier figure than 1 s); Icarus runs
# ~1000x slower. Both reuse the `make sim` build (same default parameters, same case).
WINDOWS = {"verilator": 1 << 23, "icarus": 1 << 14}


def run(out_dir: pathlib.Path) -> list[dict]:
    entries = []
    for simulator, pulses in WINDOWS.items():
        result = run_tx_cosim(simulator, pulses)
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
