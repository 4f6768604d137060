"""RndCache at its window edges (SPEC 3.3, ``models.rnd_cache``): a lookup of pulse n made
when ``head`` pulses are written is OK for ``head - capacity <= n < head``. So a pulse exactly
``capacity`` pulses old (the cache life) is still answered, one pulse older is EXPIRED, the
newest pulse ``head - 1`` is OK and ``head`` is PENDING. The row index wraps from the last row
to row 0 inside the window. Every status is stated here; the golden model and the RTL must both
give it (``tb.satellite.bodies.rnd_cache_edges``). One build: the ``rnd_cache_l4`` Verilog of
``test_rnd_cache.py`` (4 lanes x 64 rows, capacity 256)."""

import pytest

from models.rnd_cache import CacheStatus
from rtl.satellite.rnd_cache import RndCache
from tb.dual import backend_params, run_body
from tb.satellite import bodies

OK, EXPIRED, PENDING = CacheStatus.OK, CacheStatus.EXPIRED, CacheStatus.PENDING
LANES, ROWS = 4, 64
LIFE = LANES * ROWS  # 256 pulses


def run(beats: int, lookups: list[tuple[int, CacheStatus]]) -> dict:
    return {"beats": beats, "queries": [n for n, _ in lookups],
            "want": [int(s) for _, s in lookups]}


# head = 400 (the ring has wrapped once: beat 64 went to row 0 again).
WRAPPED = run(100, [
    (400 - LIFE - 1, EXPIRED), (400 - LIFE, OK), (400 - LIFE + 1, OK),  # life + 1, life, life - 1
    (399, OK), (400, PENDING), (401, PENDING),                          # newest, head, head + 1
    (255, OK), (256, OK),                 # row 63 lane 3, then row 0 lane 0 of the second lap
    (0, EXPIRED), ((1 << 64) - 1, PENDING),
])
# head = 256 = the life: the cache is exactly full, pulse 0 is still there.
FULL = run(64, [(0, OK), (1, OK), (255, OK), (256, PENDING), (257, PENDING)])
# head = 260: the first overwritten row (pulses 0..3 gone, 4 is the oldest kept).
FIRST_WRAP = run(65, [(3, EXPIRED), (4, OK), (5, OK), (259, OK), (260, PENDING)])
# head = 4: the window floor head - life is negative.
FILLING = run(1, [(0, OK), (3, OK), (4, PENDING), (5, PENDING)])


@pytest.mark.parametrize("backend", backend_params())
def test_rnd_cache_lookup_at_exact_life_is_answered_one_older_expired(backend):
    run_body(backend, RndCache(LANES, ROWS), bodies.rnd_cache_edges, case="rnd_cache_l4",
             params={"lanes": LANES, "rows": ROWS, "seed": 12, "write_idle": 0.2, "idle": 0.3,
                     "stall": 0.3, "runs": [WRAPPED, FULL, FIRST_WRAP, FILLING]},
             verilog_key=f"lanes={LANES} rows={ROWS}")
