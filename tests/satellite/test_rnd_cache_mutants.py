"""RndCache behaviour that the answer scoreboard does not see: the status counters, a cache whose
row address is the whole pulse index above the lane bits (as many rows as lanes), and the
model's window bounds (random lookups rarely land on them)."""

import numpy as np

from models.rnd_cache import CacheStatus, cache_lookup
from rtl.common.payload import unpack_array
from rtl.satellite.layouts import CacheAnswer
from rtl.satellite.rnd_cache import RndCache
from tb.dual import run_body
from tb.satellite import bodies

PARAMS = {"beats": 300, "queries": 400, "seed": 4, "write_idle": 0.5, "idle": 0.2, "stall": 0.3}


def _counting_body(seen: dict):
    """bodies.rnd_cache, keeping its answers and the counters read after them."""
    async def body(bench):
        transfer = bench.transfer

        async def keep(send, receive):
            got = await transfer(send, receive)
            seen["answers"] = got["answer"]
            return got

        bench.transfer = keep
        await bodies.rnd_cache(bench)
        seen["expired"] = bench.get("expired_count")
        seen["pending"] = bench.get("pending_count")
    return body


def test_counters_count_expired_and_pending_answers_taken_under_backpressure():
    seen: dict = {}
    run_body("pysim", RndCache(2, 16), _counting_body(seen), case="rnd_cache_l2",
             params={"lanes": 2, "rows": 16, **PARAMS})
    status = unpack_array(CacheAnswer, seen["answers"])["status"]
    assert (seen["expired"], seen["pending"]) == (
        int(np.sum(status == CacheStatus.EXPIRED)), int(np.sum(status == CacheStatus.PENDING)))
    assert seen["expired"] > 0 and seen["pending"] > 0


def test_as_many_rows_as_lanes_matches_model():
    run_body("pysim", RndCache(4, 4), bodies.rnd_cache, case="rnd_cache_l4_r4",
             params={"lanes": 4, "rows": 4, **PARAMS})


def test_model_window_ends_at_head_pending_and_starts_at_head_minus_capacity():
    capacity, head = 8, 20
    n = np.array([head - capacity - 1, head - capacity, head - 1, head])
    assert cache_lookup(n, head, capacity).tolist() == [
        CacheStatus.EXPIRED, CacheStatus.OK, CacheStatus.OK, CacheStatus.PENDING]
