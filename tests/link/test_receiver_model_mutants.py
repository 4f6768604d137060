"""models.link.receiver: the lock-loss window (``lock_bad`` invalid headers inside one
``window``-block window lose the lock; a window boundary starts the count again) and the
upper bounds of the lock thresholds."""

import numpy as np
import pytest

from models.link import channel, framing, line_code, receiver
from tests.link.test_models import _messages

CONFIG = receiver.RxConfig(lock_good=16, lock_bad=4, window=16)


def stream() -> np.ndarray:
    msgs = _messages(np.random.default_rng(6), 6)
    headers, bodies = framing.frame(msgs, sync_every=16, lead=160, gap=2)
    return line_code.words_to_bits(line_code.encode(headers, bodies)[0])


@pytest.mark.parametrize(("first", "losses"), [(104, 1), (114, 0)])
def test_four_bad_headers_lose_the_lock_inside_one_window_only(first, losses):
    """Four invalid headers in a row (bit 0 of each block flipped) after the lock: inside one
    16-block window they lose it (and the receiver locks again); across the window boundary
    after block 116 they do not."""
    bad = tuple(34 * b for b in range(first, first + 4))
    got = receiver.receive(channel.apply(stream(), channel.Faults(flips=bad)), CONFIG)
    assert got.counters["bad_headers"] == 4
    assert (got.counters["lock_losses"], got.counters["locks"]) == (losses, 1 + losses)
    # the word after the fourth bad header (a block spans two words) is the first unlocked one
    assert got.lock_trace[first + 3:first + 5] == [True, not losses]


def test_lock_thresholds_reach_1024():
    assert receiver.RxConfig(lock_good=1024, lock_bad=1024, window=1024).window == 1024
    for kwargs in ({"lock_good": 1025}, {"window": 1025}):
        with pytest.raises(receiver.RxConfigError):
            receiver.RxConfig(**kwargs)
