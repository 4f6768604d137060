"""The DRAM memories' cocotb run, shared by the tests and ``sim/bench_memory.py``."""

import json
from pathlib import Path

from models.constants import LANES, PULSE_RATE_HZ
from models.sifting.classical_link import LINK_RATE_BPS
from models.sifting.classical_link import WORD_BITS as WORD_BITS_LINK
from rtl.memory.litedram_gen import CoreConfig, core_verilog
from rtl.memory.memories import DramMemories
from rtl.sifting.layouts import Report
from rtl.simonly.dram_port_model import DRAM_WORDS_VERILOG
from tb.memory.cocotb_memories import FIGURES
from tb.runner import run_cocotb

#: Pulses in the simulated cache: 128 DRAM words, so lookups expire within a short run.
CAPACITY = 4096
STORE_DEPTH = 64
#: The controller clock of the simulated core (its DRAM timings are for it).
CONTROLLER_HZ = CoreConfig().clk_freq


#: The transmitter's pulses per controller cycle (625 M/s at 100 MHz) and the most lookups
#: the classical link delivers per controller cycle (one 32-bit report per word: 4.9 M/s).
FLIGHT_WRITE_RATE = PULSE_RATE_HZ / CONTROLLER_HZ
FLIGHT_LOOKUP_RATE = LINK_RATE_BPS / WORD_BITS_LINK / CONTROLLER_HZ


def memories(port_model: bool = False, lanes: int = LANES, **cache_options: int
             ) -> DramMemories:
    """The cache (life twice the round trip) and the record store (two frames) on one core;
    ``port_model``: on the behavioural port model instead of LiteDRAM (Icarus), with the
    uninitialised Verilog word array that the flight-size e2e top uses (``dram_words.v``)."""
    return DramMemories(capacity=CAPACITY, round_trip=CAPACITY // 2, store_width=Report.size,
                        store_depth=STORE_DEPTH, frame_records=STORE_DEPTH // 2,
                        port_model=port_model, verilog_words=port_model, lanes=lanes,
                        **cache_options)


def run_memories(simulator: str, case: str, *, cycles: int, rate_cycles: int,
                 store_records: int, flight_cycles: int, seed: int = 5, lanes: int = LANES,
                 testcase: str | None = None, **cache_options: int) -> dict:
    """Run :mod:`tb.memory.cocotb_memories` (Verilator: LiteDRAM on its DRAM model; Icarus:
    the port model), all its tests or ``testcase``, and return the figures it measured;
    ``cache_options``: keyword parameters of :class:`rtl.memory.dram_cache.DramRndCache`."""
    icarus = simulator == "icarus"
    build = run_cocotb(memories(port_model=icarus, lanes=lanes, **cache_options),
                       "tb.memory.cocotb_memories", simulator, case=case, testcase=testcase,
                       extra_sources=[DRAM_WORDS_VERILOG] if icarus else [core_verilog()],
                       params={"seed": seed, "capacity": CAPACITY, "cycles": cycles,
                               "rate_cycles": rate_cycles, "store_depth": STORE_DEPTH,
                               "store_records": store_records, "flight_cycles": flight_cycles,
                               "flight_write_rate": FLIGHT_WRITE_RATE,
                               "flight_lookup_rate": FLIGHT_LOOKUP_RATE})
    return json.loads((Path(build) / FIGURES).read_text())
