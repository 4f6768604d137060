"""SyncFramer at its frame boundaries (SPEC 2 "sync frames", SPEC 3.4): sync word k at link
word 512 k (pulse k * 2**16), the counter words of k = 0, 1, 2, the last payload slot of a frame
and the first of the next; the stated words must come from the RTL and match the golden model
(``tb.satellite.bodies.framer_edges``).

The 48-bit frame counter wraps after 2**48 frames = 2**64 pulses, i.e. together with the 64-bit
pulse index itself (2**57 fabric cycles): unreachable in simulation, so the model's limit is
checked directly (``header_words`` refuses k = 2**48)."""

import pytest

from models.constants import FRAME_PULSES
from models.framing import (
    COUNTER_BITS,
    FRAME_WORDS,
    PULSES_PER_LINK_BIT,
    WORD_BITS,
    WordKind,
    header_words,
)
from rtl.satellite.framer import SyncFramer
from tb.dual import backend_params, run_body
from tb.satellite import bodies

MARKER_HI, MARKER_LO = 0x034776C7, 0x272895B0
M, C, D, IDLE = WordKind.MARKER, WordKind.COUNTER, WordKind.DATA, WordKind.IDLE
# CRC-16/CCITT-FALSE of the 6-byte counter k: 0x0E10 (k = 0), 0x1E31 (1), 0x2E52 (2).
HEADERS = {k: [(MARKER_HI, M), (MARKER_LO, M), (0, C), (k << 16 | crc, C)]
           for k, crc in ((0, 0x0E10), (1, 0x1E31), (2, 0x2E52))}


def at(frame_start: int, header: list) -> dict:
    return {frame_start + i: list(word) for i, word in enumerate(header)}


def test_sync_word_k_marks_pulse_k_times_two_to_the_sixteen():
    assert FRAME_WORDS * WORD_BITS * PULSES_PER_LINK_BIT == FRAME_PULSES == 1 << 16
    for k, header in HEADERS.items():
        assert header_words(k) == [word for word, _ in header]


def test_frame_counter_limit_of_the_model():
    assert header_words((1 << COUNTER_BITS) - 1)[2:] == [0xFFFF_FFFF, 0xFFFF_99CF]
    with pytest.raises(ValueError, match="does not fit in 48 bits"):
        header_words(1 << COUNTER_BITS)
    with pytest.raises(ValueError, match="does not fit in 48 bits"):
        header_words(-1)


@pytest.mark.parametrize("backend", backend_params())
def test_framer_sync_word_k_at_word_512k_and_payload_slots_around_it(backend):
    """Two frames and the next header: without payload (every slot idle), and with 509 payload
    words (508 fill frame 0's slots 4..511, the 509th takes frame 1's first slot, word 516)."""
    idle_run = {"frames": 2, "extra": 4, "payload": 0, "want_frame": 2,
                "want": {**at(0, HEADERS[0]), 4: [0, IDLE], 511: [0, IDLE], **at(512, HEADERS[1]),
                         516: [0, IDLE], 1023: [0, IDLE], **at(1024, HEADERS[2])}}
    full_run = {"frames": 1, "extra": 6, "payload": 509, "want_frame": 1,
                "want": {3: list(HEADERS[0][3]), 4: [1, D], 511: [508, D],
                         **at(512, HEADERS[1]), 516: [509, D], 517: [0, IDLE]}}
    # The ``frame`` register counts the frame of the next word to load, one word ahead of the
    # output register: it turns to k + 1 once word 512 (k + 1) - 1 is loaded, not one earlier.
    before_last = {"frames": 0, "extra": FRAME_WORDS - 2, "payload": 0, "want_frame": 0,
                   "want": {FRAME_WORDS - 3: [0, IDLE]}}
    at_last = {"frames": 0, "extra": FRAME_WORDS - 1, "payload": 0, "want_frame": 1,
               "want": {FRAME_WORDS - 2: [0, IDLE]}}
    run_body(backend, SyncFramer(), bodies.framer_edges, case="framer",
             params={"frame_words": FRAME_WORDS, "seed": 6, "idle": 0.0, "stall": 0.3,
                     "runs": [idle_run, full_run, before_last, at_last]},
             verilog_key="default")
