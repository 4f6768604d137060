"""models.ground.sync: the 48-bit frame counter wraps from 2**48 - 1 to 0 in every state of the
detector, including the verification right after the search finds frame 2**48 - 2."""

import numpy as np

from models.framing import COUNTER_BITS
from models.ground.sync import SyncConfig, detect, downlink_bits

FAST = SyncConfig(frame_bits=256)
TOP = 1 << COUNTER_BITS


def test_lock_found_on_the_second_last_counter_follows_the_wrap_to_zero():
    """The search finds frame 2**48 - 2 first; the verification expects 2**48 - 1 and the locked
    detector then 0, 1, 2 (the satellite's counter wraps there): one lock, no loss."""
    bits = np.concatenate([downlink_bits(TOP - 2, 2, FAST.frame_bits, seed=4, lead_bits=40),
                           downlink_bits(0, 3, FAST.frame_bits, seed=5)])
    res = detect(bits, FAST)
    assert [e.frame for e in res.events] == [TOP - 1, 0, 1, 2]
    assert [e.position for e in res.events] == [40 + i * FAST.frame_bits for i in range(1, 5)]
    assert (res.losses, res.candidates) == (0, 1)


def test_lock_from_verification_flywheels_max_misses_frames_then_is_lost():
    """Two frames lock (the second in verification), then the link goes silent: the detector
    predicts ``max_misses`` more frames (flywheel events) and declares the loss at the next."""
    bits = np.concatenate([downlink_bits(50, 2, FAST.frame_bits, seed=6, lead_bits=40),
                           np.zeros((FAST.max_misses + 4) * FAST.frame_bits, dtype=np.uint8)])
    res = detect(bits, FAST)
    assert [e.frame for e in res.events] == list(range(51, 52 + FAST.max_misses))
    assert [e.flywheel for e in res.events] == [False] + [True] * FAST.max_misses
    assert res.losses == 1
