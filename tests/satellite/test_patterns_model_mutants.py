"""models.patterns.happens: fires when the low 10 bits of the generator's state are below the
rate, over the whole range 0..1024 of rates."""

import numpy as np

from models.patterns import happens, xorshift32


def test_happens_compares_the_low_ten_bits_with_the_rate():
    states = xorshift32(5, 4096).astype(np.int64)
    for rate in (0, 1, 300, 1023, 1024):
        assert np.array_equal(happens(5, rate, 4096), states % 1024 < rate), rate
    assert not happens(5, 0, 4096).any() and happens(5, 1024, 4096).all()
