"""Counter-based QRNG model (SPEC 3.1).

The random bits of pulse ``n`` are a pure function of ``(seed, n)``: a splitmix64 finaliser of
``seed + n * GOLDEN_GAMMA`` (mod 2**64). Any pulse's symbol can therefore be computed without
generating the pulses before it, which is what lets the ground stimulus, the satellite RTL and the
sifting scoreboards agree on the symbol of a photon detected minutes into a pass.

The same arithmetic is implemented in :class:`rtl.simonly.qrng_source.CounterQrngSource`
(simulation only: a real satellite has a physical QRNG).

Per-pulse word (``QRNG_WORD_BITS`` = 32 bits, the low half of the 64-bit hash):

====== ===============================================
bits   use
====== ===============================================
7:0    intensity draw (compared with the mapper thresholds)
15:8   basis draw
16     bit value
31:17  spare (not used by the symbol mapper)
====== ===============================================
"""

from __future__ import annotations

import numpy as np

from models.patterns import happens

MASK64 = (1 << 64) - 1
GOLDEN_GAMMA = 0x9E3779B97F4A7C15
MIX1 = 0xBF58476D1CE4E5B9
MIX2 = 0x94D049BB133111EB
QRNG_WORD_BITS = 32


def splitmix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 output function on a uint64 array (wrapping arithmetic, like the RTL)."""
    z = np.asarray(x, dtype=np.uint64).copy()
    with np.errstate(over="ignore"):
        z ^= z >> np.uint64(30)
        z *= np.uint64(MIX1)
        z ^= z >> np.uint64(27)
        z *= np.uint64(MIX2)
        z ^= z >> np.uint64(31)
    return z


def qrng_hash(seed: int, pulse: np.ndarray | int) -> np.ndarray:
    """64-bit hash of pulse indices ``pulse`` under ``seed`` (vectorised)."""
    n = np.asarray(pulse, dtype=np.uint64)
    with np.errstate(over="ignore"):
        state = np.uint64(seed & MASK64) + n * np.uint64(GOLDEN_GAMMA)
    return splitmix64(state)


def qrng_words(seed: int, pulse: np.ndarray | int) -> np.ndarray:
    """The 32-bit QRNG word of each pulse index in ``pulse`` (uint32 array)."""
    return (qrng_hash(seed, pulse) & np.uint64(0xFFFF_FFFF)).astype(np.uint32)


def biased_words(seed: int, pulse: np.ndarray | int) -> np.ndarray:
    """Fault model "biased source": AND of the two hash halves, so each bit is 1 with p = 1/4."""
    h = qrng_hash(seed, pulse)
    return ((h & np.uint64(0xFFFF_FFFF)) & (h >> np.uint64(32))).astype(np.uint32)


# The simulated source's idle pattern: the xorshift generator of seed ``seed ^ this``
# (:class:`rtl.simonly.qrng_source.CounterQrngSource`).
SOURCE_IDLE_SEED_XOR = 0x51ED_2701


def qrng_offered(seed: int, idle_per_1024: int, beats: int) -> np.ndarray:
    """Bool per cycle from reset: the simulated source of ``seed`` offers a beat (it is idle in
    about ``idle_per_1024``/1024 of cycles)."""
    return ~happens(seed ^ SOURCE_IDLE_SEED_XOR, idle_per_1024, beats)


# Simulated source faults (SPEC 3.1 health tests), shared by the tests and the sim-only RTL source.
FAULT_NONE, FAULT_STUCK, FAULT_BIASED = 0, 1, 2
STUCK_WORD = 0x5A5A5A5A


def source_words(seed: int, pulse: np.ndarray | int, fault: int = FAULT_NONE) -> np.ndarray:
    """What the simulated QRNG delivers for ``pulse`` with ``fault`` injected (uint32 array)."""
    if fault == FAULT_NONE:
        return qrng_words(seed, pulse)
    if fault == FAULT_STUCK:
        return np.full(np.shape(pulse), STUCK_WORD, dtype=np.uint32)
    if fault == FAULT_BIASED:
        return biased_words(seed, pulse)
    raise ValueError(f"unknown QRNG fault code {fault}")
