"""Golden models of the link PHY: line code, framing, channel faults, receiver rules."""

import numpy as np
import pytest

from models.link import channel, framing, line_code, receiver
from models.link.line_code import BLOCK_BITS, HEADER_CONTROL, HEADER_DATA, Control
from models.sifting.messages import CRC_POLY, crc32_words


def _messages(rng: np.random.Generator, count: int, longest: int = 12) -> list[list[int]]:
    return [[int(w) for w in rng.integers(0, 1 << 32, rng.integers(1, longest + 1))]
            for _ in range(count)]


def _serial_scramble(bits: np.ndarray) -> np.ndarray:
    s = np.zeros(len(bits), dtype=np.uint8)
    for n, d in enumerate(bits):
        s[n] = d ^ (s[n - 39] if n >= 39 else 0) ^ (s[n - 58] if n >= 58 else 0)
    return s


def test_scrambler_is_x58_x39_1_over_the_bodies_in_sending_order():
    rng = np.random.default_rng(1)
    headers, bodies = framing.frame(_messages(rng, 8), sync_every=7, gap=1)
    words, _ = line_code.encode(headers, bodies, history=0)
    sent = line_code.words_to_bits(words >> np.uint64(2), 32)
    assert np.array_equal(sent, _serial_scramble(line_code.words_to_bits(bodies, 32)))
    assert np.array_equal(words & np.uint64(3), headers)
    back_h, back_b, _ = line_code.decode(words, history=0)
    assert np.array_equal(back_h, headers) and np.array_equal(back_b, bodies)


def test_descrambler_synchronises_itself_after_58_bits():
    rng = np.random.default_rng(2)
    bodies = rng.integers(0, 1 << 32, 20).astype(np.uint64)
    words, _ = line_code.encode(np.full(20, HEADER_DATA, dtype=np.uint8), bodies)
    _, got, _ = line_code.decode(words, history=(1 << 58) - 1)  # wrong history
    assert not np.array_equal(got[:2], bodies[:2])
    assert np.array_equal(got[2:], bodies[2:])  # 64 >= 58 bits later


def test_line_has_a_transition_every_34_bits_and_is_balanced():
    headers, bodies = framing.frame([], lead=20_000)  # idle only: the worst input
    bits = line_code.words_to_bits(line_code.encode(headers, bodies)[0])
    edges = np.flatnonzero(np.diff(bits.astype(np.int8)))
    assert np.diff(edges).max() <= BLOCK_BITS
    assert abs(bits.mean() - 0.5) < 0.01


def test_framing_round_trip_and_grammar():
    rng = np.random.default_rng(3)
    msgs = _messages(rng, 20)
    headers, bodies = framing.frame(msgs, sync_every=5, gap=2, lead=3, first_sync=(1 << 24) - 2)
    got, syncs = framing.items(headers, bodies)
    assert got == msgs
    assert syncs[:3] == [(1 << 24) - 2, (1 << 24) - 1, 0]
    with pytest.raises(framing.FramingError, match="data outside a message"):
        framing.items(np.array([HEADER_DATA], dtype=np.uint8), np.array([1], dtype=np.uint64))
    start = line_code.control_body(Control.START)
    with pytest.raises(framing.FramingError, match="START inside"):
        framing.items(np.array([HEADER_CONTROL] * 2, dtype=np.uint8),
                      np.array([start, start], dtype=np.uint64))
    with pytest.raises(framing.FramingError, match="at least one word"):
        framing.frame([[]])
    with pytest.raises(ValueError, match="argument"):
        line_code.control_body(Control.END, 1)


def test_channel_faults_act_on_bit_indices_whatever_the_pieces():
    rng = np.random.default_rng(4)
    bits = rng.integers(0, 2, 3000).astype(np.uint8)
    faults = channel.Faults(flips=(5, 700), bursts=((1000, 90),), slips=((1500, 1), (2000, -1),
                                                                          (2001, 1)), seed=9)
    whole = channel.apply(bits, faults)
    pieces = channel.BitChannel(faults)
    chunked = np.concatenate([pieces.push(bits[i:i + 37]) for i in range(0, len(bits), 37)])
    assert np.array_equal(whole, chunked)
    assert len(whole) == len(bits) + 1
    assert whole[5] != bits[5] and whole[700] != bits[700]
    assert np.array_equal(whole[1000:1090], faults.burst_bits(1000, 90))
    # +1 at 1500: bit 1500 twice; -1 at 2000: bit 2000 gone; +1 at 2001: bit 2001 twice
    assert np.array_equal(whole[1090:1501], bits[1090:1501])
    assert np.array_equal(whole[1501:2001], bits[1500:2000])
    assert np.array_equal(whole[2001:2003], bits[[2001, 2001]])
    assert np.array_equal(whole[2003:], bits[2002:])


