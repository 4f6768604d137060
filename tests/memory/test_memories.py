"""DRAM-backed RND cache and record store against the golden model (cocotb: Verilator on
LiteDRAM and its DRAM model, Icarus on the behavioural port model over a short window), and the
sizes refused at elaboration."""

import pytest

from rtl.memory.dram_cache import DramRndCache, MemoryConfigError
from rtl.memory.dram_store import DramRecordStore
from rtl.memory.litedram_gen import (
    CoreConfig,
    LiteDramConfigError,
    core_verilog,
)
from rtl.sifting.layouts import Report
from tb.memory.harness import run_memories
from tb.runner import SIMULATORS

# Verilator crosses ~25 refreshes (one per 780 cycles), Icarus 3; the flight load fills the
# 4096-pulse cache (1,024 cycles at 4 lanes) before its lookups.
WINDOWS = {
    "verilator": {"cycles": 20_000, "rate_cycles": 8_000, "store_records": 600,
                  "flight_cycles": 6_000},
    "icarus": {"cycles": 2_500, "rate_cycles": 1_200, "store_records": 200,
               "flight_cycles": 2_200},
}


@pytest.mark.cocotb
@pytest.mark.parametrize("simulator", SIMULATORS)
def test_dram_memories(simulator):
    figures = run_memories(simulator, "dram_memories", **WINDOWS[simulator])
    assert figures["model_refresh_lookups"] > 0 and figures["store_refresh_records"] > 0
    assert 0 < figures["lookups_per_cycle"] <= 1


def test_cache_shorter_than_round_trip_is_refused():
    with pytest.raises(MemoryConfigError, match="cache life 4096 pulses is shorter than the "
                       "link round trip 6250000 pulses"):
        DramRndCache(capacity=4096, round_trip=6_250_000, addr_bits=17)


def test_store_smaller_than_a_frame_is_refused():
    with pytest.raises(MemoryConfigError, match="1024 records cannot hold one frame period's "
                       "3355 records"):
        DramRecordStore(width=Report.size, depth=1024, frame_records=3355, addr_bits=17)


def test_sizes_beyond_the_dram_are_refused():
    with pytest.raises(MemoryConfigError, match="exceed the DRAM's 131072 words"):
        DramRndCache(capacity=1 << 24, round_trip=1 << 20, addr_bits=17)
    with pytest.raises(LiteDramConfigError, match="rows=100"):
        core_verilog(CoreConfig(rows=100))
