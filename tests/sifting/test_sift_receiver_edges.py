"""SiftReceiver at its window, sequence and length edges (SPEC 5, ``docs/sifting.md``): with
``ack`` = a, a copy of a - 1 is a duplicate, a + window - 1 is kept (in the slot of message a -
1: the slot index wraps), a + window is outside; a repeat of a buffered message is a duplicate;
a message of exactly ``8 slot_words`` entries fits its slot, one entry more is dropped
(corrupted); a header count one word off the body is corrupted; a "missing" message turns its
frame's records into missing entries. The entries are stated in ``tb.sifting.edge_cases``; the
golden ground endpoint must reach the same ``ack`` and the RTL must give the stated pairs
(``tb.sifting.bodies.sift_receiver_edges``).

Sequence numbers are 32-bit without wrap-around (``docs/sifting.md`` "Limits"): unreachable in a
pass (2**32 frame periods), not simulated. The golden endpoint has no slot size: the copy one
entry longer than a slot (an RTL limit) is not fed to it."""

from tb.sifting import edge_cases


def test_sift_receiver_window_edges_and_full_slot():
    """Cases: ``tb.sifting.edge_cases.sift_receiver``; Verilog: ``test_harness_edges.py``."""
    edge_cases.run_pysim("sr")
