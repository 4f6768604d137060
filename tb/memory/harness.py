"""The DRAM memories' cocotb run, shared by the tests and ``sim/bench_memory.py``."""

import json
from pathlib import Path

from rtl.memory.litedram_gen import core_verilog
from rtl.memory.memories import DramMemories
from rtl.sifting.layouts import Report
from tb.memory.cocotb_memories import FIGURES
from tb.runner import run_cocotb

#: Pulses in the simulated cache: 128 DRAM words, so lookups expire within a short run.
CAPACITY = 4096
STORE_DEPTH = 64


def memories(port_model: bool = False) -> DramMemories:
    """The cache (life twice the round trip) and the record store (two frames) on one core;
    ``port_model``: on the behavioural port model instead of LiteDRAM (Icarus)."""
    return DramMemories(capacity=CAPACITY, round_trip=CAPACITY // 2, store_width=Report.size,
                        store_depth=STORE_DEPTH, frame_records=STORE_DEPTH // 2,
                        port_model=port_model)


def run_memories(simulator: str, case: str, *, cycles: int, rate_cycles: int,
                 store_records: int, seed: int = 5) -> dict:
    """Run :mod:`tb.memory.cocotb_memories` (Verilator: LiteDRAM on its DRAM model; Icarus:
    the port model) and return the figures it measured."""
    icarus = simulator == "icarus"
    build = run_cocotb(memories(port_model=icarus), "tb.memory.cocotb_memories", simulator,
                       case=case, extra_sources=[] if icarus else [core_verilog()],
                       params={"seed": seed, "capacity": CAPACITY, "cycles": cycles,
                               "rate_cycles": rate_cycles, "store_depth": STORE_DEPTH,
                               "store_records": store_records})
    return json.loads((Path(build) / FIGURES).read_text())
