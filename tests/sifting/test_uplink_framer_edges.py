"""UplinkFramer at its frame, close-time and repetition edges (SPEC 4.4, ``docs/sifting.md``):
the reports at pulses P - 1 and P fall in frames 0 and 1 (offsets P - 1 and 0); a report of a
later frame closes the open one; frame j closes when ``now`` reaches ``(j+1) P + close_lag``
exactly, not one pulse before; each closed frame is sent exactly ``max_repeats`` times while no
newer frame closes; an empty frame is sent too; a report older than the open frame is ``late``,
neither sent nor recorded. The copies are stated here and checked against the golden encoder
(``tb.sifting.bodies.uplink_framer_edges``).

The 32-bit sequence number would wrap after 2**32 frames (160 days at P = 2**21): unreachable in
a pass, not simulated (the receivers compare without wrap-around, ``docs/sifting.md``)."""

import pytest

from tb.dual import backend_params
from tb.sifting import bodies

P, LAG = bodies.EDGE_FRAME_PULSES, bodies.EDGE_UF_LAG  # 64, 8
REPEATS = bodies.EDGE_UF_REPEATS  # 3


def copies(seq: int, offsets: list[int]) -> list:
    return [[seq, offsets]] * REPEATS


PHASES = [
    # now = 0: frame 0 gets pulses 0 and P - 1; the report at P (frame 1) closes frame 0.
    {"now": 0, "reports": [[0, 1, 1, 1], [P - 1, 0, 0, 0], [P, 1, 0, 0]],
     "copies": copies(0, [0, P - 1]), "late": 0,
     "records": [[0, 1, 1, 1], [P - 1, 0, 0, 0], [P, 1, 0, 0]]},
    # One pulse before frame 1's close time: nothing more is sent.
    {"now": 2 * P + LAG - 1, "reports": [], "copies": [], "late": 0, "records": []},
    # Exactly at the close time: frame 1 (the report at P, offset 0) closes.
    {"now": 2 * P + LAG, "reports": [], "copies": copies(1, [0]), "late": 0, "records": []},
    # Frame 2 closes empty, and is sent; a report of frame 1 now is late.
    {"now": 3 * P + LAG, "reports": [[P + 5, 1, 1, 0]], "copies": copies(2, []), "late": 1,
     "records": []},
]


@pytest.mark.parametrize("backend", backend_params())
def test_uplink_framer_closes_at_exact_time_and_repeats_max_times(backend):
    bodies.run_edge_body(backend, "uf", bodies.uplink_framer_edges,
                         {"frame_pulses": P, "max_repeats": REPEATS, "ack": 7, "seed": 5,
                          "idle": 0.2, "stall": 0.3, "phases": PHASES})
