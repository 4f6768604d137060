"""SiftReceiver at its window, sequence and length edges (SPEC 5, ``docs/sifting.md``): with
``ack`` = a, a copy of a - 1 is a duplicate, a + window - 1 is kept (in the slot of message
a - 1: the slot index wraps), a + window is outside; a repeat of a buffered message is a
duplicate; a message of exactly ``8 slot_words`` entries fits its slot, one entry more is
dropped (corrupted); a header count one word off the body is corrupted; a "missing" message
turns its frame's records into missing entries. The entries are stated here; the golden ground
endpoint must reach the same ``ack`` and the RTL must give the stated pairs
(``tb.sifting.bodies.sift_receiver_edges``).

Sequence numbers are 32-bit without wrap-around (``docs/sifting.md`` "Limits"): unreachable in
a pass (2**32 frame periods), not simulated. The golden endpoint has no slot size: the copy one
entry longer than a slot (an RTL limit) is not fed to it."""

import numpy as np
import pytest

from models.sifting.entries import SiftCode
from models.sifting.messages import crc32_words, encode_sift
from tb.dual import backend_params
from tb.sifting import bodies
from tb.sifting.stimulus import report_values

P, WINDOW = bodies.EDGE_FRAME_PULSES, bodies.EDGE_SR_WINDOW  # 64, 4
SLOT_WORDS = bodies.EDGE_SR_SLOT_WORDS  # 4
FULL = 8 * SLOT_WORDS  # entries of a full slot


def message(seq: int, count: int | None) -> list[int]:
    """Sift message ``seq`` with entries 0, 1, ..., 7, 0, ... (``None``: frame missing)."""
    code = None if count is None else (np.arange(count) % 8).astype(np.uint8)
    return encode_sift(seq, code).tolist()


def recount(words: list[int], count: int) -> list[int]:
    out = np.array(words, dtype=np.uint32)
    out[0] = (out[0] & np.uint32(0xFF00_0000)) | np.uint32(count)
    out[-1] = crc32_words(out[:-1])
    return out.tolist()


def records(seq: int, count: int) -> list[int]:
    pulse = seq * P + 2 * np.arange(count, dtype=np.uint64)
    ones = np.ones(count, dtype=np.uint8)
    return report_values(pulse, ones, ones * 0, ones)


COPIES = [
    (message(0, 0), True),          # ack 0 -> 1
    (message(0, 0), True),          # a - 1: duplicate
    (message(5, 0), True),          # a + window: outside
    (message(4, 0), True),          # a + window - 1: kept, slot 0 again
    (message(4, 0), True),          # already buffered: duplicate
    (message(1, 0), True), (message(2, 0), True), (message(3, 0), True),  # ack -> 5
    (message(5, FULL), True),       # exactly a full slot: sifted, ack 6
    (message(6, FULL + 1), False),  # one entry more: corrupted
    (recount(message(6, 8), 9), True),  # count needs 2 words, the body has 1: corrupted
    (message(6, None), True),       # frame 6 missing: its 2 records become missing entries
    (message(7, 0), True),          # ack 8
]


@pytest.mark.parametrize("backend", backend_params())
def test_sift_receiver_window_edges_and_full_slot(backend):
    bodies.run_edge_body(
        backend, "sr", bodies.sift_receiver_edges,
        {"frame_pulses": P, "window": WINDOW, "frames": 8, "closed": 100, "seed": 3,
         "idle": 0.2, "stall": 0.3,
         "copies": [c for c, _ in COPIES], "model": [m for _, m in COPIES],
         "records": records(5, FULL) + records(6, 2),
         "entries": [i % 8 for i in range(FULL)] + [int(SiftCode.MISSING)] * 2,
         "ack": 8,
         "counters": {"corrupted": 2, "duplicates": 2, "outside": 1, "mismatch": 0}})
