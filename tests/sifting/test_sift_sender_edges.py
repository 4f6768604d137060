"""SiftSender at its acknowledgement and table edges (SPEC 5, ``docs/sifting.md``): with
``ack`` = 0 every built message is resent; the descriptor table holds ``window - 1`` messages
(a further frame beat waits); ``ack`` = built - 1 leaves only the newest message; ``ack`` =
built stops the resending; an ``ack`` beyond ``built`` counts as ``built`` (a message built then
is acknowledged at once). Every copy is checked against the golden encoder
(``tb.sifting.bodies.sift_sender_edges``).

The 32-bit sequence number would wrap after 2**32 frame periods (160 days): unreachable in a
pass, not simulated."""

from tb.sifting import edge_cases


def test_sift_sender_resends_exactly_the_unacknowledged_messages():
    """Cases: ``tb.sifting.edge_cases.sift_sender``; Verilog: ``test_harness_edges.py``."""
    edge_cases.run_pysim("ss")
