"""Time-ordered merge at every edge of its comparisons (:mod:`models.ground.tdc_merge`): a tag
exactly ``max_lag_ps`` old (kept) and one picosecond older (late), a tag as old as its
predecessor (kept) and one picosecond older (late), equal times on two inputs (input order),
the release bound exactly met by the lowest input and not by a higher one, a FIFO exactly full
and one tag more (overflow), and times on both sides of the 64-bit wrap (``now`` runs from
``2**64 - 3e6`` ps across it). The tags, the phase in which each leaves, and the counters are
stated here; the golden model and the RTL (Amaranth simulator, Verilator, Icarus) must both
give them (:func:`tb.ground.bodies.tdc_merge_edges`). ``now`` is constant inside a phase, so
no stated value depends on the merge's latency."""

import pytest

from rtl.ground.tdc_merge import TimeOrderedMerge
from tb.dual import backend_params, run_body
from tb.ground import bodies

INPUTS, DEPTH = 5, 32  # the Verilog of the merge's other case
LAG = 5_000
WRAP = 1 << 64
N = [WRAP - 3 * 10**6 + k * 10**6 for k in range(4)]  # now reaches 2**64 (0) in phase 3
E: list[int] = []

PHASES = [
    # phase 0: in0 one ps beyond its lag (late), then exactly at it: kept, and released at
    # once (its key (now - lag, 0) meets every empty input's bound (now - lag, j > 0)); in1
    # exactly at the lag too, and 1 ps inside, waits: in0's bound (now - lag, 0) is below its
    # key (now - lag, 1); in2 two equal times; in3 an equal
    # time with in2 (after it: input order), then 1 ps older than its predecessor (late)
    {"now": N[0], "tags": [[N[0] - LAG - 1, N[0] - LAG], [N[0] - LAG, N[0] - LAG + 1],
                           [N[0] - 100, N[0] - 100], [N[0] - 100, N[0] - 101], E]},
    {"now": N[1], "tags": [E] * INPUTS},
    # phase 2: in0 one tag more than its FIFO holds, in1 exactly a FIFO full; nothing leaves
    # while in2..in4 are empty and their bound is below
    {"now": N[2], "tags": [[N[2] - 10] * (DEPTH + 1), [N[2] - 10] * DEPTH, E, E, E]},
    # phase 3: now is 2**64 (0 on the wire); in2 1 ps before the wrap, in3 at it: the wrapped
    # time leaves second (times compare modulo 2**64)
    {"now": N[3], "tags": [E, E, [WRAP - 1], [WRAP], E]},
]
WANT = [[N[0] - LAG, 0, 0], [N[0] - LAG, 1, 1], [N[0] - LAG + 1, 1, 1], [N[0] - 100, 2, 1],
        [N[0] - 100, 2, 1], [N[0] - 100, 3, 1],
        *[[N[2] - 10, 0, 3]] * DEPTH, *[[N[2] - 10, 1, 3]] * DEPTH,
        [WRAP - 1, 2, 4], [WRAP, 3, 4]]
WANT = [[t % WRAP, i, k] for t, i, k in WANT]
PARAMS = {"phases": PHASES, "want": WANT, "late": [1, 0, 0, 1, 0], "overflow": [1, 0, 0, 0, 0],
          "lags": [LAG] * INPUTS, "depth": DEPTH}


# slow on cocotb: the Verilog of the merge's random cocotb case (slow as well), so make
# test-slow builds it once; make test runs the edges in the Amaranth simulator and the merge on
# both simulators inside the time tagger's cocotb case
@pytest.mark.parametrize("backend", backend_params(slow_cocotb=True))
def test_merge_lag_order_release_and_full_fifo_edges(backend):
    run_body(backend, TimeOrderedMerge(INPUTS, DEPTH), bodies.tdc_merge_edges, case="tdc_merge",
             params={**PARAMS, "seed": 6, "idle": 0.2, "stall": 0.3})
