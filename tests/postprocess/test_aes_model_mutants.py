"""models.postprocess.aes: a counter block longer than 16 bytes is the module's one-line
input error, as a shorter one is."""

import pytest

from models.postprocess.aes import AesInputError, aes128_ctr


@pytest.mark.parametrize("size", [15, 17])
def test_counter_block_of_any_other_size_is_refused(size):
    with pytest.raises(AesInputError, match=f"must be 16 bytes, got {size}"):
        aes128_ctr(bytes(16), bytes(size), b"data")
