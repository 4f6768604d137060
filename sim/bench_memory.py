"""DRAM-backed RND cache and record store (``make bench``): lookups per cycle sustained, worst
latency in cycles (refresh collisions included), record store rates, and the cache at the flight
load (the transmitter's 625 M pulses/s, 8 lanes, and lookups at the classical link's most, 0.049
per cycle), on LiteDRAM and its DDR3 model in Verilator (cycles of the controller clock)."""

import pathlib
import time

from tb.memory.harness import run_memories


def run(out_dir: pathlib.Path) -> list[dict]:
    start = time.perf_counter()
    f = run_memories("verilator", "dram_memories_bench", cycles=50_000, rate_cycles=40_000,
                     store_records=4000, flight_cycles=0, seed=11,
                     testcase="cache_matches_model,cache_answer_rate,store_fifo")
    f |= run_memories("verilator", "dram_memories_flight", cycles=0, rate_cycles=0,
                      store_records=0, flight_cycles=40_000, lanes=8, seed=11,
                      testcase="cache_flight_load")
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
        {"name": "memory_cache_flight_latency_max", "value": f["flight_latency_max"],
         "unit": "cycles", "pulses_per_cycle": f["flight_pulses_per_cycle"],
         "lookups": f["flight_lookups"], "lanes": f["flight_lanes"], **context},
        {"name": "memory_store_cycles_per_record", "value": f["store_cycles_per_record"],
         "unit": "cycles", "first_record_latency": f["store_first_latency"],
         "records_across_refresh": f["store_refresh_records"], **context},
    ]
