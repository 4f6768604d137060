"""models.postprocess.toeplitz: the FFT path's error bound is ten times Percival's radix-2
bound (the module's stated safety factor), its transform length the next power of two, and a
wrong seed length is named with the length it needs."""

import math

import numpy as np
import pytest

from models.postprocess.toeplitz import (
    ToeplitzHasher,
    ToeplitzInputError,
    fft_error_bound,
    fft_length,
)


@pytest.mark.parametrize(("n", "m"), [(1000, 300), (100_000, 20_000), (3, 2)])
def test_fft_error_bound_is_ten_times_percivals(n, m):
    """Percival (2003): |error| <= |x| |y| ((1 + e)^3k (1 + sqrt5 e)^(3k + 1) (1 + e)^3k - 1)
    for a length-2^k radix-2 convolution, e = 2^-53, here with x = 4x' and y = s' (entries
    +-1/2, so |4x'| = 4 sqrt(n / 4) and |s'| = sqrt((n + m - 1) / 4))."""
    k = max(math.ceil(math.log2(n + m - 1)), 1)
    one, e = np.longdouble(1), np.longdouble(2.0**-53)  # 1 + e is exact in 64-bit mantissas
    growth = float((one + e) ** (6 * k) * (one + np.sqrt(np.longdouble(5)) * e) ** (3 * k + 1)
                   - one)
    percival = 4 * math.sqrt(n / 4) * math.sqrt((n + m - 1) / 4) * growth
    assert fft_error_bound(n, m) == pytest.approx(10 * percival, rel=1e-3)


def test_fft_length_is_the_next_power_of_two():
    assert [fft_length(s) for s in (1, 2, 3, 4, 5, 1024, 1025)] == [1, 2, 4, 4, 8, 1024, 2048]


def test_wrong_seed_length_names_the_length_needed():
    with pytest.raises(ToeplitzInputError, match=r"seed has 13 bits, needs n\+m-1 = 14$"):
        ToeplitzHasher(np.zeros(13, dtype=np.uint8), 10, 5, method="fft")
