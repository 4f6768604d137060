"""UplinkFramer, directed: ``closed`` counts the frames closed one by one (the ground's sift
receiver waits on it), and ``max_repeats=1`` sends every frame exactly once."""

import numpy as np
from amaranth.hdl import Value

from models.sifting.messages import encode_uplink
from rtl.sifting.uplink_framer import UplinkFramer
from tb import pysim
from tb.sifting.stimulus import split_copies

P, LAG, FRAMES = 16, 4, 6


def test_closed_counts_each_frame_and_one_repeat_sends_each_frame_once():
    dut = UplinkFramer(frame_pulses=P, depth=64, max_repeats=1, close_lag=LAG)
    beats: list[int] = []
    closed: list[tuple[int, int]] = []  # (now, closed) each cycle

    async def clock(ctx):
        ctx.set(dut.o.ready, 1)
        for now in range(FRAMES * P + LAG + 40):
            ctx.set(dut.now, min(now, FRAMES * P + LAG))  # exactly FRAMES frames close
            _, _, valid, payload, count = await ctx.tick().sample(
                dut.o.valid, Value.cast(dut.o.payload), dut.closed)
            if valid:
                beats.append(payload)
            closed.append((now, count))

    pysim.run(dut, clock)
    copies = split_copies(beats)
    empty = np.zeros(0, np.uint64)
    # Empty frames are frames too: each sent once, in order, with the ack it carried (0).
    assert [c.tolist() for c in copies] == [
        encode_uplink(seq, 0, empty, empty, empty, empty, (P - 1).bit_length()).tolist()
        for seq in range(FRAMES)]
    counts = [c for _, c in closed]
    assert counts[-1] == FRAMES and set(np.diff(counts).tolist()) == {0, 1}
    # Frame j closes in the cycle `now` reaches (j + 1) P + close_lag (sampled at that edge,
    # `closed` shows it from the next one).
    first = [next(now for now, c in closed if c > j) for j in range(FRAMES)]
    assert [f - ((j + 1) * P + LAG) for j, f in enumerate(first)] == [1] * FRAMES
