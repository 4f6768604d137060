"""Link-layer messages of the sifting protocol: uplink report frames and downlink sift messages.

Every message is a sequence of 32-bit words, sent MSB first, and ends with a CRC-32 word: the
CRC-32/BZIP2 (poly 0x04C11DB7, init and final XOR 0xFFFFFFFF, MSB first, no reflection) of the
preceding words as big-endian bytes. MSB-first so that the RTL updates it one word per cycle with
:func:`rtl.common.crc.crc_msb_first` (``state' = crc(word ^ state)``); computed here through
``zlib.crc32`` on bit-reversed bytes (the reflected twin). The first word is never zero (the
downlink framer uses the zero word as idle, :mod:`models.framing`).

Uplink report frame ``j`` (ground to satellite) carries the reports of the detections whose pulse
index lies in ``[j * P, (j + 1) * P)``, ``P = frame_pulses`` (a power of two, at most 2**29), in
ascending pulse order; the frame exists (possibly empty) for every ``j``::

    word 0      0x55 << 24 | count            (count < 2**24)
    word 1      seq = j
    word 2      ack: the next sift-message sequence number the ground is waiting for
    word 3+i    report i: (n - j*P) << 3 | basis << 2 | sampled << 1 | bit
    last        CRC-32

Downlink sift message ``j`` (satellite to ground) answers uplink frame ``j``::

    word 0      0x5C << 24 | count   (frame processed: count sift entries follow)
             or 0x5D << 24           (frame j never arrived: all its detections are dropped)
    word 1      seq = j
    word 2..    sift entries, 8 per word, entry 0 in bits 31..28 (see models.sifting.entries)
    last        CRC-32

A corrupted copy is recognised by its CRC (or by a header inconsistent with its length) and is
treated as lost: :func:`decode_uplink` / :func:`decode_sift` return ``None``.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

UPLINK_TAG = 0x55
SIFT_TAG = 0x5C
MISSING_TAG = 0x5D
COUNT_BITS = 24
MAX_COUNT = (1 << COUNT_BITS) - 1
MAX_OFFSET_BITS = 29
UPLINK_HEADER_WORDS = 3
SIFT_HEADER_WORDS = 2
ENTRIES_PER_WORD = 8
ENTRY_BITS = 4
# Entry i of a word sits at bits 31-4i..28-4i.
_SHIFTS = np.arange(ENTRIES_PER_WORD - 1, -1, -1, dtype=np.uint32) * ENTRY_BITS


class MessageError(ValueError):
    """A message cannot be encoded (field out of range)."""


CRC_POLY = 0x04C11DB7
CRC_INIT = 0xFFFF_FFFF
CRC_XOROUT = 0xFFFF_FFFF
_BYTE_REVERSED = np.array([int(f"{i:08b}"[::-1], 2) for i in range(256)], dtype=np.uint8)


def crc32_words(words: np.ndarray) -> int:
    """CRC-32/BZIP2 of ``words`` (uint32, big-endian bytes)."""
    data = np.frombuffer(np.asarray(words, dtype=">u4").tobytes(), dtype=np.uint8)
    reflected = zlib.crc32(_BYTE_REVERSED[data].tobytes())
    return int(f"{reflected:032b}"[::-1], 2)


def _seal(words: np.ndarray) -> np.ndarray:
    words[-1] = crc32_words(words[:-1])
    return words


def _crc_ok(words: np.ndarray) -> bool:
    return len(words) >= 2 and int(words[-1]) == crc32_words(words[:-1])


@dataclass(frozen=True)
class UplinkFrame:
    seq: int
    ack: int
    offset: np.ndarray  # uint64, pulse index minus seq * frame_pulses
    basis: np.ndarray
    sampled: np.ndarray
    bit: np.ndarray


def encode_uplink(seq: int, ack: int, offset: np.ndarray, basis: np.ndarray,
                  sampled: np.ndarray, bit: np.ndarray, offset_bits: int) -> np.ndarray:
    """Words of uplink frame ``seq`` (uint32 array)."""
    count = len(offset)
    offset = np.asarray(offset, dtype=np.uint64)
    if count > MAX_COUNT:
        raise MessageError(f"uplink frame {seq}: {count} reports exceed {MAX_COUNT}")
    if not 0 < offset_bits <= MAX_OFFSET_BITS:
        raise MessageError(f"frame offset width {offset_bits} is outside 1..{MAX_OFFSET_BITS}")
    if count and int(offset.max()) >> offset_bits:
        raise MessageError(f"uplink frame {seq}: report offset beyond 2**{offset_bits}")
    words = np.empty(UPLINK_HEADER_WORDS + count + 1, dtype=np.uint32)
    words[:UPLINK_HEADER_WORDS] = (UPLINK_TAG << COUNT_BITS | count, seq & 0xFFFF_FFFF,
                                   ack & 0xFFFF_FFFF)
    words[UPLINK_HEADER_WORDS:-1] = (offset << np.uint64(3)
                                     | np.asarray(basis, dtype=np.uint64) << np.uint64(2)
                                     | np.asarray(sampled, dtype=np.uint64) << np.uint64(1)
                                     | np.asarray(bit, dtype=np.uint64)).astype(np.uint32)
    return _seal(words)


def decode_uplink(words: np.ndarray) -> UplinkFrame | None:
    """The frame carried by ``words``, or None if the copy is corrupted."""
    words = np.asarray(words, dtype=np.uint32)
    if not _crc_ok(words) or int(words[0]) >> COUNT_BITS != UPLINK_TAG:
        return None
    count = int(words[0]) & MAX_COUNT
    if len(words) != UPLINK_HEADER_WORDS + count + 1:
        return None
    body = words[UPLINK_HEADER_WORDS:-1].astype(np.uint64)
    return UplinkFrame(int(words[1]), int(words[2]), body >> np.uint64(3),
                       ((body >> np.uint64(2)) & np.uint64(1)).astype(np.uint8),
                       ((body >> np.uint64(1)) & np.uint64(1)).astype(np.uint8),
                       (body & np.uint64(1)).astype(np.uint8))


@dataclass(frozen=True)
class SiftMessage:
    seq: int
    code: np.ndarray | None  # uint8 sift entries, None: the uplink frame never arrived


def encode_sift(seq: int, code: np.ndarray | None) -> np.ndarray:
    """Words of sift message ``seq``; ``code=None`` encodes "frame missing"."""
    if code is None:
        words = np.zeros(SIFT_HEADER_WORDS + 1, dtype=np.uint32)
        words[:2] = (MISSING_TAG << COUNT_BITS, seq & 0xFFFF_FFFF)
        return _seal(words)
    code = np.asarray(code, dtype=np.uint32)
    count = len(code)
    if count > MAX_COUNT:
        raise MessageError(f"sift message {seq}: {count} entries exceed {MAX_COUNT}")
    n_words = -(-count // ENTRIES_PER_WORD)
    padded = np.zeros(n_words * ENTRIES_PER_WORD, dtype=np.uint32)
    padded[:count] = code & 0xF
    packed = np.bitwise_or.reduce(padded.reshape(-1, ENTRIES_PER_WORD) << _SHIFTS, axis=1)
    words = np.empty(SIFT_HEADER_WORDS + n_words + 1, dtype=np.uint32)
    words[:SIFT_HEADER_WORDS] = (SIFT_TAG << COUNT_BITS | count, seq & 0xFFFF_FFFF)
    words[SIFT_HEADER_WORDS:-1] = packed
    return _seal(words)


def decode_sift(words: np.ndarray) -> SiftMessage | None:
    """The sift message carried by ``words``, or None if the copy is corrupted."""
    words = np.asarray(words, dtype=np.uint32)
    if not _crc_ok(words):
        return None
    tag, count = int(words[0]) >> COUNT_BITS, int(words[0]) & MAX_COUNT
    if tag == MISSING_TAG and count == 0 and len(words) == SIFT_HEADER_WORDS + 1:
        return SiftMessage(int(words[1]), None)
    n_words = -(-count // ENTRIES_PER_WORD)
    if tag != SIFT_TAG or len(words) != SIFT_HEADER_WORDS + n_words + 1:
        return None
    body = words[SIFT_HEADER_WORDS:-1]
    code = ((body[:, None] >> _SHIFTS) & 0xF).astype(np.uint8).reshape(-1)[:count]
    return SiftMessage(int(words[1]), code)
