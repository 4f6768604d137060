"""PhyRx in the Amaranth simulator against :func:`models.link.receiver.receive`: every beat,
sync word, counter and the lock status after every received word; directed cases for the
alignment offsets, the lock and unlock thresholds, bit slips, long bursts and overrun."""

import numpy as np
import pytest

from models.link import channel, line_code, receiver
from models.link.line_code import BLOCK_BITS
from models.link.receiver import COUNTERS, RxConfig
from rtl.link.rx import PhyRx
from tb.link.pysim_bench import run_rx
from tb.link.stimulus import break_headers, is_subsequence, line_bits, random_messages

SMALL = RxConfig(lock_good=8, lock_bad=4, window=16)


def _compare(bits, config, **kwargs):
    """Run the RTL on ``bits``; assert it equals the model; return the model's result."""
    want = receiver.receive(bits, config)
    got = run_rx(line_code.bits_to_words(bits).tolist(), config, **kwargs)
    assert got.beats == want.beats
    assert got.syncs == want.syncs
    assert {k: got.counters[k] for k in COUNTERS} == want.counters
    assert got.lock_trace == want.lock_trace
    assert (got.locked, got.offset) == (want.locked, want.offset)
    assert got.counters["overrun"] == 0 and got.counters["sync_dropped"] == 0
    return want


@pytest.mark.parametrize("seed", [1, 2])
def test_random_faults_idle_and_backpressure_match_the_model(seed):
    msgs = random_messages(seed, 40)
    bits = line_bits(msgs, lead=100, sync_every=23, gap=2, skew=seed * 11, seed=seed)
    faults = channel.random_faults(len(bits), seed, ber=3e-4, burst_rate=2e-4, burst_bits=400,
                                   slip_rate=1e-4)
    want = _compare(channel.apply(bits, faults), SMALL, idle=0.3, stall=0.3, seed=seed)
    delivered = receiver.messages(want.beats)
    assert want.counters["messages"] > 10 and want.counters["lock_losses"] >= 1
    assert is_subsequence(delivered, msgs) or want.counters["bad_controls"] + len(faults.flips)


def test_clean_line_delivers_every_message_and_sync():
    msgs = random_messages(3, 30)
    bits = line_bits(msgs, lead=100, sync_every=17, skew=5)
    want = _compare(bits, SMALL, idle=0.5, stall=0.5, seed=3)
    assert receiver.messages(want.beats) == [(m, False) for m in msgs]
    assert want.syncs and np.all(np.diff(want.syncs) == 1)
    assert want.counters["aborted"] == want.counters["stray"] == 0


def test_alignment_at_every_bit_offset():
    msgs = random_messages(4, 3, longest=4)
    config = RxConfig(lock_good=16, lock_bad=4, window=16)
    for skew in range(BLOCK_BITS):
        want = _compare(line_bits(msgs, lead=130, skew=skew, seed=skew), config)
        assert want.locked and want.offset == skew and want.counters["locks"] == 1
        assert receiver.messages(want.beats) == [(m, False) for m in msgs]


# Directed streams: one junk bit in front, so that after the first word (the reset-zero window,
# an invalid header: offset 0 -> 1) block b is judged at word b + 1, at offset 1.
SKEW = 1


def _idle_stream(blocks):
    return line_bits([], lead=blocks, skew=SKEW)


@pytest.mark.parametrize("good", [SMALL.lock_good - 1, SMALL.lock_good])
def test_lock_needs_exactly_lock_good_valid_headers(good):
    bits = break_headers(_idle_stream(40), [good], SKEW)
    want = _compare(bits, SMALL)
    # the good-th block (counting from 1) is judged at word `good`
    assert want.lock_trace[good] is (good == SMALL.lock_good)
    assert not any(want.lock_trace[:good])


