"""UplinkReceiver at its sequence, length and expiry edges (SPEC 5, ``docs/sifting.md``):
a repeat of the last accepted frame (duplicate), a gap of exactly one frame, a late copy of a
frame declared missing (below the accepted end: duplicate; above it: stale), a frame of exactly
one buffer bank of reports and one more, a header count one off the body, an empty frame, and
the expiry deadline ``(k+1) P + cache life`` reached exactly, missed by one pulse and passed by
one. The frame beats are stated here; the satellite endpoint of the golden model and the RTL
must both give them (``tb.sifting.bodies.uplink_receiver_edges``).

Sequence numbers are 32-bit and the receiver compares them without wrap-around (the limit in
``docs/sifting.md``): frame 2**32 would come after 2**32 P pulses (160 days at P = 2**21, a pass
lasts 300 s), so the wrap is unreachable and not simulated.

The golden endpoint has no buffer bank: a copy longer than the bank (an RTL limit, counted
``corrupted``) is not fed to it."""

import numpy as np
import pytest

from models.rnd_cache import CacheStatus, cache_lookup
from models.sifting.classical_link import missing_deadline
from models.sifting.messages import crc32_words, encode_uplink
from tb.dual import backend_params
from tb.sifting import bodies

P = bodies.EDGE_FRAME_PULSES  # 64
DEPTH, CACHE = bodies.EDGE_UR_DEPTH, bodies.EDGE_UR_CACHE  # 16, 128
OFFSET_BITS = (P - 1).bit_length()


def frame(seq: int, count: int, ack: int = 0) -> list[int]:
    """Uplink frame ``seq`` with ``count`` reports at offsets 0, 3, 6, ... (mod P)."""
    offset = np.sort((np.arange(count, dtype=np.uint64) * 3) % P)
    ones = np.ones(len(offset), dtype=np.uint8)
    return encode_uplink(seq, ack, offset, ones, ones * 0, ones * 0, OFFSET_BITS).tolist()


def recount(words: list[int], count: int) -> list[int]:
    """The copy with header count ``count`` and a valid CRC (the body unchanged)."""
    out = np.array(words, dtype=np.uint32)
    out[0] = (out[0] & np.uint32(0xFF00_0000)) | np.uint32(count)
    out[-1] = crc32_words(out[:-1])
    return out.tolist()


COUNTERS = ("corrupted", "duplicates", "missing", "timeouts", "stale")


def counters(**values: int) -> dict:
    return {name: values.get(name, 0) for name in COUNTERS}


SEQUENCE_RUN = {
    "head": 0,
    "copies": [frame(0, 2), frame(0, 2), frame(2, 3), frame(1, 1), frame(3, DEPTH),
               frame(4, DEPTH + 1), recount(frame(4, 2), 3), recount(frame(4, 3), 2),
               frame(4, 0), frame(6, 1)],
    "model": [True, True, True, True, True, False, True, True, True, True],
    "beats": [(0, 2, 0), (1, 0, 1), (2, 3, 0), (3, DEPTH, 0), (4, 0, 0), (5, 0, 1), (6, 1, 0)],
    "reports": 2 + 3 + DEPTH + 1,
    "counters": counters(corrupted=3, duplicates=2, missing=2),
}
# Head exactly at frame 0's deadline: declared missing on the satellite's clock; its late copy
# is then stale (above the accepted end), frame 1 is accepted, its repeat a duplicate.
AT_DEADLINE = {
    "head": P + CACHE,
    "copies": [frame(0, 2), frame(1, 2), frame(1, 2)],
    "model": [True, True, True],
    "beats": [(0, 0, 1), (1, 2, 0)],
    "reports": 2,
    "counters": counters(duplicates=1, missing=1, timeouts=1, stale=1),
}
ONE_BEFORE_DEADLINE = {
    "head": P + CACHE - 1,
    "copies": [frame(0, 2)],
    "model": [True],
    "beats": [(0, 2, 0)],
    "reports": 2,
    "counters": counters(),
}
ONE_PAST_DEADLINE = {
    "head": P + CACHE + 1,
    "copies": [frame(1, 1)],
    "model": [True],
    "beats": [(0, 0, 1), (1, 1, 0)],
    "reports": 1,
    "counters": counters(missing=1, timeouts=1),
}


def test_deadline_is_the_first_head_that_expires_the_frames_last_pulse():
    """SPEC 3.3 / ``missing_deadline``: one pulse before the deadline the frame's last pulse is
    still in the cache (a copy could be sifted), at the deadline it has expired."""
    deadline = missing_deadline(0, P, CACHE)
    assert deadline == P + CACHE
    last_pulse = np.uint64(P - 1)
    assert cache_lookup(last_pulse, np.uint64(deadline - 1), CACHE) == CacheStatus.OK
    assert cache_lookup(last_pulse, np.uint64(deadline), CACHE) == CacheStatus.EXPIRED


@pytest.mark.parametrize("backend", backend_params())
def test_uplink_receiver_sequence_length_and_deadline_edges(backend):
    bodies.run_edge_body(
        backend, "ur", bodies.uplink_receiver_edges,
        {"frame_pulses": P, "cache_pulses": CACHE, "seed": 2, "idle": 0.2, "stall": 0.3,
         "runs": [SEQUENCE_RUN, AT_DEADLINE, ONE_BEFORE_DEADLINE, ONE_PAST_DEADLINE]})
