"""The model's Toeplitz hash (models/postprocess/toeplitz.py) on the cases the RTL engine
(rtl/distill/toeplitz.py) is checked on: all-zero and all-one inputs, seeds with long runs, n
at both ends of SPEC 7's block range, against an independent big-integer formula."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from models.postprocess.toeplitz import toeplitz_hash
from tb.distill.toeplitz_stim import PATTERNS, pattern_bits


def _bigint_hash(x: np.ndarray, seed: np.ndarray, m: int) -> np.ndarray:
    """y_i = parity(Σ_k s[i + k]·x[n − 1 − k]) with the bits as Python integers."""
    n = x.size
    xr = int.from_bytes(np.packbits(x[::-1], bitorder="little").tobytes(), "little")
    s = int.from_bytes(np.packbits(seed, bitorder="little").tobytes(), "little")
    mask = (1 << n) - 1
    return np.array([((s >> i) & mask & xr).bit_count() & 1 for i in range(m)], dtype=np.uint8)


@given(n=st.one_of(st.sampled_from([100_000, 900_000, 1, 2]), st.integers(1, 5000)),
       m=st.integers(1, 48), x_pattern=st.sampled_from(PATTERNS),
       s_pattern=st.sampled_from(PATTERNS), seed=st.integers(0, 2**32 - 1))
@settings(max_examples=30, deadline=None)
def test_model_matches_bigint_formula_on_edges(n, m, x_pattern, s_pattern, seed):
    rng = np.random.default_rng(seed)
    x = pattern_bits(x_pattern, n, rng)
    s = pattern_bits(s_pattern, n + m - 1, rng)
    assert np.array_equal(toeplitz_hash(x, s, m), _bigint_hash(x, s, m))


def test_constant_inputs_give_known_keys():
    """All ones against all ones: every row has n ones (parity n mod 2); a zero input or seed
    gives a zero key; the formula's convention checked on a seed with one set bit."""
    for n in (99_999, 100_000):
        ones = np.ones(n, dtype=np.uint8)
        assert set(toeplitz_hash(ones, np.ones(n + 31, dtype=np.uint8), 32)) == {n % 2}
        assert not toeplitz_hash(ones, np.zeros(n + 31, dtype=np.uint8), 32).any()
    x = np.zeros(10, dtype=np.uint8)
    x[3] = 1
    seed = np.zeros(10 + 4 - 1, dtype=np.uint8)
    seed[7] = 1  # T[i][3] = s[i - 3 + 9] = 1 at i = 1
    assert toeplitz_hash(x, seed, 4).tolist() == [0, 1, 0, 0]
