"""PhyTx in the Amaranth simulator: every message and sync request on the line, bit-exact."""

import numpy as np
import pytest

from models.link import framing, line_code
from models.link.line_code import HEADER_CONTROL, TYPE_BITS, Control
from tb.link.pysim_bench import run_tx
from tb.link.stimulus import random_messages


def _check(capture, msgs, syncs):
    blocks = np.asarray(capture.blocks, dtype=np.uint64)
    headers, bodies, _ = line_code.decode(blocks)
    got, got_syncs = framing.items(headers, bodies)
    assert got == msgs
    assert got_syncs == [k for _, k in syncs]
    # the exact line: the model encoder gives the same bits for the same blocks
    assert np.array_equal(line_code.encode(headers, bodies)[0], blocks)
    for slot, (_, k) in zip(capture.sync_slots, syncs, strict=True):
        assert headers[slot] == HEADER_CONTROL
        assert int(bodies[slot]) == int(Control.SYNC) | k << TYPE_BITS
    return headers, bodies


@pytest.mark.parametrize("seed", [1, 2])
def test_random_messages_with_idle_backpressure_and_syncs(seed):
    msgs = random_messages(seed, 25)
    rng = np.random.default_rng(seed)
    cycles = np.sort(rng.choice(600, 12, replace=False))
    syncs = [(int(c), int(k)) for c, k in zip(cycles, rng.integers(0, 1 << 24, 12), strict=True)]
    capture = run_tx(msgs, syncs, idle=0.3, stall=0.4, seed=seed)
    _, bodies = _check(capture, msgs, syncs)
    assert (bodies == Control.IDLE).any()  # the source paused: IDLE filled the line


def test_sync_goes_out_in_the_block_loaded_the_cycle_it_is_requested():
    """With the serialiser taking every block, block i is loaded in cycle i: a sync request
    raised in cycle c is block c, also in the middle of a message (fixed latency)."""
    msgs = [list(range(1, 40))]
    syncs = [(3, 5), (10, 6), (11, 7), (30, 8)]
    capture = run_tx(msgs, syncs)
    _check(capture, msgs, syncs)
    assert capture.sync_slots == [3, 10, 11, 30]


def test_an_idle_source_gives_idle_blocks_only():
    capture = run_tx([], [], tail=40)
    headers, bodies, _ = line_code.decode(np.asarray(capture.blocks, dtype=np.uint64))
    assert (headers == HEADER_CONTROL).all() and (bodies == Control.IDLE).all()
