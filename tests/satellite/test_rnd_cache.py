"""RND cache: answers against models.rnd_cache.cache_lookup for concurrent writes and lookups,
one body (tb.satellite.bodies.rnd_cache) in Amaranth's simulator and through cocotb."""

import pytest

from rtl.satellite.rnd_cache import RndCache
from tb.dual import backend_params, run_body
from tb.satellite import bodies


def test_cache_answers_match_model_under_concurrent_writes():
    """Lookups around the moving window of a small cache: hits, just-expired, not yet written."""
    run_body("pysim", RndCache(2, 16), bodies.rnd_cache, case="rnd_cache_l2",
             params={"lanes": 2, "rows": 16, "beats": 300, "queries": 400, "seed": 4,
                     "write_idle": 0.5, "idle": 0.2, "stall": 0.3})


def test_rejects_non_power_of_two_sizes():
    with pytest.raises(ValueError, match="powers of two"):
        RndCache(lanes=3)


@pytest.mark.parametrize("backend", backend_params())
@pytest.mark.parametrize("store", ["memory", "dp16kd_model"])
def test_rnd_cache_with_reset(backend, store):
    """Two runs, the second after a reset in mid-stream. ``dp16kd_model``: the row store of the
    satellite_sift top (ECP5 block RAMs with their output register, one cycle late writes),
    from the behavioural DP16KD model, so the Verilog the synthesis top is built from is
    checked on both simulators too."""
    ebr = store == "dp16kd_model"
    run_body(backend, RndCache(4, 64, ecp5_ebr=ebr, ebr_model=ebr), bodies.rnd_cache,
             case="rnd_cache_l4" + ("_dp16kd" if ebr else ""),
             params={"lanes": 4, "rows": 64, "beats": 3000, "queries": 3000, "seed": 8,
                     "runs": 2, "write_idle": 0.3, "idle": 0.3, "stall": 0.3})
