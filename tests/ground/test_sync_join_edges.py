"""Sync join at every edge of its comparisons (window ``[stamp + offset - tolerance,
stamp + offset + tolerance]`` with both ends included, closing after ``strobe_lag_ps``, FIFOs
of ``depth`` entries; :mod:`models.ground.sync_join`): a strobe exactly at each window edge,
one picosecond inside and outside, missing, extra, ambiguous (two and four strobes), ``now``
exactly at the deadline and one picosecond after, both FIFOs exactly full and one more;
``now`` crosses 2**64 in the deadline phases (times compare modulo 2**64). The joined tags and
counters are stated here; the golden model and the RTL (Amaranth simulator, Verilator, Icarus)
must both give them (:func:`tb.ground.bodies.sync_join_edges`). Each phase holds ``now``
constant, so no stated value depends on the join's latency."""

import pytest

from models.ground.sync_join import JoinConfig
from rtl.ground.sync_join import SyncJoin
from tb.dual import backend_params, run_body
from tb.ground import bodies

CFG = JoinConfig()
TOL = CFG.tolerance_ps
DEADLINE = CFG.offset_ps + TOL + CFG.strobe_lag_ps  # after the stamp
DEPTH = CFG.depth
PHASES: list[dict] = []
WANT: list[list[int]] = []


WRAP = 1 << 64


def now(k: int) -> int:
    """``now`` of phase ``k``, unwrapped: it crosses 2**64 in the deadline phases (11..15)."""
    return WRAP - 12 * 10**6 + k * 10**6


def phase(t: int, events: tuple[int, ...] = (), strobes: tuple[int, ...] = (),
          joined: int | None = None) -> None:
    """A phase at ``now = t``; ``joined``: the frame joined with its (single) strobe."""
    PHASES.append({"now": t, "events": list(events), "strobes": list(strobes)})
    if joined is not None:
        WANT.append([strobes[0] % WRAP, joined])


x = now  # the expected strobe time of an event stamped in phase k (offset 0)
phase(now(0), (500,), (x(0) + TOL,), joined=500)       # exactly at the upper edge
phase(now(1), (501,), (x(1) - TOL,), joined=501)       # exactly at the lower edge
phase(now(2), (502,), (x(2) + TOL - 1,), joined=502)   # 1 ps inside
phase(now(3), (503,), (x(3) - TOL + 1,), joined=503)
phase(now(4), (504,), (x(4) + TOL + 1,))               # 1 ps late: missing, then extra
phase(now(5), (505,), (x(5) - TOL - 1,))               # 1 ps early: extra, then missing
phase(now(6), (506,))                                  # no strobe: missing
phase(now(7), (507,), (x(7) - TOL, x(7) + TOL))        # two in the window: ambiguous
phase(now(8), (508,), tuple(x(8) + j for j in range(4)))  # four: still ambiguous
phase(now(9), (), (x(9),))                             # no event: extra
phase(now(10), (510,), (x(10),), joined=510)
# now exactly at the deadline: the window is still open; one picosecond later it closes
phase(now(11), (511,))
phase(now(11) + DEADLINE, (), (x(11),), joined=511)
phase(now(13), (513,))
phase(now(13) + DEADLINE + 1)                          # missing
phase(now(15), (), (x(13),))                           # its strobe, too late: extra
# strobe FIFO: exactly full (depth strobes no event can claim yet), then one more: overflow
phase(now(16), (), tuple(now(16) + 3 * TOL + j for j in range(DEPTH)))
phase(now(17))                                         # they are extra now
phase(now(18), (), tuple(now(18) + 3 * TOL + j for j in range(DEPTH + 1)))
phase(now(19))
# event FIFO: one open event and exactly depth waiting, then one more: overflow
for j in range(DEPTH + 2):
    phase(now(20) + j, (520 + j,))
COUNTERS = {"missing": 4 + DEPTH + 1, "ambiguous": 2, "extra": 4 + 2 * DEPTH, "overflow": 2}
PARAMS = {"phases": PHASES, "want": WANT, "counters": COUNTERS, "offset_ps": CFG.offset_ps,
          "tolerance_ps": TOL, "strobe_lag_ps": CFG.strobe_lag_ps}


# slow on cocotb: the Verilog of the join's random cocotb case (slow as well), so make test-slow
# builds it once; make test runs the edges in the Amaranth simulator and the join on both
# simulators inside the time tagger's cocotb case
@pytest.mark.parametrize("backend", backend_params(slow_cocotb=True))
def test_sync_join_window_deadline_and_fifo_edges(backend):
    run_body(backend, SyncJoin(CFG.depth), bodies.sync_join_edges, case="sync_join",
             params={**PARAMS, "seed": 4, "idle": 0.2, "stall": 0.3})
