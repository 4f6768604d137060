"""Directed stimulus of the ground edge tests (``tests/ground/test_*_edges.py``): inputs put
exactly on an edge of a block's comparisons, one below and one above, built from JSON values so
that a :mod:`tb.dual` body builds the same stimulus on every back end."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from models.framing import MARKER_BITS, header_words
from models.ground.sync import HEADER_BITS


def sync_edge_bits(frames: Sequence[Sequence[int]], frame_bits: int, lead_bits: int,
                   seed: int) -> np.ndarray:
    """Downlink bits of consecutive frames ``[counter, marker_errors, crc_ok]`` (header of
    :mod:`models.framing`, seeded random payload) after ``lead_bits`` random bits: exactly
    ``marker_errors`` marker bits flipped, the CRC's last bit flipped unless ``crc_ok``. Frame
    ``i`` starts at bit ``lead_bits + i * frame_bits``."""
    rng = np.random.default_rng(seed)
    out = [rng.integers(0, 2, lead_bits, dtype=np.uint8)]
    for counter, errors, crc_ok in frames:
        head = np.unpackbits(np.array(header_words(counter), dtype=">u4").view(np.uint8))
        head[rng.choice(MARKER_BITS, errors, replace=False)] ^= 1
        head[HEADER_BITS - 1] ^= int(not crc_ok)
        out += [head, rng.integers(0, 2, frame_bits - HEADER_BITS, dtype=np.uint8)]
    return np.concatenate(out)
