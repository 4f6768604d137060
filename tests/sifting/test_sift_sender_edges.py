"""SiftSender at its acknowledgement and table edges (SPEC 5, ``docs/sifting.md``): with
``ack`` = 0 every built message is resent; the descriptor table holds ``window - 1`` messages
(a further frame beat waits); ``ack`` = built - 1 leaves only the newest message; ``ack`` =
built stops the resending; an ``ack`` beyond ``built`` counts as ``built`` (a message built then
is acknowledged at once). Every copy is checked against the golden encoder
(``tb.sifting.bodies.sift_sender_edges``).

The 32-bit sequence number would wrap after 2**32 frame periods (160 days): unreachable in a
pass, not simulated."""

import pytest

from tb.dual import backend_params
from tb.sifting import bodies

WINDOW = bodies.EDGE_SS_WINDOW  # 4: at most 3 messages kept

PHASES = [
    {"ack": 0, "messages": [[0, [1, 2, 3]], [1, None], [2, list(range(9))]], "words": 80,
     "built": 3, "seqs": [0, 1, 2]},
    # The table is full (window - 1 messages unacknowledged): frame 3 is not taken.
    {"ack": 0, "messages": [[3, []]], "blocked": True, "words": 40, "built": 3,
     "seqs": [0, 1, 2]},
    # ack = 3 = built - 1 once message 3 is built: only the newest message is resent.
    {"ack": 3, "messages": [[3, []]], "words": 30, "built": 4, "seqs": [3]},
    # ack = built: silence after the copy under way.
    {"ack": 4, "messages": [], "words": 0, "built": 4, "seqs": []},
    # ack beyond built: message 4 is acknowledged as soon as it is built.
    {"ack": 9, "messages": [[4, [5]]], "words": 0, "built": 5, "seqs": []},
]


@pytest.mark.parametrize("backend", backend_params())
def test_sift_sender_resends_exactly_the_unacknowledged_messages(backend):
    bodies.run_edge_body(backend, "ss", bodies.sift_sender_edges,
                         {"seed": 4, "idle": 0.2, "stall": 0.3, "phases": PHASES})