@pytest.mark.parametrize("bad", [SMALL.lock_bad - 1, SMALL.lock_bad])
def test_lock_is_lost_at_exactly_lock_bad_invalid_headers_in_a_window(bad):
    locked_at = SMALL.lock_good  # word index after which the lock holds
    first = SMALL.lock_good  # block index of the first locked block (window starts here)
    broken = [first + 2 * i for i in range(bad)]
    bits = break_headers(_idle_stream(first + SMALL.window + 20), broken, SKEW)
    want = _compare(bits, SMALL)
    assert want.lock_trace[locked_at]
    assert want.counters["bad_headers"] == bad
    last = broken[-1] + 1  # word that judges the last broken block
    assert want.lock_trace[last] is (bad < SMALL.lock_bad)
    assert want.counters["lock_losses"] == (bad == SMALL.lock_bad)


def test_bad_headers_spread_over_two_windows_keep_the_lock():
    first = SMALL.lock_good
    broken = [first + SMALL.window - 2, first + SMALL.window - 1, first + SMALL.window,
              first + SMALL.window + 1]  # 2 + 2 across the window boundary: never 4 in one
    want = _compare(break_headers(_idle_stream(first + 2 * SMALL.window), broken, SKEW), SMALL)
    assert want.locked and want.counters["lock_losses"] == 0
    assert want.counters["bad_headers"] == 4


@pytest.mark.parametrize("way", [1, -1])
def test_bit_slip_realigns_and_is_counted(way):
    msgs = random_messages(5, 30, longest=6)
    bits = line_bits(msgs, lead=60, skew=7, seed=5)
    at = 7 + 150 * BLOCK_BITS + 10
    want = _compare(channel.apply(bits, channel.Faults(slips=((at, way),))), SMALL,
                    idle=0.2, stall=0.2, seed=5)
    assert want.counters["lock_losses"] == 1 and want.counters["slips"] == 1
    assert want.counters["locks"] == 2 and want.locked
    assert want.offset == (7 + way) % BLOCK_BITS
    delivered = receiver.messages(want.beats)
    assert is_subsequence(delivered, msgs)
    assert delivered[-1] == (msgs[-1], False)  # traffic after the slip gets through


def test_burst_longer_than_the_lock_loss_limit_loses_lock_without_a_slip():
    msgs = random_messages(6, 30, longest=6)
    bits = line_bits(msgs, lead=60, skew=20, seed=6)
    burst = (20 + 100 * BLOCK_BITS + 3, 40 * BLOCK_BITS)  # 40 blocks of noise, inside a message
    want = _compare(channel.apply(bits, channel.Faults(bursts=(burst,), seed=6)), SMALL,
                    idle=0.2, stall=0.2, seed=6)
    c = want.counters
    assert c["lock_losses"] >= 1 and c["slips"] == 0 and c["locks"] == c["lock_losses"] + 1
    assert c["aborted"] >= 1
    delivered = receiver.messages(want.beats)
    assert any(aborted for _, aborted in delivered)
    assert is_subsequence(delivered, msgs) and delivered[-1] == (msgs[-1], False)


def test_overrun_drops_and_flags_a_message_never_delivers_a_hole():
    msgs = random_messages(7, 20, longest=10)
    bits = line_bits(msgs, lead=30, skew=3)
    got = run_rx(line_code.bits_to_words(bits).tolist(), SMALL, depth=4, stall=0.9, seed=7)
    want = receiver.receive(bits, SMALL)
    assert got.counters["overrun"] > 0
    assert {k: got.counters[k] for k in COUNTERS} == want.counters
    delivered = receiver.messages(got.beats)
    assert any(aborted for _, aborted in delivered)
    assert is_subsequence(delivered, msgs)
    assert got.beats[-1][1] == 1  # the stream ends on a last beat: no message left open


def test_a_sync_counter_not_taken_holds_and_the_next_ones_are_dropped():
    bits = line_bits(random_messages(8, 4), lead=60, sync_every=9, skew=12)
    want = receiver.receive(bits, SMALL)
    got = run_rx(line_code.bits_to_words(bits).tolist(), SMALL, sync_ready=False)
    assert len(want.syncs) > 3 and got.syncs == []
    assert got.counters["sync_dropped"] == len(want.syncs) - 1
    assert got.beats == want.beats


def test_a_deframer_fifo_below_two_words_is_refused():
    with pytest.raises(ValueError, match="depth=1"):
        PhyRx(SMALL, depth=1)
