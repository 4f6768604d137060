"""GroundLink's record store in the Amaranth simulator: a full store never stalls the uplink.

With no sift message coming back (a downlink or uplink outage), the ground's records of
unanswered frames fill the store. The reports that find it full are dropped before the uplink
framer and counted (``store_full``): the satellite never sees them, so both sides drop them, and
the framer keeps closing and sending frames on time (a store that stalled the framer would hold
its open frame and stop the uplink).
"""

import random

import numpy as np
from amaranth.hdl import Value

from models.constants import SAMPLE_SEED
from models.sifting.messages import decode_uplink
from rtl.sifting.link_layer import GroundLink
from tb import pysim
from tb.sifting.stimulus import detections, record_values, split_copies

P = 64
STORE = 16
FRAMES = 20


def test_full_store_drops_before_framing_and_never_stalls_the_uplink():
    nrng = np.random.default_rng(8)
    pulse, basis, bit = detections(nrng, 6 * FRAMES, FRAMES * P)
    dut = GroundLink(frame_pulses=P, ground_seed=SAMPLE_SEED, packet_bits=16,
                     frame_depth=256, store_depth=STORE, window=2, slot_words=4, close_lag=8)
    rng = random.Random(8)
    words: list[int] = []
    final = {}

    async def detector_and_clock(ctx):
        cycle = 0
        for n, record in zip(pulse.tolist(), record_values(pulse, basis, bit), strict=True):
            while cycle < n:
                ctx.set(dut.now, cycle)
                await ctx.tick()
                cycle += 1
            await pysim.stream_put(ctx, dut.det, record)
            cycle += 1
        for now in range(cycle, (FRAMES + 3) * P):
            ctx.set(dut.now, now)
            await ctx.tick()
        final["store_full"] = ctx.get(dut.store_full)
        final["overflow"] = ctx.get(dut.overflow)
        final["late"] = ctx.get(dut.late)

    async def uplink(ctx):  # the link takes a word every other cycle at most
        ctx.set(dut.up.ready, 1)
        while True:
            _clk, _rst, valid, ready, payload = await ctx.tick().sample(
                dut.up.valid, dut.up.ready, Value.cast(dut.up.payload))
            if valid and ready:
                words.append(payload)
            ctx.set(dut.up.ready, rng.random() < 0.5)

    pysim.run(dut, detector_and_clock, background=[uplink])
    frames = {}
    for c in split_copies(words):
        frame = decode_uplink(c)
        assert frame is not None
        frames.setdefault(frame.seq, frame)
    # Every frame period was closed and sent, although no sift message ever came back.
    assert sorted(frames) == list(range(len(frames))) and len(frames) >= FRAMES
    framed = np.concatenate([seq * P + frames[seq].offset.astype(np.int64) for seq in
                             sorted(frames)])
    # The store (plus the receiver's input register) held the first reports; the rest were
    # dropped before framing, counted, and never sent.
    assert final["overflow"] == 0 and final["late"] == 0
    assert final["store_full"] == len(pulse) - len(framed) > 0
    assert framed.tolist() == pulse[:len(framed)].astype(np.int64).tolist()
    assert STORE <= len(framed) <= STORE + 2
