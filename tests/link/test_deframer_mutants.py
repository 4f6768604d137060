"""Deframer overrun inside a message: with the output stalled, the data words that find the
FIFO without two free places are dropped and each one is counted, the message's last word
goes in flagged as aborted."""

from models.link.line_code import HEADER_CONTROL, HEADER_DATA, Control, control_body
from tb.link.pysim_bench import run_deframer

START, END = (control_body(c) for c in (Control.START, Control.END))


def test_data_words_past_a_full_fifo_are_each_counted_as_overrun():
    depth, words = 4, 10
    blocks = [(HEADER_CONTROL, START), *((HEADER_DATA, 100 + k) for k in range(words)),
              (HEADER_CONTROL, END)]
    got = run_deframer(blocks, depth=depth, stall=0.9, seed=1)
    # depth - 1 data words fit (the last place is kept for the last word); the burst outruns
    # the stalled output, so the others but the last are lost, each counted
    kept = depth - 1
    assert got.counters["overrun"] == words - kept - 1
    assert got.beats == [*((100 + k, 0, 0) for k in range(kept)), (100 + words - 1, 1, 1)]
