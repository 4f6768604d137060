"""Toeplitz privacy amplification: FFT implementation against the naive SPEC formula."""

import numpy as np
import pytest

from models.postprocess.toeplitz import pack_bits, toeplitz_hash, toeplitz_hash_naive, unpack_bits


@pytest.mark.parametrize(("n", "m"), [(1, 1), (2, 1), (1, 5), (7, 3), (64, 64), (300, 17),
                                      (1000, 999), (2049, 700)])
def test_fft_matches_naive(n, m):
    rng = np.random.default_rng(n * 1000 + m)
    x = rng.integers(0, 2, n, dtype=np.uint8)
    seed = rng.integers(0, 2, n + m - 1, dtype=np.uint8)
    assert np.array_equal(toeplitz_hash(x, seed, m), toeplitz_hash_naive(x, seed, m))


def test_matrix_convention_by_hand():
    # n = 3, m = 2: T[i][j] = s[i - j + 2]; T = [[s2, s1, s0], [s3, s2, s1]]
    seed = np.array([1, 0, 1, 1], dtype=np.uint8)  # s0..s3
    x = np.array([1, 1, 0], dtype=np.uint8)
    # y0 = s2·1 ⊕ s1·1 = 1 ⊕ 0 = 1; y1 = s3 ⊕ s2 = 0
    assert toeplitz_hash(x, seed, 2).tolist() == [1, 0]
    assert toeplitz_hash_naive(x, seed, 2).tolist() == [1, 0]


@pytest.mark.parametrize("n", [400_000, 400_001])
def test_all_ones_extremes(n):
    """Largest correlation values (all ones): the float32 path must stay exact.

    Every row then has n ones, so every output bit is the parity of n.
    """
    m = 100_000
    y = toeplitz_hash(np.ones(n, dtype=np.uint8), np.ones(n + m - 1, dtype=np.uint8), m)
    assert np.all(y == n % 2)


def test_large_block_linear():
    """900 kbit: T(x ⊕ x') = T x ⊕ T x' (checks exactness where the naive form is too big)."""
    rng = np.random.default_rng(9)
    n, m = 900_000, 200_000
    seed = rng.integers(0, 2, n + m - 1, dtype=np.uint8)
    x1 = rng.integers(0, 2, n, dtype=np.uint8)
    x2 = rng.integers(0, 2, n, dtype=np.uint8)
    y = toeplitz_hash(x1 ^ x2, seed, m)
    assert np.array_equal(y, toeplitz_hash(x1, seed, m) ^ toeplitz_hash(x2, seed, m))
    # spot-check rows against the definition
    for i in (0, 1, m // 2, m - 1):
        row = seed[i - np.arange(n) + n - 1]
        assert y[i] == np.bitwise_xor.reduce(row & (x1 ^ x2))


def test_zero_output_and_bad_seed():
    x = np.ones(10, dtype=np.uint8)
    assert toeplitz_hash(x, np.zeros(9, dtype=np.uint8), 0).size == 0
    with pytest.raises(ValueError, match="seed has 5 bits"):
        toeplitz_hash(x, np.zeros(5, dtype=np.uint8), 3)


def test_pack_msb_first():
    bits = np.array([1, 0, 0, 0, 0, 0, 0, 1, 1], dtype=np.uint8)
    assert pack_bits(bits) == b"\x81\x80"
    assert unpack_bits(b"\x81\x80", 9).tolist() == bits.tolist()
