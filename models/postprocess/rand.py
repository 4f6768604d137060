"""Random bit streams of the post-processing, drawn from the counter-based QRNG model.

The satellite's QRNG (:mod:`models.qrng`) supplies the Toeplitz seeds and the verification-hash
seeds (SPEC 7); the pre-shared authentication key pool is drawn the same way from its own seed.
Each use has its own *stream* number, mixed into the QRNG seed, so the streams never overlap and
any bit of any stream is a pure function of (seed, stream, position).
"""

import numpy as np

from models.qrng import GOLDEN_GAMMA, MASK64, qrng_hash

STREAM_AUTH_POOL = 1
STREAM_VERIFY = 2
STREAM_PA_SEED = 3
STREAM_CODE = 4
STREAM_EC_PAD = 5  # secret padding of the LDPC words (punctured, revealed on request)


def stream_seed(seed: int, stream: int) -> int:
    """64-bit QRNG seed of stream ``stream`` under the run seed ``seed``."""
    mixed = qrng_hash((seed * GOLDEN_GAMMA) & MASK64, np.uint64(stream & MASK64))
    return int(mixed)


def random_bits(seed: int, stream: int, start: int, nbits: int) -> np.ndarray:
    """Bits ``start .. start+nbits-1`` of a stream as a uint8 array (64 bits per QRNG word)."""
    if nbits <= 0:
        return np.zeros(0, dtype=np.uint8)
    first, last = start // 64, (start + nbits - 1) // 64
    words = qrng_hash(stream_seed(seed, stream), np.arange(first, last + 1, dtype=np.uint64))
    bits = np.unpackbits(words.astype(">u8").view(np.uint8), bitorder="big")
    offset = start - first * 64
    return bits[offset:offset + nbits]
