"""UplinkReceiver at its sequence, length and expiry edges (SPEC 5, ``docs/sifting.md``): a
repeat of the last accepted frame (duplicate), a gap of exactly one frame, a late copy of a
frame declared missing (below the accepted end: duplicate; above it: stale), a frame of exactly
one buffer bank of reports and one more, a header count one off the body, an empty frame, and
the expiry deadline ``(k+1) P + cache life`` reached exactly, missed by one pulse and passed by
one. The frame beats are stated in ``tb.sifting.edge_cases``; the satellite endpoint of the
golden model and the RTL must both give them (``tb.sifting.bodies.uplink_receiver_edges``).

Sequence numbers are 32-bit and the receiver compares them without wrap-around (the limit in
``docs/sifting.md``): frame 2**32 would come after 2**32 P pulses (160 days at P = 2**21, a pass
lasts 300 s), so the wrap is unreachable and not simulated.

The golden endpoint has no buffer bank: a copy longer than the bank (an RTL limit, counted
``corrupted``) is not fed to it."""

import numpy as np

from models.rnd_cache import CacheStatus, cache_lookup
from models.sifting.classical_link import missing_deadline
from tb.sifting import bodies, edge_cases

P, CACHE = bodies.EDGE_FRAME_PULSES, bodies.EDGE_UR_CACHE  # 64, 128


def test_deadline_is_the_first_head_that_expires_the_frames_last_pulse():
    """SPEC 3.3 / ``missing_deadline``: one pulse before the deadline the frame's last pulse is
    still in the cache (a copy could be sifted), at the deadline it has expired."""
    deadline = missing_deadline(0, P, CACHE)
    assert deadline == P + CACHE
    last_pulse = np.uint64(P - 1)
    assert cache_lookup(last_pulse, np.uint64(deadline - 1), CACHE) == CacheStatus.OK
    assert cache_lookup(last_pulse, np.uint64(deadline), CACHE) == CacheStatus.EXPIRED


def test_uplink_receiver_sequence_length_and_deadline_edges():
    """Cases: ``tb.sifting.edge_cases.uplink_receiver``; Verilog: ``test_harness_edges.py``."""
    edge_cases.run_pysim("ur")
