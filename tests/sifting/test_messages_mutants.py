"""``decode_sift``, directed: a "frame missing" message is exactly the missing tag with count 0
and no entry word; a missing tag with a count is corrupted (None), even with a good CRC."""

import numpy as np

from models.sifting.messages import COUNT_BITS, MISSING_TAG, crc32_words, decode_sift, encode_sift


def _sealed(words: list[int]) -> np.ndarray:
    body = np.array(words, dtype=np.uint32)
    return np.append(body, np.uint32(crc32_words(body)))


def test_missing_tag_with_a_count_is_not_a_missing_message():
    assert decode_sift(encode_sift(9, None)).code is None
    assert decode_sift(_sealed([MISSING_TAG << COUNT_BITS, 9])).seq == 9
    for count in (1, 8):
        assert decode_sift(_sealed([MISSING_TAG << COUNT_BITS | count, 9])) is None
        assert decode_sift(_sealed([MISSING_TAG << COUNT_BITS | count, 9, 0])) is None