@pytest.mark.parametrize("bad", [
    {"flips": (-1,)}, {"bursts": ((5, 0),)}, {"slips": ((9, 2),)}, {"slips": ((9, 1), (3, -1))},
])
def test_bad_faults_are_refused(bad):
    with pytest.raises(channel.ChannelError):
        channel.Faults(**bad)


def test_random_faults_are_seeded():
    a = channel.random_faults(10_000, seed=5, ber=1e-3, burst_rate=1e-4, burst_bits=50,
                              slip_rate=1e-4)
    assert a == channel.random_faults(10_000, seed=5, ber=1e-3, burst_rate=1e-4, burst_bits=50,
                                      slip_rate=1e-4)
    assert a.flips and a.bursts and a.slips
    with pytest.raises(channel.ChannelError, match="ber"):
        channel.random_faults(10, seed=0, ber=2.0)


@pytest.mark.parametrize("kwargs", [{"lock_good": 1}, {"lock_bad": 0}, {"lock_bad": 9,
                                                                         "window": 8}])
def test_bad_lock_thresholds_are_refused(kwargs):
    with pytest.raises(receiver.RxConfigError):
        receiver.RxConfig(**kwargs)


def test_receiver_model_locks_at_every_offset_and_delivers_every_message():
    rng = np.random.default_rng(6)
    msgs = _messages(rng, 6)
    headers, bodies = framing.frame(msgs, sync_every=16, lead=160, gap=2)
    bits = line_code.words_to_bits(line_code.encode(headers, bodies)[0])
    config = receiver.RxConfig(lock_good=16, lock_bad=4, window=16)
    for offset in range(BLOCK_BITS):
        noise = rng.integers(0, 2, offset).astype(np.uint8)
        got = receiver.receive(np.concatenate([noise, bits]), config)
        assert got.offset == offset and got.locked
        assert got.counters["locks"] == 1 and got.counters["slips"] == 0
        assert receiver.messages(got.beats) == [(m, False) for m in msgs]


def test_every_single_line_error_in_a_message_is_caught_by_the_crc_or_the_phy():
    """The scrambler triples a line error (bits n, n+39, n+58 of the bodies); whatever its place,
    the link layer's CRC-32 rejects the copy, or the PHY aborts or loses it: no bad copy passes."""
    words = [0x5C000004, 7, 0x12345678, 0x9ABCDEF0, 0x0F0F0F0F]
    message = [*words, crc32_words(np.asarray(words, dtype=np.uint32))]
    lead = 130
    headers, bodies = framing.frame([message], lead=lead, tail=3)
    bits = line_code.words_to_bits(line_code.encode(headers, bodies)[0])
    config = receiver.RxConfig(lock_good=16)
    assert receiver.messages(receiver.receive(bits, config).beats) == [(message, False)]
    first, end = lead * BLOCK_BITS, (lead + len(message) + 3) * BLOCK_BITS  # START .. after END
    for n in range(first, end):
        got = receiver.messages(receiver.receive(channel.apply(bits, channel.Faults(flips=(n,))),
                                                 config).beats)
        for copy, aborted in got:
            good = crc32_words(np.asarray(copy[:-1], dtype=np.uint32)) == copy[-1]
            assert aborted or not good or copy == message, f"line bit {n}"


def test_a_tripled_error_is_never_a_multiple_of_the_crc_polynomial():
    """A line error at body bit ``j`` of a word becomes errors at stream bits ``j``, ``j + 39``,
    ``j + 58``; in the CRC's order (words MSB first) those are three bits whose pattern depends on
    ``j`` only. None of the 32 patterns is a multiple of the CRC-32 generator, so CRC-32 catches
    a tripled error in a message of any length (and one or two of the three, cut off by the
    message's end, are caught as any one or two bit errors are)."""
    generator = 1 << 32 | CRC_POLY

    def remainder(value: int) -> int:
        while value.bit_length() > 32:
            value ^= generator << (value.bit_length() - 33)
        return value

    for j in range(32):
        places = [32 * (n // 32) + 31 - n % 32 for n in (j, j + 39, j + 58)]
        pattern = sum(1 << (p - min(places)) for p in places)
        assert remainder(pattern) != 0, j
