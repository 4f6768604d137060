"""Deframer in the Amaranth simulator against :func:`models.link.receiver.deframe`: seeded
messages and sync words with every kind of damage a block can carry (invalid headers, unknown
or malformed controls, lost START or END, a START inside a message, empty messages), idle on
the input and backpressure on the output."""

import numpy as np
import pytest

from models.link import framing, receiver
from models.link.line_code import HEADER_CONTROL, HEADER_DATA, TYPE_BITS, Control, control_body
from rtl.link.deframer import DEFRAMER_COUNTERS
from tb.link.pysim_bench import run_deframer
from tb.link.stimulus import random_messages

START, END, IDLE = (control_body(c) for c in (Control.START, Control.END, Control.IDLE))


def _damaged_blocks(seed: int) -> list[tuple[int, int]]:
    headers, bodies = framing.frame(random_messages(seed, 40), sync_every=13, gap=1)
    blocks = list(zip(headers.tolist(), bodies.tolist(), strict=True))
    rng = np.random.default_rng(seed)
    for n in rng.choice(len(blocks), 30, replace=False).tolist():
        b = blocks[n][1]
        blocks[n] = [
            (int(rng.choice([0, 3])), b),  # invalid header
            (HEADER_CONTROL, 0x55),  # unknown type
            (HEADER_CONTROL, int(Control.END) | 1 << TYPE_BITS),  # END with an argument
            (HEADER_CONTROL, IDLE),  # a START or END lost
            (HEADER_CONTROL, START),  # a START inside a message
            (HEADER_DATA, b),  # a control turned data
        ][int(rng.integers(6))]
    return [(HEADER_CONTROL, START), (HEADER_CONTROL, END), *blocks]  # an empty message first


@pytest.mark.parametrize("seed", [1, 2])
def test_every_beat_sync_and_counter_matches_the_model(seed):
    blocks = _damaged_blocks(seed)
    want = receiver.deframe(blocks)
    got = run_deframer(blocks, idle=0.4, stall=0.3, seed=seed)
    assert got.beats == want.beats
    assert got.syncs == want.syncs
    assert {k: got.counters[k] for k in receiver.COUNTERS if k in got.counters} == \
        {k: v for k, v in want.counters.items() if k in DEFRAMER_COUNTERS}
    assert got.counters["overrun"] == got.counters["sync_dropped"] == 0
    c = want.counters
    assert c["aborted"] and c["stray"] and c["bad_controls"] and c["messages"] > 10
