"""SiftSender, directed: the message being sent keeps its ring words while the acknowledgement
moves past it (``keep`` is the older of the message being sent and ``acked``)."""

import random

import numpy as np
from amaranth.hdl import Value

from models.sifting.messages import decode_sift, encode_sift
from rtl.common.payload import pack_array, unpack
from rtl.sifting.crc_append import MessageWord
from rtl.sifting.sift_sender import SiftSender
from rtl.sifting.uplink_receiver import FrameBeat
from tb import pysim
from tb.sifting.stimulus import split_copies

DEPTH, WINDOW, COUNT = 16, 4, 40  # a 40-entry message is 7 ring words: two fill the ring


def test_copy_under_way_keeps_its_words_when_the_ack_passes_it():
    """Messages 0 and 1 fill the ring and message 2 waits for room; message 0's copy has
    started but ``o`` is stalled. The ground acknowledges both: the builder may not write
    message 2 over message 0's words before that copy has gone out whole."""
    nrng = np.random.default_rng(3)
    codes = [nrng.integers(0, 16, COUNT).astype(np.uint8) for _ in range(3)]
    frames = pack_array(FrameBeat, {"seq": np.arange(3), "count": np.full(3, COUNT),
                                    "missing": np.zeros(3, np.uint8)}).tolist()
    entries = [int(c) for code in codes for c in code]
    dut = SiftSender(depth=DEPTH, window=WINDOW)
    beats: list[int] = []
    seen = {}

    async def ground(ctx):
        await ctx.tick().repeat(150)  # o stalled: messages 0 and 1 built, message 2 waits
        seen["built"] = ctx.get(dut.built)
        ctx.set(dut.ack, 2)
        await ctx.tick().repeat(60)
        ctx.set(dut.o.ready, 1)
        for _ in range(200):
            _, _, valid, payload = await ctx.tick().sample(dut.o.valid, Value.cast(dut.o.payload))
            if valid:
                beats.append(payload)

    rng = random.Random(3)
    pysim.run(dut, ground, background=[pysim.producer(dut.frame, frames, rng),
                                       pysim.producer(dut.entry, entries, rng)])
    copies = split_copies(beats)
    assert seen["built"] == 2
    first = copies[0]
    assert decode_sift(first) is not None and first.tolist() == encode_sift(0, codes[0]).tolist()
    # Then message 2, built once the ring had room; nothing of message 1 (acknowledged).
    assert [int(c[1]) for c in copies] == [0] + [2] * (len(copies) - 1) and len(copies) > 1
    assert all(c.tolist() == encode_sift(2, codes[2]).tolist() for c in copies[1:])
    assert unpack(MessageWord, beats[len(first) - 1])["last"]
