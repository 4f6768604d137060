"""DRAM-backed RND cache and record store (``make bench``): lookups per cycle sustained, worst
latency in cycles (refresh collisions included), record store rates, on LiteDRAM and its DDR3
model in Verilator (cycles of the controller clock)."""

import pathlib
import time

from tb.memory.harness import run_memories


def run(out_dir: pathlib.Path) -> list[dict]:
    start = time.perf_counter()
    f = run_memories("verilator", "dram_memories_bench", cycles=50_000, rate_cycles=40_000,
                     store_records=4000, seed=11)
    wall = time.perf_counter() - start
    context = {"simulator": "verilator", "dram": "LiteDRAM, MT41K64M16 model, 100 MHz timings",
               "wall_s": wall}
    return [
        {"name": "memory_cache_lookups_per_cycle", "value": f["lookups_per_cycle"],
         "unit": "lookups/cycle", **context},
        {"name": "memory_cache_latency_max", "value": f["latency_max"], "unit": "cycles",
         "latency_min": f["latency_min"], "refresh_cycles": f["rate_refresh_cycles"], **context},
        {"name": "memory_cache_latency_refresh_max", "value": f["latency_refresh_max"],
         "unit": "cycles", **context},
        {"name": "memory_cache_latency_max_mixed", "value": f["model_latency_max"],
         "unit": "cycles", "lookups": f["model_answers"],
         "across_refresh": f["model_refresh_lookups"], **context},
        {"name": "memory_store_cycles_per_record", "value": f["store_cycles_per_record"],
         "unit": "cycles", "first_record_latency": f["store_first_latency"], **context},
    ]
