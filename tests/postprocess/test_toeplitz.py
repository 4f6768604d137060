"""Toeplitz privacy amplification: both fast implementations against the naive SPEC formula."""

import numba
import numpy as np
import pytest

from models.postprocess import toeplitz
from models.postprocess.toeplitz import (
    LEAF_WORDS,
    ToeplitzHasher,
    ToeplitzInputError,
    ToeplitzRoundingError,
    clmul_available,
    fft_error_bound,
    pack_bits,
    toeplitz_hash,
    toeplitz_hash_naive,
    unpack_bits,
)

METHODS = [
    pytest.param("clmul", marks=pytest.mark.skipif(not clmul_available(),
                                                    reason="needs numba JIT and PCLMULQDQ")),
    "fft",
]


def _case(rng: np.random.Generator, n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    return (rng.integers(0, 2, n, dtype=np.uint8),
            rng.integers(0, 2, n + m - 1, dtype=np.uint8))


# leaf and block edges of the clmul path (64-bit words, 8-word leaves, several row/column blocks,
# m > n) and odd sizes
SIZES = [(1, 1), (2, 1), (1, 5), (7, 3), (64, 64), (65, 63), (300, 17), (511, 512), (512, 512),
         (513, 1), (1000, 999), (2049, 700), (5000, 130), (130, 5000), (4096, 1025), (1, 3000)]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("n", "m"), SIZES)
def test_matches_naive(method, n, m):
    x, seed = _case(np.random.default_rng(n * 1000 + m), n, m)
    assert np.array_equal(toeplitz_hash(x, seed, m, method), toeplitz_hash_naive(x, seed, m))


@pytest.mark.parametrize("method", METHODS)
def test_random_sizes_match_naive(method):
    rng = np.random.default_rng(5)
    for _ in range(25):
        n, m = int(rng.integers(1, 6000)), int(rng.integers(1, 3000))
        x, seed = _case(rng, n, m)
        assert np.array_equal(toeplitz_hash(x, seed, m, method),
                              toeplitz_hash_naive(x, seed, m)), (n, m)


@pytest.mark.skipif(not clmul_available(), reason="needs numba JIT and PCLMULQDQ")
@pytest.mark.parametrize(("n", "m"), [(100_000, 23_040), (500_000, 125_000), (900_001, 300_032)])
def test_clmul_matches_fft_on_spec_blocks(n, m):
    """SPEC block sizes (100 to 900 kbit): the two fast paths agree bit for bit."""
    x, seed = _case(np.random.default_rng(n + m), n, m)
    assert np.array_equal(toeplitz_hash(x, seed, m, "clmul"), toeplitz_hash(x, seed, m, "fft"))


def test_matrix_convention_by_hand():
    # n = 3, m = 2: T[i][j] = s[i - j + 2]; T = [[s2, s1, s0], [s3, s2, s1]]
    seed = np.array([1, 0, 1, 1], dtype=np.uint8)  # s0..s3
    x = np.array([1, 1, 0], dtype=np.uint8)
    # y0 = s2·1 ⊕ s1·1 = 1 ⊕ 0 = 1; y1 = s3 ⊕ s2 = 0
    assert toeplitz_hash(x, seed, 2).tolist() == [1, 0]
    assert toeplitz_hash(x, seed, 2, "fft").tolist() == [1, 0]
    assert toeplitz_hash_naive(x, seed, 2).tolist() == [1, 0]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("n", [400_000, 400_001])
def test_all_ones_extremes(method, n):
    """Largest correlation values (all ones): every row has n ones, so every bit is n mod 2."""
    m = 100_000
    y = toeplitz_hash(np.ones(n, dtype=np.uint8), np.ones(n + m - 1, dtype=np.uint8), m, method)
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


@pytest.mark.parametrize("method", METHODS)
def test_hasher_reuses_seed(method):
    """One prepared seed hashes several inputs, each as the one-shot function does."""
    rng = np.random.default_rng(11)
    n, m = 3000, 777
    seed = rng.integers(0, 2, n + m - 1, dtype=np.uint8)
    hasher = ToeplitzHasher(seed, n, m, method)
    assert hasher.method == method
    for _ in range(3):
        x = rng.integers(0, 2, n, dtype=np.uint8)
        assert np.array_equal(hasher.hash(x), toeplitz_hash_naive(x, seed, m))


