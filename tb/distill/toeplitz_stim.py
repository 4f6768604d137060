"""Stimulus and expected output of the Toeplitz engine (:mod:`rtl.distill.toeplitz`), from
:mod:`models.postprocess.toeplitz`, as flat stream payloads (:mod:`rtl.common.payload`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from models.postprocess.toeplitz import toeplitz_hash
from rtl.common.payload import pack
from rtl.distill.layouts import bit_word
from rtl.distill.toeplitz_layouts import PaStatus, pa_job

PATTERNS = ("random", "zeros", "ones", "runs")
"""Bit patterns of input and seed: seeded random, all zero, all one, long runs (random run
lengths up to a few thousand bits)."""


@dataclass(frozen=True)
class PaBlock:
    """One block of a test: sizes, pattern, and word-count faults of the two streams
    (``x_words`` / ``seed_words``: words added, or removed if negative, at the end);
    ``refused``: a size outside the engine's range (the streams are sent all the same)."""

    n: int
    m: int
    pattern: str = "random"
    x_words: int = 0
    seed_words: int = 0
    refused: bool = False


def pattern_bits(pattern: str, size: int, rng: np.random.Generator) -> np.ndarray:
    """``size`` bits of ``pattern`` (one of :data:`PATTERNS`)."""
    if pattern == "zeros":
        return np.zeros(size, dtype=np.uint8)
    if pattern == "ones":
        return np.ones(size, dtype=np.uint8)
    if pattern == "runs":
        lengths = rng.integers(1, 4096, size=size // 64 + 2)
        values = np.arange(lengths.size, dtype=np.uint8) & 1
        return np.repeat(values, lengths)[:size]
    if pattern == "random":
        return rng.integers(0, 2, size=size, dtype=np.uint8)
    raise ValueError(f"unknown bit pattern {pattern!r} (choose one of {PATTERNS})")


def bit_words(bits: np.ndarray, width: int, extra: int = 0) -> list[int]:
    """``bits`` as ``bit_word(width)`` payloads, with ``extra`` zero words appended (or the
    last ``-extra`` words cut), ``last`` on the final one."""
    padded = np.zeros(-(-bits.size // width) * width, dtype=np.uint8)
    padded[:bits.size] = bits
    words = [int.from_bytes(np.packbits(row, bitorder="little").tobytes(), "little")
             for row in padded.reshape(-1, width)]
    words = words[:len(words) + extra] if extra < 0 else words + [0] * extra
    layout = bit_word(width)
    return [pack(layout, {"data": w, "last": int(k == len(words) - 1)})
            for k, w in enumerate(words)]


def block_io(block: PaBlock, width: int, rng: np.random.Generator
             ) -> tuple[list[int], list[int], list[int], int]:
    """(input words, seed words, expected key words, expected status) of one block."""
    x = pattern_bits(block.pattern, block.n, rng)
    seed = pattern_bits(block.pattern, max(block.n + block.m - 1, 1), rng)
    xw = bit_words(x, width, block.x_words)
    sw = bit_words(seed, width, block.seed_words)
    if block.refused:
        return xw, sw, [], PaStatus.BAD_SIZE.value
    if block.x_words:
        return xw, sw, [], PaStatus.INPUT_LENGTH.value
    if block.seed_words:
        return xw, sw, [], PaStatus.SEED_LENGTH.value
    return xw, sw, bit_words(toeplitz_hash(x, seed, block.m), width), PaStatus.OK.value


def stimulus(blocks: Sequence[PaBlock], width: int, n_bits: int, m_bits: int, seed: int
             ) -> dict[str, list[int]]:
    """Streams of a run of ``blocks``: ``job``, ``x``, ``seed`` payloads, expected ``key``
    payloads and ``status`` values."""
    rng = np.random.default_rng(seed)
    out: dict[str, list[int]] = {"job": [], "x": [], "seed": [], "key": [], "status": []}
    job = pa_job(n_bits, m_bits)
    for block in blocks:
        xw, sw, kw, status = block_io(block, width, rng)
        out["job"].append(pack(job, {"n": block.n, "m": block.m}))
        out["x"] += xw
        out["seed"] += sw
        out["key"] += kw
        out["status"].append(status)
    return out
