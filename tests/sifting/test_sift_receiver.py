"""Ground sift-message receiver RTL against the ground endpoint of models.sifting.classical_link."""

import random

import numpy as np
import pytest
from amaranth.hdl import Value

from models.sifting.entries import SiftCode
from models.sifting.messages import decode_sift, encode_sift
from rtl.sifting.sift_receiver import SiftReceiver
from tb import pysim
from tb.sifting.stimulus import message_beats, report_values

P = 64
WINDOW = 4


def scenario(seed: int, frames: int):
    """Ground records per frame, the satellite's messages, and copies as a lossy link delivers
    them: lost, repeated, corrupted, out of order (the sender's cycles restart at the oldest)."""
    nrng = np.random.default_rng(seed)
    records, messages = [], []
    for seq in range(frames):
        count = int(nrng.integers(0, 14))
        pulse = seq * P + np.sort(nrng.choice(P, count, replace=False))
        basis, sampled, bit = nrng.integers(2, size=(count, 3)).T
        records.append(report_values(pulse, basis, sampled, bit))
        lost = seq < frames - 1 and nrng.random() < 0.2
        messages.append(None if lost else nrng.integers(0, 8, count).astype(np.uint8))
    words = [encode_sift(seq, code) for seq, code in enumerate(messages)]
    copies = []
    for start in range(0, frames, 3):  # resend cycles from an advancing oldest message
        for seq in range(max(0, start - 2), min(frames, start + 6)):
            if nrng.random() < 0.3:
                continue
            copy = words[seq]
            if nrng.random() < 0.15:
                copy = copy.copy()
                copy[nrng.integers(len(copy))] ^= np.uint32(1 << int(nrng.integers(32)))
            copies.append(copy)
    copies += words  # a last clean cycle: every message arrives
    return records, messages, copies


def expected_pairs(records, messages) -> list[tuple[int, int]]:
    pairs = []
    for recs, code in zip(records, messages, strict=True):
        codes = [int(SiftCode.MISSING)] * len(recs) if code is None else code.tolist()
        pairs += list(zip(recs, codes, strict=True))
    return pairs


@pytest.mark.parametrize("seed", [1, 2])
def test_receiver_sifts_every_message_in_order(seed):
    frames = 20
    records, messages, copies = scenario(seed, frames)
    want = expected_pairs(records, messages)
    dut = SiftReceiver(frame_pulses=P, window=WINDOW, slot_words=8)
    rng = random.Random(seed)
    beats = message_beats(copies)
    got_records: list[int] = []
    got_entries: list[int] = []
    final = {}

    async def link(ctx) -> None:
        # The downlink cannot be stalled: `i` is always ready; words come with idle gaps.
        for beat in beats:
            ctx.set(dut.i.valid, 1)
            ctx.set(Value.cast(dut.i.payload), beat)
            await ctx.tick()
            ctx.set(dut.i.valid, 0)
            while rng.random() < 0.8:
                await ctx.tick()
        for _ in range(300):
            await ctx.tick()
        for name in ("ack", "corrupted", "duplicates", "outside", "mismatch"):
            final[name] = ctx.get(getattr(dut, name))

    all_records = [r for recs in records for r in recs]
    pysim.run(dut, link,
              pysim.producer(dut.record_in, all_records, rng, idle=0.2),
              pysim.consumer(dut.record, len(want), got_records, rng, stall=0.3),
              pysim.consumer(dut.entry, len(want), got_entries, rng, stall=0.3))
    assert list(zip(got_records, got_entries, strict=True)) == want
    assert final["ack"] == frames
    assert final["mismatch"] == 0
    assert final["corrupted"] == sum(decode_sift(c) is None for c in copies) > 0
    assert final["duplicates"] > 0 and final["outside"] > 0
    assert any(m is None for m in messages)


def test_rejects_bad_parameters():
    with pytest.raises(ValueError, match="window"):
        SiftReceiver(window=1)
    with pytest.raises(ValueError, match="slot_words"):
        SiftReceiver(slot_words=6)
