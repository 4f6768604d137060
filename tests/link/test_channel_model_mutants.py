"""models.link.channel: a burst at the very first bit, and the fault rates of random_faults
(bursts only with a burst length, about ``burst_rate`` bursts per bit)."""

import numpy as np

from models.link.channel import Faults, apply, random_faults


def test_burst_at_bit_zero_is_accepted_and_applied():
    faults = Faults(bursts=((0, 16),), seed=3)
    bits = np.zeros(40, dtype=np.uint8)
    out = apply(bits, faults)
    assert out[:16].tolist() == faults.burst_bits(0, 16).tolist()
    assert out[:16].any() and not out[16:].any()


def test_bursts_need_a_length_and_come_at_their_rate():
    assert random_faults(10_000, 1, burst_rate=0.01).bursts == ()
    bursts = random_faults(10_000, 1, burst_rate=0.01, burst_bits=4).bursts
    assert 60 < len(bursts) < 140 and {n for _, n in bursts} == {4}
