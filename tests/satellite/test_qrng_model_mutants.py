"""models.qrng: the seed is a 64-bit register (taken modulo 2**64, negative seeds included)."""

import numpy as np

from models.qrng import qrng_hash

PULSES = np.arange(8, dtype=np.uint64)


def test_seed_is_taken_modulo_two_to_the_64():
    top = 1 << 64
    assert np.array_equal(qrng_hash(top + 5, PULSES), qrng_hash(5, PULSES))
    assert np.array_equal(qrng_hash(-1, PULSES), qrng_hash(top - 1, PULSES))
    assert not np.array_equal(qrng_hash(top - 1, PULSES), qrng_hash(0, PULSES))
