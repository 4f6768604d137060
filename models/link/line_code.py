"""Line code of the classical laser link: 34b/32b blocks, sync header, self-synchronous scrambler.

Every block carries one 32-bit link word and is 34 bits on the line (``docs/link.md`` says why
this code and not 8b/10b). Bit ``i`` of a line word is the ``i``-th bit sent:

======== =======================================================================================
bits     content
======== =======================================================================================
0, 1     sync header: :data:`HEADER_DATA` (``0`` then ``1``) or :data:`HEADER_CONTROL` (``1``
         then ``0``); ``00`` and ``11`` are invalid. Never scrambled, so every block has one
         transition at a known place: the receiver aligns on it and the longest run is 34 bits
2..33    body, scrambled: body bit ``j`` is sent at bit ``2 + j`` (LSB first)
======== =======================================================================================

A data block's body is the link word. A control block's body is ``type | argument << 8``:
:class:`Control` (types at Hamming distance >= 4 from each other), argument 0 except for SYNC,
whose argument is the sync frame counter ``k mod 2**24`` (one pass of 300 s is 2.9 M frames).

The scrambler is the self-synchronous ``x^58 + x^39 + 1`` of 64b/66b (IEEE 802.3 clause 49) over
the concatenated bodies in sending order: ``s[n] = d[n] ^ s[n-39] ^ s[n-58]``; the descrambler
``d[n] = s[n] ^ s[n-39] ^ s[n-58]`` needs no state exchange and recovers after 58 good bits, a
bit error on the line becomes three errors (at ``n``, ``n+39``, ``n+58``). Since ``39 > 32``, all
the taps of one block's body fall in the 58 bits before it: the RTL scrambles one block per cycle
with XORs only. The history is an integer whose bit ``i`` is the scrambled bit sent ``58 - i``
bits before the block.
"""

from __future__ import annotations

import enum

import numpy as np

HEADER_BITS = 2
BODY_BITS = 32
BLOCK_BITS = HEADER_BITS + BODY_BITS
HEADER_DATA = 0b10
HEADER_CONTROL = 0b01
SCRAMBLER_TAPS = (39, 58)
HISTORY_BITS = SCRAMBLER_TAPS[1]
TYPE_BITS = 8
ARG_BITS = BODY_BITS - TYPE_BITS
BODY_MASK = (1 << BODY_BITS) - 1
BLOCK_MASK = (1 << BLOCK_BITS) - 1
HISTORY_MASK = (1 << HISTORY_BITS) - 1
_NEAR = HISTORY_BITS - SCRAMBLER_TAPS[0]  # history bit of tap 39 for body bit 0
SCRAMBLER_INIT = 0x2F0_A55E_91C3_6B7D
"""The transmitter's history after reset: from all zeros, IDLE blocks scramble into a stream
whose first hundred blocks repeat patterns (false locks at a wrong offset); any irregular seed
mixes from the first block. The receiver needs no seed (self-synchronous)."""


class Control(enum.IntEnum):
    """Control block types (the 64b/66b block type values; pairwise Hamming distance >= 4)."""

    IDLE = 0x1E
    START = 0x78
    END = 0x87
    SYNC = 0x4B


def control_body(kind: Control, arg: int = 0) -> int:
    """Body of a control block; ``arg`` only for SYNC (24 bits)."""
    if not 0 <= arg < 1 << ARG_BITS or (arg and kind != Control.SYNC):
        raise ValueError(f"control {kind.name}: argument {arg} not allowed")
    return int(kind) | arg << TYPE_BITS


def scramble(body: int, history: int) -> tuple[int, int]:
    """Scramble one block body: ``(scrambled body, history after it)``."""
    s = (body ^ (history >> _NEAR) ^ history) & BODY_MASK
    return s, (history >> BODY_BITS) | s << (HISTORY_BITS - BODY_BITS)


def descramble(scrambled: int, history: int) -> tuple[int, int]:
    """Descramble one block body: ``(body, history after it)``."""
    d = (scrambled ^ (history >> _NEAR) ^ history) & BODY_MASK
    return d, (history >> BODY_BITS) | scrambled << (HISTORY_BITS - BODY_BITS)


def encode(headers: np.ndarray, bodies: np.ndarray,
           history: int = SCRAMBLER_INIT) -> tuple[np.ndarray, int]:
    """Line words (``uint64``, 34 bits) of blocks ``(header, body)``: ``(words, history)``."""
    words = np.empty(len(headers), dtype=np.uint64)
    for n, (h, b) in enumerate(zip(headers.tolist(), bodies.tolist(), strict=True)):
        s, history = scramble(b, history)
        words[n] = h | s << HEADER_BITS
    return words, history


def decode(words: np.ndarray, history: int = SCRAMBLER_INIT) -> tuple[np.ndarray, np.ndarray, int]:
    """Aligned line words to ``(headers, bodies, history)`` (the inverse of :func:`encode`)."""
    words = np.asarray(words, dtype=np.uint64)
    headers = (words & np.uint64(3)).astype(np.uint8)
    bodies = np.empty(len(words), dtype=np.uint64)
    for n, w in enumerate((words >> np.uint64(HEADER_BITS)).tolist()):
        bodies[n], history = descramble(w, history)
    return headers, bodies, history


def words_to_bits(words: np.ndarray, width: int = BLOCK_BITS) -> np.ndarray:
    """Bits of ``width``-bit words in sending order (bit 0 of word 0 first), ``uint8``."""
    words = np.asarray(words, dtype=np.uint64)
    shifts = np.arange(width, dtype=np.uint64)
    return ((words[:, None] >> shifts[None, :]) & np.uint64(1)).astype(np.uint8).ravel()


def bits_to_words(bits: np.ndarray, width: int = BLOCK_BITS) -> np.ndarray:
    """``width``-bit words of a bit stream (first bit in bit 0); a partial last word is dropped,
    as a deserialiser gives only whole words."""
    bits = np.asarray(bits, dtype=np.uint64)
    n = len(bits) // width
    weights = np.uint64(1) << np.arange(width, dtype=np.uint64)
    return (bits[:n * width].reshape(n, width) * weights).sum(axis=1, dtype=np.uint64)
