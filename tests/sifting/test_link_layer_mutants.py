"""GroundLink's record-store gate, directed (white box): the framer never waits on the record
store. A report is let into the framer only while the store has a place for it (``held`` counts
the reports let in and not yet read out); at ``store_depth`` it is dropped and counted in
``store_full``. Here no sift message ever comes back, so the store fills and stays full."""

import numpy as np
from amaranth.hdl import Value

from models.constants import SAMPLE_SEED
from rtl.sifting.link_layer import GroundLink
from tb import pysim
from tb.sifting.stimulus import detections, record_values

P, STORE, FRAMES = 32, 4, 8


def test_framer_never_waits_on_a_full_record_store():
    # A burst of detections on consecutive pulses: reports reach the gate back to back.
    pulse, basis, bit = detections(np.random.default_rng(4), 3 * P, 3 * P)
    dut = GroundLink(frame_pulses=P, ground_seed=SAMPLE_SEED, packet_bits=16, frame_depth=128,
                     store_depth=STORE, window=2, slot_words=4, close_lag=4)
    record = dut._framer.record  # the framer's output into the store
    stalls: list[int] = []
    final = {}

    async def detector_and_clock(ctx):
        ctx.set(dut.up.ready, 1)
        records = dict(zip(pulse.tolist(), record_values(pulse, basis, bit), strict=True))
        for cycle in range((FRAMES + 2) * P):
            ctx.set(dut.now, cycle)
            ctx.set(dut.det.valid, cycle in records)
            ctx.set(Value.cast(dut.det.payload), records.get(cycle, 0))
            _, _, valid, ready = await ctx.tick().sample(record.valid, record.ready)
            if valid and not ready:
                stalls.append(cycle)
        final["store_full"] = ctx.get(dut.store_full)

    pysim.run(dut, detector_and_clock)
    assert stalls == []
    assert final["store_full"] > len(pulse) // 2
