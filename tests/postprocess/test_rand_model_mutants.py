"""models.postprocess.rand: a stream's bits are QRNG words of its own seed, most significant
bit first; any window is the same slice of the stream wherever it starts (word edges, one bit
before and after them); streams and run seeds give different bits; an empty window is empty."""

import numpy as np
import pytest

from models.postprocess.rand import (
    STREAM_AUTH_POOL,
    STREAM_CODE,
    STREAM_EC_PAD,
    STREAM_PA_SEED,
    STREAM_VERIFY,
    random_bits,
    stream_seed,
)
from models.qrng import GOLDEN_GAMMA, MASK64, qrng_hash


def test_stream_seed_and_bits_are_the_qrng_words_msb_first():
    seed, stream = 12345, STREAM_PA_SEED
    mixed = int(qrng_hash((seed * GOLDEN_GAMMA) & MASK64, np.uint64(stream)))
    assert stream_seed(seed, stream) == mixed
    words = qrng_hash(mixed, np.arange(3, dtype=np.uint64))
    want = [(int(w) >> (63 - i)) & 1 for w in words for i in range(64)]
    assert random_bits(seed, stream, 0, 192).tolist() == want


@pytest.mark.parametrize("start", [0, 1, 63, 64, 65, 127, 128, 200])
@pytest.mark.parametrize("nbits", [1, 63, 64, 65, 130])
def test_any_window_is_the_same_slice_of_the_stream(start, nbits):
    whole = random_bits(7, STREAM_VERIFY, 0, 512)
    got = random_bits(7, STREAM_VERIFY, start, nbits)
    assert got.dtype == np.uint8 and got.tolist() == whole[start:start + nbits].tolist()


def test_streams_and_seeds_differ_and_empty_windows_are_empty():
    streams = [STREAM_AUTH_POOL, STREAM_VERIFY, STREAM_PA_SEED, STREAM_CODE, STREAM_EC_PAD]
    assert len(set(streams)) == 5
    draws = {tuple(random_bits(3, s, 0, 128).tolist()) for s in streams}
    assert len(draws) == 5
    assert random_bits(4, STREAM_VERIFY, 0, 128).tolist() != \
        random_bits(3, STREAM_VERIFY, 0, 128).tolist()
    assert random_bits(3, STREAM_CODE, 10, 0).size == 0
    assert random_bits(3, STREAM_CODE, 10, -5).size == 0
