"""RND cache: answers against models.rnd_cache.cache_lookup for concurrent writes and lookups."""

import random

import numpy as np
import pytest

from models.qrng import qrng_words
from models.rnd_cache import CacheStatus, cache_lookup
from models.symbols import map_symbols
from rtl.satellite.rnd_cache import RndCache
from tb import pysim
from tb.packing import pack_lanes
from tb.runner import SIMULATORS, run_cocotb


def expected_answer(pulse: int, head: int, capacity: int, codes: np.ndarray) -> tuple:
    status = int(cache_lookup(pulse, head, capacity))
    symbol = int(codes[pulse]) if status == CacheStatus.OK else 0
    return pulse, head, status, symbol


def decode_answer(value: int) -> tuple:
    mask64 = (1 << 64) - 1
    return value & mask64, (value >> 64) & mask64, (value >> 128) & 3, (value >> 130) & 0xF


def test_cache_answers_match_model_under_concurrent_writes():
    lanes, rows, beats, seed = 2, 16, 300, 4
    capacity = lanes * rows
    codes = map_symbols(qrng_words(seed, np.arange(beats * lanes))).packed()
    dut = RndCache(lanes, rows)
    rng = random.Random(seed)
    # Lookups around the moving window: hits, just-expired, and not yet written.
    queries = [rng.randrange(0, beats * lanes + 8) for _ in range(400)]
    answers: list[int] = []

    writes = [pack_lanes(codes[b * lanes:(b + 1) * lanes], 4) for b in range(beats)]
    pysim.run(
        dut,
        pysim.producer(dut.write, writes, rng, idle=0.5),
        pysim.producer(dut.query, [{"pulse": q} for q in queries], rng, idle=0.2),
        pysim.consumer(dut.answer, len(queries), answers, rng, stall=0.3),
    )
    decoded = [decode_answer(a) for a in answers]
    statuses = {d[2] for d in decoded}
    assert statuses == {CacheStatus.OK, CacheStatus.EXPIRED, CacheStatus.PENDING}
    for (pulse, head, status, symbol), query in zip(decoded, queries, strict=True):
        assert pulse == query
        assert (pulse, head, status, symbol) == expected_answer(pulse, head, capacity, codes)


def test_rejects_non_power_of_two_sizes():
    with pytest.raises(ValueError, match="powers of two"):
        RndCache(lanes=3)


@pytest.mark.cocotb
@pytest.mark.parametrize("simulator", SIMULATORS)
@pytest.mark.parametrize("store", ["memory", "dp16kd_model"])
def test_rnd_cache_cocotb(simulator, store):
    """``dp16kd_model``: the row store of the satellite_sift top (ECP5 block RAMs with their
    output register, one cycle late writes), from the behavioural DP16KD model, so the Verilog
    the synthesis top is built from is checked on both simulators too."""
    ebr = store == "dp16kd_model"
    run_cocotb(
        RndCache(4, 64, ecp5_ebr=ebr, ebr_model=ebr), "tb.satellite.cocotb_rnd_cache", simulator,
        case="rnd_cache_l4" + ("_dp16kd" if ebr else ""),
        params={"lanes": 4, "rows": 64, "beats": 3000, "queries": 3000, "seed": 8,
                "idle": 0.3, "stall": 0.3},
    )
