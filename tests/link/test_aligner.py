"""BlockAligner in the Amaranth simulator: the descrambled blocks it passes on, its lock status
after every received word, its offset and counters equal the model's
(:func:`models.link.receiver.receive`), over a line with bit errors, bursts and slips."""

import pytest

from models.link import channel, line_code, receiver
from models.link.receiver import RxConfig
from rtl.link.aligner import ALIGNER_COUNTERS
from tb.link.pysim_bench import run_aligner
from tb.link.stimulus import line_bits, random_messages

CONFIG = RxConfig(lock_good=8, lock_bad=3, window=8)


@pytest.mark.parametrize("seed", [1, 3])  # both with slips and lock losses
def test_blocks_lock_and_counters_match_the_model(seed):
    bits = line_bits(random_messages(seed, 30), lead=90, sync_every=11, skew=seed * 13,
                     seed=seed)
    faults = channel.random_faults(len(bits), seed, ber=5e-4, burst_rate=2e-4, burst_bits=300,
                                   slip_rate=2e-4)
    received = channel.apply(bits, faults)
    want = receiver.receive(received, CONFIG)
    got = run_aligner(line_code.bits_to_words(received).tolist(), CONFIG, idle=0.3, seed=seed)
    assert got.blocks == want.blocks
    assert got.lock_trace == want.lock_trace
    assert got.counters == {k: want.counters[k] for k in ALIGNER_COUNTERS}
    assert (got.locked, got.offset) == (want.locked, want.offset)
    assert want.counters["lock_losses"] >= 1 and want.counters["slips"] >= 1


def test_lock_at_the_offset_whose_header_spans_two_words():
    """Blocks at offset 33: the second header bit of each is the next word's first bit."""
    bits = line_bits(random_messages(5, 6), lead=80, skew=33, seed=5)
    bits = channel.apply(bits, channel.random_faults(len(bits), 5, ber=1e-3))
    want = receiver.receive(bits, CONFIG)
    got = run_aligner(line_code.bits_to_words(bits).tolist(), CONFIG, idle=0.3, seed=5)
    assert got.blocks == want.blocks and got.lock_trace == want.lock_trace
    assert got.counters == {k: want.counters[k] for k in ALIGNER_COUNTERS}
    assert (got.locked, got.offset) == (want.locked, want.offset) == (True, 33)
