"""Seeded idle and stall patterns of the simulation-only generators, as numpy arrays.

The RTL twin is :class:`rtl.simonly.xorshift.Xorshift32` with :func:`rtl.simonly.xorshift.happens`:
Marsaglia's xorshift32 (13, 17, 5), whose register holds the seed in the first cycle after reset
and the next state in every following cycle; an event "happens" in a cycle when the low 10 bits
of that cycle's state are below the rate (in units of 1/1024). The golden models take these
patterns to predict, cycle by cycle, what a generator-driven run does (the QRNG source's idle
cycles, the symbol path's holds).
"""

from __future__ import annotations

import numpy as np

MASK32 = 0xFFFF_FFFF
PROBABILITY_BITS = 10
ZERO_SEED_REPLACEMENT = 0x2545_F491  # the all-zero state is a fixed point
_BLOCK = 1024


def _step(x: int) -> int:
    x ^= (x << 13) & MASK32
    x ^= x >> 17
    return x ^ ((x << 5) & MASK32)


def xorshift32_seed(seed: int) -> int:
    """The state the generator starts from for ``seed``."""
    return (seed & MASK32) or ZERO_SEED_REPLACEMENT


def xorshift32(seed: int, count: int) -> np.ndarray:
    """The first ``count`` states of the generator (uint32): cycle ``c`` after reset sees
    element ``c``.

    xorshift32 is linear over GF(2): the states are made ``_BLOCK`` at a time by applying the
    ``_BLOCK``-step transition matrix to the previous block (32 vector operations per block
    instead of a Python step per cycle).
    """
    if count < 0:
        raise ValueError(f"xorshift32: count={count} must not be negative")
    first = np.empty(min(count, _BLOCK), dtype=np.uint64)
    x = xorshift32_seed(seed)
    for i in range(first.size):
        first[i] = x
        x = _step(x)
    blocks = [first]
    if count > _BLOCK:
        columns = []
        for bit in range(32):
            y = 1 << bit
            for _ in range(_BLOCK):
                y = _step(y)
            columns.append(np.uint64(y))
        done = _BLOCK
        while done < count:
            prev = blocks[-1]
            nxt = np.zeros_like(prev)
            for bit, column in enumerate(columns):
                nxt ^= np.where((prev >> np.uint64(bit)) & np.uint64(1), column, np.uint64(0))
            blocks.append(nxt)
            done += _BLOCK
    return np.concatenate(blocks)[:count].astype(np.uint32)


def happens(seed: int, per_1024: int, count: int) -> np.ndarray:
    """Bool per cycle: the generator of ``seed`` fires at rate ``per_1024`` / 1024."""
    if not 0 <= per_1024 <= 1 << PROBABILITY_BITS:
        raise ValueError(f"rate {per_1024} must be within 0..1024 (units of 1/1024)")
    values = xorshift32(seed, count)
    return (values & np.uint32((1 << PROBABILITY_BITS) - 1)) < np.uint32(per_1024)