def test_block_choice():
    """500 kbit → 125 kbit: one row of four 2048-word blocks; tiny sizes: one leaf."""
    assert toeplitz._block_words(500_000, 125_000) == 2048
    assert toeplitz._block_words(1, 1) == LEAF_WORDS
    assert toeplitz._block_words(500_000, 128) == LEAF_WORDS


@pytest.mark.skipif(not clmul_available(), reason="needs numba JIT and PCLMULQDQ")
def test_auto_prefers_clmul():
    assert ToeplitzHasher(np.zeros(9, dtype=np.uint8), 5, 5).method == "clmul"


def test_fallback_without_jit(monkeypatch):
    monkeypatch.setattr(numba.config, "DISABLE_JIT", True)
    assert not clmul_available()
    seed = np.zeros(9, dtype=np.uint8)
    assert ToeplitzHasher(seed, 5, 5).method == "fft"
    with pytest.raises(ToeplitzInputError, match="'clmul' needs numba's JIT"):
        ToeplitzHasher(seed, 5, 5, "clmul")


def test_fft_rounding_is_proven_exact_at_spec_sizes():
    """The FFT path's error bound is far below the 1/2 that would flip a parity at every SPEC
    block size; sizes where it would reach 1/4 are refused."""
    for n in range(100_000, 900_001, 100_000):
        assert fft_error_bound(n, n // 2) < 1e-6
    assert fft_error_bound(10**6, 10**6) > fft_error_bound(10**5, 10**5)


def test_fft_path_refuses_a_value_off_an_integer(monkeypatch):
    """A correlation value farther from an integer than the proven bound (a numerical fault,
    injected here) stops the hash instead of giving a parity that may be wrong."""
    x, seed = _case(np.random.default_rng(9), 3000, 800)
    hasher = ToeplitzHasher(seed, 3000, 800, "fft")
    assert np.array_equal(hasher.hash(x), toeplitz_hash_naive(x, seed, 800))
    irfft = toeplitz.sfft.irfft

    def faulty(*args, **kw):
        out = irfft(*args, **kw)
        out[3000 + 400] += 0.3 / 4  # one output value off by 0.3 after the factor 4
        return out

    monkeypatch.setattr(toeplitz.sfft, "irfft", faulty)
    with pytest.raises(ToeplitzRoundingError, match="above the proven bound"):
        hasher.hash(x)
    monkeypatch.setattr(toeplitz, "FFT_BOUND_SAFETY", 1e12)
    with pytest.raises(ToeplitzInputError, match="cannot guarantee exact rounding"):
        ToeplitzHasher(seed, 3000, 800, "fft")


def test_zero_output_and_bad_input():
    x = np.ones(10, dtype=np.uint8)
    assert toeplitz_hash(x, np.zeros(9, dtype=np.uint8), 0).size == 0
    with pytest.raises(ToeplitzInputError, match="seed has 5 bits"):
        toeplitz_hash(x, np.zeros(5, dtype=np.uint8), 3)
    with pytest.raises(ValueError, match="needs n >= 1"):
        toeplitz_hash(np.zeros(0, dtype=np.uint8), np.zeros(3, dtype=np.uint8), 4)
    with pytest.raises(ToeplitzInputError, match="must hold bits 0/1, found 2"):
        toeplitz_hash(np.full(10, 2, dtype=np.uint8), np.zeros(12, dtype=np.uint8), 3)
    with pytest.raises(ToeplitzInputError, match="1-D bit array"):
        toeplitz_hash(np.ones((2, 5), dtype=np.uint8), np.zeros(12, dtype=np.uint8), 3)
    with pytest.raises(ToeplitzInputError, match="input has 9 bits, the hasher expects n = 10"):
        ToeplitzHasher(np.zeros(12, dtype=np.uint8), 10, 3).hash(np.ones(9, dtype=np.uint8))
    with pytest.raises(ToeplitzInputError, match="unknown Toeplitz method 'ntt'"):
        ToeplitzHasher(np.zeros(12, dtype=np.uint8), 10, 3, "ntt")


def test_pack_msb_first():
    bits = np.array([1, 0, 0, 0, 0, 0, 0, 1, 1], dtype=np.uint8)
    assert pack_bits(bits) == b"\x81\x80"
    assert unpack_bits(b"\x81\x80", 9).tolist() == bits.tolist()
