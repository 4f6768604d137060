"""The link's bit channel (:mod:`models.link.channel`) at the edges of its faults: a burst
``(start, length)`` replaces exactly bits ``start .. start + length - 1`` (the bit before and the
bit after are kept), a flip changes one bit, a slip repeats (+1) or drops (-1) exactly the bit
at its index; the same faults applied piece by piece (:class:`BitChannel`, as a long line does)
give the same bits with the pieces cut on each edge, one bit before and one after; the fault
parameters are refused one step outside their ranges."""

import numpy as np
import pytest

from models.link import channel
from models.link.channel import BitChannel, ChannelError, Faults

LENGTH = 400
START, BURST = 100, 37
FLIP = 250
SLIP = 300


def pattern() -> np.ndarray:
    return np.random.default_rng(4).integers(0, 2, LENGTH).astype(np.uint8)


def sent_against_burst(faults: Faults, start: int, length: int) -> np.ndarray:
    """Bits that differ from the burst's noise everywhere inside it: a burst shows where it
    starts and ends."""
    bits = pattern()
    end = min(start + length, LENGTH)
    bits[start:end] = 1 - faults.burst_bits(start, length)[:end - start]
    return bits


@pytest.mark.parametrize(("start", "length"), [(START, BURST), (START, 1), (0, 5),
                                               (LENGTH - 5, 5), (LENGTH - 5, 9)])
def test_a_burst_replaces_exactly_its_bits(start, length):
    faults = Faults(bursts=((start, length),), seed=3)
    sent = sent_against_burst(faults, start, length)
    changed = np.flatnonzero(channel.apply(sent, faults) != sent)
    assert changed.tolist() == list(range(start, min(start + length, LENGTH)))


def test_flip_and_slips_act_on_exactly_their_bit():
    sent = pattern()
    assert np.flatnonzero(channel.apply(sent, Faults(flips=(FLIP,))) != sent).tolist() == [FLIP]
    repeated = channel.apply(sent, Faults(slips=((SLIP, 1),)))
    assert np.array_equal(repeated, np.insert(sent, SLIP, sent[SLIP]))
    dropped = channel.apply(sent, Faults(slips=((SLIP, -1),)))
    assert np.array_equal(dropped, np.delete(sent, SLIP))
    # a slip at 0 and at the last bit
    assert np.array_equal(channel.apply(sent, Faults(slips=((0, -1),))), sent[1:])
    assert np.array_equal(channel.apply(sent, Faults(slips=((LENGTH - 1, 1),))),
                          np.append(sent, sent[-1]))


EDGES = [START, START + BURST, FLIP, FLIP + 1, SLIP, SLIP + 1]


@pytest.mark.parametrize("cut", sorted({e + d for e in EDGES for d in (-1, 0, 1)}))
def test_pieces_cut_on_each_fault_edge_give_the_whole_stream(cut):
    faults = Faults(flips=(FLIP,), bursts=((START, BURST),), slips=((SLIP, 1), (SLIP + 1, -1)),
                    seed=8)
    sent = sent_against_burst(faults, START, BURST)
    whole = channel.apply(sent, faults)
    line = BitChannel(faults)
    pieces = np.concatenate([line.push(sent[:cut]), line.push(sent[cut:])])
    assert np.array_equal(pieces, whole)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"flips": (-1,)}, "flip index is negative"),
    ({"bursts": ((-1, 4),)}, "negative start"),
    ({"bursts": ((3, 0),)}, "length below 1"),
    ({"slips": ((5, 0),)}, "slips must be"),
    ({"slips": ((5, 2),)}, "slips must be"),
    ({"slips": ((5, 1), (5, -1))}, "slips must be"),
    ({"slips": ((6, 1), (5, -1))}, "slips must be"),
    ({"slips": ((-1, 1),)}, "slips must be"),
])
def test_faults_one_step_outside_their_ranges_are_refused(kwargs, match):
    with pytest.raises(ChannelError, match=match):
        Faults(**kwargs)


def test_faults_on_their_range_ends_are_taken():
    Faults(flips=(0,), bursts=((0, 1),), slips=((0, 1), (1, -1)))
    for rate in (0.0, 1.0):
        channel.random_faults(64, 1, ber=rate, burst_rate=rate, burst_bits=2, slip_rate=rate)
        channel.line_faults(64, 1, ber=rate, fade_rate=rate, fade_bits=2, slip_rate=rate)


@pytest.mark.parametrize("rate", [-1e-12, 1 + 1e-12])
@pytest.mark.parametrize("name", ["ber", "burst_rate", "slip_rate"])
def test_rates_just_outside_0_to_1_are_refused(name, rate):
    with pytest.raises(ChannelError, match=f"{name}={rate} is outside 0..1"):
        channel.random_faults(64, 1, **{name: rate})
    if name != "burst_rate":
        with pytest.raises(ChannelError, match=f"{name}={rate} is outside 0..1"):
            channel.line_faults(64, 1, **{name: rate})
