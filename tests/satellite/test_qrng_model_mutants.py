"""models.qrng: the seed is a 64-bit register (taken modulo 2**64, negative seeds included),
and a word is the low 32 bits of the hash."""

import numpy as np

from models.qrng import qrng_hash, qrng_words

PULSES = np.arange(8, dtype=np.uint64)


def test_seed_is_taken_modulo_two_to_the_64():
    top = 1 << 64
    assert np.array_equal(qrng_hash(top + 5, PULSES), qrng_hash(5, PULSES))
    assert np.array_equal(qrng_hash(-1, PULSES), qrng_hash(top - 1, PULSES))
    assert not np.array_equal(qrng_hash(top - 1, PULSES), qrng_hash(0, PULSES))


def test_word_is_the_low_half_of_the_hash():
    pulses = np.arange(1000, dtype=np.uint64)
    words = qrng_words(3, pulses)
    assert words.tolist() == [int(h) % (1 << 32) for h in qrng_hash(3, pulses)]
    assert 0.4 < float((words & 1).mean()) < 0.6
