"""Downlink framing golden model (SPEC 2 "sync frames", SPEC 3.4).

The 156.25 Mbit/s downlink carries one bit per four pulses (625 MHz / 156.25 Mbit/s), so one sync
frame of ``2**16`` pulses is exactly ``2**14`` link bits = 512 words of 32 bits, sent MSB first.
Frame ``k`` starts with the link bit sent together with pulse ``k * 2**16``; its first bit is the
ground's time reference ``t_k``.

======= ================================================================================
word    content
======= ================================================================================
0, 1    sync marker, 64 bits: the CCSDS 64-bit attached sync marker 0x034776C7272895B0
        (maximum aperiodic autocorrelation sidelobe 6 of 64)
2       frame counter ``k`` bits 47..16
3       ``k`` bits 15..0, then CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) of the 6 bytes of
        ``k`` (big endian) in bits 15..0
4..511  payload slots: the next word of the payload stream, or the idle word 0x00000000 when the
        payload stream has nothing (link-layer messages never start with a zero word, and a
        source presents whole messages, so idle words only fall between messages)
======= ================================================================================

So 508 of 512 words (99.2 %, 155.0 Mbit/s) carry payload.
"""

from __future__ import annotations

import binascii
import enum

import numpy as np

from models.constants import FRAME_PULSES, LANES

PULSES_PER_LINK_BIT = LANES  # one link bit per fabric cycle
WORD_BITS = 32
FRAME_WORDS = FRAME_PULSES // PULSES_PER_LINK_BIT // WORD_BITS
SYNC_MARKER = 0x034776C7272895B0
MARKER_BITS = 64
COUNTER_BITS = 48
HEADER_WORDS = 4
PAYLOAD_WORDS = FRAME_WORDS - HEADER_WORDS
IDLE_WORD = 0x00000000


class WordKind(enum.IntEnum):
    """What a downlink word carries (a monitor's view; the link itself sends only the bits)."""

    MARKER = 0
    COUNTER = 1
    DATA = 2
    IDLE = 3


def crc16_ccitt(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final XOR."""
    return binascii.crc_hqx(data, 0xFFFF)


def header_words(frame: int) -> list[int]:
    """The four header words of frame ``frame``."""
    if not 0 <= frame < 1 << COUNTER_BITS:
        raise ValueError(f"frame counter {frame} does not fit in {COUNTER_BITS} bits")
    crc = crc16_ccitt(frame.to_bytes(COUNTER_BITS // 8, "big"))
    return [
        SYNC_MARKER >> 32,
        SYNC_MARKER & 0xFFFF_FFFF,
        frame >> 16,
        ((frame & 0xFFFF) << 16) | crc,
    ]


def header_kinds() -> list[WordKind]:
    return [WordKind.MARKER, WordKind.MARKER, WordKind.COUNTER, WordKind.COUNTER]


def downlink_mismatches(
    words: np.ndarray, kinds: np.ndarray, payload: np.ndarray, first_word: int = 0
) -> tuple[np.ndarray, int]:
    """Per-word scoreboard for a run of downlink words starting at word index ``first_word``.

    Every header word must match :func:`header_words`, every DATA slot must carry the next word
    of ``payload`` in order and every IDLE slot :data:`IDLE_WORD`.
    Returns ``(bad, payload_words_consumed)``: ``bad[i]`` is true where word ``i`` (or its kind)
    differs. If the run holds more DATA slots than ``payload`` has words, every word is bad.
    """
    words = np.asarray(words, dtype=np.uint64)
    kinds = np.asarray(kinds, dtype=np.uint8)
    position = (np.arange(words.size) + first_word) % FRAME_WORDS
    frame = (np.arange(words.size) + first_word) // FRAME_WORDS
    expected = np.empty(words.size, dtype=np.uint64)
    expected_kind = np.empty(words.size, dtype=np.uint8)
    in_header = position < HEADER_WORDS
    for f in np.unique(frame[in_header]):
        sel = in_header & (frame == f)
        expected[sel] = np.asarray(header_words(int(f)), dtype=np.uint64)[position[sel]]
        expected_kind[sel] = np.asarray(header_kinds(), dtype=np.uint8)[position[sel]]
    data = ~in_header & (kinds == WordKind.DATA)
    consumed = int(data.sum())
    if consumed > len(payload):
        return np.ones(words.size, dtype=bool), consumed
    expected[data] = np.asarray(payload[:consumed], dtype=np.uint64)
    expected_kind[data] = WordKind.DATA
    idle = ~in_header & ~data
    expected[idle] = IDLE_WORD
    expected_kind[idle] = WordKind.IDLE
    return (expected != words) | (expected_kind != kinds), consumed


def check_downlink(
    words: np.ndarray, kinds: np.ndarray, payload: np.ndarray, first_word: int = 0
) -> tuple[int, int]:
    """Scoreboard for a run of downlink words: ``(mismatches, payload_words_consumed)``.

    Counts the words :func:`downlink_mismatches` marks as bad.
    """
    bad, consumed = downlink_mismatches(words, kinds, payload, first_word)
    return int(np.count_nonzero(bad)), consumed
