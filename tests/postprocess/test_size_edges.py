"""Size limits of the post-processing at their edges (SPEC 1 "privacy amplification block",
SPEC 7 Toeplitz): PA blocks of 100 and 900 kbit accepted and one bit outside each refused with
one clear line, the pass configuration's 100 .. 900 kbit range, EC codewords of at most
100,000 bits, and the Toeplitz seed, input and output lengths exactly right, one short and one
long.

Where the range is enforced: the pass configuration (``models.channel.config``, what
``qkdsim`` and ``make sim`` read) allows 100 .. 900 kbit in steps of 100 kbit for the SPEC's
100,000-bit packets; ``distill`` itself requires whole packets only (the campaign's fault runs
use other packet and block sizes on purpose)."""

from pathlib import Path

import numpy as np
import pytest

from models.channel.config import PassConfigError, load_pass
from models.postprocess.ec import CODEWORD_BITS, split_codewords
from models.postprocess.pipeline import DistillConfig, DistillConfigError, distill
from models.postprocess.synthetic import synthetic_packets
from models.postprocess.toeplitz import (
    ToeplitzHasher,
    ToeplitzInputError,
    clmul_available,
    toeplitz_hash,
    toeplitz_hash_naive,
)

KBIT = 1000


@pytest.fixture(scope="module")
def one_packet():
    """One pair of 100,000-bit packets at 1 % QBER."""
    return synthetic_packets(1, 0.01, seed=1)


@pytest.mark.parametrize("block", [100 * KBIT, 900 * KBIT], ids=["100k", "900k"])
def test_pa_block_at_both_ends_of_the_range_is_accepted(one_packet, block):
    """The one packet forms the pass's only (last, shorter) block whatever the block size."""
    result = distill(one_packet, DistillConfig(pa_block_bits=block, ec_workers=1), seed=1)
    assert [(b["status"], b["input_bits"]) for b in result.pa_blocks] == [("ok", 100 * KBIT)]


@pytest.mark.parametrize("block", [100 * KBIT - 1, 100 * KBIT + 1, 900 * KBIT - 1, 900 * KBIT + 1])
def test_pa_block_one_bit_off_a_whole_packet_is_refused(one_packet, block):
    with pytest.raises(DistillConfigError, match=rf"^pa_block_bits={block} is not a multiple "
                                                  r"of the packet length 100000$"):
        distill(one_packet, DistillConfig(pa_block_bits=block), seed=1)


@pytest.mark.parametrize(("block", "ok"), [(0, False), (1, True)])
def test_pa_block_must_be_positive(block, ok):
    if ok:
        assert DistillConfig(pa_block_bits=block).pa_block_bits == 1
    else:
        with pytest.raises(DistillConfigError, match="pa_block_bits=0 must be positive"):
            DistillConfig(pa_block_bits=block)


@pytest.mark.parametrize(("block", "error"), [
    (100 * KBIT, None), (900 * KBIT, None),
    (100 * KBIT - 1, "is not a positive multiple of packet_bits=100000"),
    (900 * KBIT + 1, "is not a positive multiple of packet_bits=100000"),
    (0, "is not a positive multiple"),
    (1000 * KBIT, "is not one of 100 .. 900 kbit in steps of 100 kbit"),
])
def test_pass_config_pa_block_range(tmp_path: Path, block, error):
    path = tmp_path / "p.toml"
    path.write_text('station = "jinan"\nmax_elevation_deg = 40.0\n'
                    f"[postprocess]\npa_block_bits = {block}\n")
    if error is None:
        assert load_pass(path).post.pa_block_bits == block
    else:
        with pytest.raises(PassConfigError, match=f"pa_block_bits={block} {error}") as info:
            load_pass(path)
        assert "\n" not in str(info.value)


@pytest.mark.parametrize(("length", "want"), [
    (CODEWORD_BITS - 1, [(0, 99_999)]),
    (CODEWORD_BITS, [(0, 100_000)]),
    (CODEWORD_BITS + 1, [(0, 50_000), (50_000, 100_001)]),
    (2 * CODEWORD_BITS, [(0, 100_000), (100_000, 200_000)]),
    (2 * CODEWORD_BITS + 1, [(0, 66_667), (66_667, 133_334), (133_334, 200_001)]),
])
def test_ec_codewords_at_most_100000_bits(length, want):
    assert CODEWORD_BITS == 100_000
    assert [(s.start, s.stop) for s in split_codewords(length, CODEWORD_BITS)] == want


METHODS = ["fft", "clmul"] if clmul_available() else ["fft"]


@pytest.mark.parametrize("method", METHODS)
def test_toeplitz_smallest_sizes_give_the_stated_bits(method):
    """SPEC 7: T[i][j] = s[i - j + n - 1]. n = 3, m = 2, s = 1011: T = [[1 0 1], [1 1 0]]."""
    seed = np.array([1, 0, 1, 1], dtype=np.uint8)
    x = np.array([1, 1, 0], dtype=np.uint8)
    assert toeplitz_hash(x, seed, 2, method).tolist() == [1, 0]
    assert toeplitz_hash_naive(x, seed, 2).tolist() == [1, 0]
    one = np.ones(1, dtype=np.uint8)
    assert toeplitz_hash(one, one, 1, method).tolist() == [1]  # n = m = 1: seed of 1 bit


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("n", "m"), [(3, 2), (64, 64), (100 * KBIT, 32)])
def test_toeplitz_seed_of_n_plus_m_minus_1_bits_only(method, n, m):
    rng = np.random.default_rng(n + m)
    x = rng.integers(0, 2, n).astype(np.uint8)
    seed = rng.integers(0, 2, n + m).astype(np.uint8)
    assert toeplitz_hash(x, seed[:n + m - 1], m, method).size == m
    for size in (n + m - 2, n + m):
        with pytest.raises(ToeplitzInputError,
                           match=rf"^Toeplitz seed has {size} bits, needs n\+m-1 = {n + m - 1}$"):
            toeplitz_hash(x, seed[:size], m, method)


@pytest.mark.parametrize("method", METHODS)
def test_toeplitz_input_of_exactly_n_bits_only(method):
    n, m = 100, 20
    hasher = ToeplitzHasher(np.zeros(n + m - 1, dtype=np.uint8), n, m, method)
    assert hasher.hash(np.zeros(n, dtype=np.uint8)).size == m
    for size in (n - 1, n + 1):
        with pytest.raises(ToeplitzInputError, match=f"input has {size} bits, the hasher "
                                                     f"expects n = {n}"):
            hasher.hash(np.zeros(size, dtype=np.uint8))


@pytest.mark.parametrize(("n", "m"), [(0, 1), (1, -1)])
def test_toeplitz_sizes_below_one_input_bit_or_zero_output_bits_are_refused(n, m):
    with pytest.raises(ToeplitzInputError, match=f"needs n >= 1 and m >= 0, got n={n}, m={m}"):
        ToeplitzHasher(np.zeros(1, dtype=np.uint8), n, m)
