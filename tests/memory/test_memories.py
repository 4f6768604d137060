"""DRAM-backed RND cache and record store on LiteDRAM and its DRAM model (cocotb on Verilator
and Icarus, Icarus on a short window), and the sizes refused at elaboration."""

import pytest

from models.sifting.packets import PACKET_BITS
from rtl.memory.dram_cache import DramRndCache, MemoryConfigError
from rtl.memory.dram_store import DramRecordStore
from rtl.memory.litedram_gen import CoreConfig, LiteDramConfigError, core_verilog
from rtl.memory.memories import DramMemories
from rtl.sifting.layouts import Report
from tb.runner import SIMULATORS, run_cocotb

# Cycles of the model run per simulator: Verilator crosses ~25 refreshes (one per 780 cycles),
# Icarus 3.
CYCLES = {"verilator": 20_000, "icarus": 2_500}
RATE_CYCLES = {"verilator": 8_000, "icarus": 1_200}
CAPACITY = 4096  # pulses: 128 DRAM words, so lookups expire within the window


def memories(port_model: bool = False) -> DramMemories:
    return DramMemories(capacity=CAPACITY, round_trip=CAPACITY // 2, store_width=Report.size,
                        store_depth=64, frame_records=32, port_model=port_model)


@pytest.mark.cocotb
@pytest.mark.parametrize("simulator", SIMULATORS)
def test_dram_memories(simulator):
    """Verilator: LiteDRAM on its DRAM model. Icarus cannot run LiteDRAM's Verilog (a
    zero-delay loop, docs/memory.md): the behavioural port model stands in for it there."""
    short = simulator == "icarus"
    run_cocotb(memories(port_model=short), "tb.memory.cocotb_memories", simulator,
               case="dram_memories", extra_sources=[] if short else [core_verilog()],
               params={"seed": 5, "capacity": CAPACITY, "cycles": CYCLES[simulator],
                       "rate_cycles": RATE_CYCLES[simulator], "store_depth": 64,
                       "store_records": 200 if short else 600})


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
    assert PACKET_BITS > 0
