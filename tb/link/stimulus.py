"""Seeded stimulus of the link PHY tests: random messages, framed line bits, directed streams."""

from __future__ import annotations

import numpy as np

from models.link import framing, line_code
from models.link.line_code import HEADER_BITS


def random_messages(seed: int, count: int, longest: int = 12) -> list[list[int]]:
    """``count`` messages of 1..``longest`` random 32-bit words."""
    rng = np.random.default_rng(seed)
    return [[int(w) for w in rng.integers(0, 1 << 32, rng.integers(1, longest + 1))]
            for _ in range(count)]


def line_bits(msgs: list[list[int]], *, lead: int, sync_every: int = 0, gap: int = 1,
              skew: int = 0, seed: int = 0, tail: int = 0) -> np.ndarray:
    """The model transmitter's bits for ``msgs`` (``lead`` IDLE blocks first, ``gap`` after each
    message, ``tail`` at the end), behind ``skew`` random bits so that the blocks start ``skew``
    bits into the first received word."""
    headers, bodies = framing.frame(msgs, sync_every=sync_every, gap=gap, lead=lead, tail=tail)
    bits = line_code.words_to_bits(line_code.encode(headers, bodies)[0])
    noise = np.random.default_rng(seed).integers(0, 2, skew).astype(np.uint8)
    return np.concatenate([noise, bits])


def break_headers(bits: np.ndarray, blocks: list[int], skew: int) -> np.ndarray:
    """``bits`` with the sync headers of block numbers ``blocks`` set to ``11`` (invalid)."""
    out = bits.copy()
    for b in blocks:
        start = skew + b * line_code.BLOCK_BITS
        out[start:start + HEADER_BITS] = 1
    return out


def is_subsequence(delivered: list[tuple[list[int], bool]], sent: list[list[int]]) -> bool:
    """Every message delivered whole is one of ``sent``, in sending order (aborted ones are
    left out): nothing invented, reordered or altered."""
    it = iter(sent)
    return all(any(words == s for s in it) for words, aborted in delivered if not aborted)

