"""models.framing: the frame counter's range at its last value, which the frame scoreboard (a
few frames from 0) never reaches."""

import pytest

from models.framing import COUNTER_BITS, header_words


def test_last_counter_value_has_a_header_and_the_next_is_one_error():
    last = (1 << COUNTER_BITS) - 1
    words = header_words(last)
    assert words[2] == last >> 16 and words[3] >> 16 == last & 0xFFFF
    with pytest.raises(ValueError, match=f"does not fit in {COUNTER_BITS} bits"):
        header_words(last + 1)
