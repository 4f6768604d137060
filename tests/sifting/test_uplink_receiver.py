"""Satellite uplink receiver RTL against the satellite endpoint of models.sifting.classical_link."""

import random

import numpy as np
import pytest
from amaranth.hdl import Value

from models.sifting.classical_link import MISSING_HEAD, SiftConfig, _Satellite, qrng_symbols
from models.sifting.messages import decode_uplink, encode_uplink
from rtl.common.payload import pack
from rtl.sifting.uplink_receiver import FrameBeat, UplinkReceiver
from tb import pysim
from tb.sifting.stimulus import field_tuples, message_beats, report_tuples

P = 64


def make_frames(nrng: np.random.Generator, frames: int) -> list[np.ndarray]:
    out = []
    for seq in range(frames):
        count = int(nrng.integers(0, 12))
        offset = np.sort(nrng.choice(P, count, replace=False)).astype(np.uint64)
        sampled = nrng.integers(0, 2, count)
        bit = nrng.integers(0, 2, count) & sampled
        out.append(encode_uplink(seq, seq // 2, offset, nrng.integers(0, 2, count), sampled,
                                 bit, (P - 1).bit_length()))
    return out


def lossy_copies(nrng: np.random.Generator, frames: list[np.ndarray]) -> list[np.ndarray]:
    """Copies as a lossy link delivers them: lost, repeated, corrupted, stale and duplicated."""
    copies = []
    for seq, words in enumerate(frames):
        for _ in range(int(nrng.choice([0, 1, 2, 3], p=[0.25, 0.35, 0.25, 0.15]))):
            copy = words
            if nrng.random() < 0.2:
                copy = words.copy()
                copy[nrng.integers(len(copy))] ^= np.uint32(1 << int(nrng.integers(32)))
            copies.append(copy)
        if seq > 2 and nrng.random() < 0.15:
            copies.append(frames[seq - 2])  # a stale copy arriving late
    return copies


def expected(copies: list[np.ndarray], stamps: list[int] | None = None, final_head: int = 0,
             cache_pulses: int = 1 << 20
             ) -> tuple[list[tuple[int, int, int]], list[tuple], _Satellite]:
    """Frame beats (seq, count, missing) and reports from the golden satellite endpoint (copies
    judged at cache heads ``stamps``, then the head reaching ``final_head``), and the endpoint."""
    sat = _Satellite(SiftConfig(frame_pulses=P, cache_pulses=cache_pulses,
                                               pulse_rate_hz=1.0), qrng_symbols(1))
    for words, stamp in zip(copies, stamps or [0] * len(copies), strict=True):
        sat.receive(float(stamp), words)
    sat.advance(final_head)
    beats, reports = [], []
    accepted = {}
    for words in copies:  # the frame contents, from any good copy
        frame = decode_uplink(words)
        if frame is not None:
            accepted[frame.seq] = frame
    for seq, head in sat.log:
        if head == MISSING_HEAD:
            beats.append((seq, 0, 1))
            continue
        f = accepted[seq]
        beats.append((seq, len(f.offset), 0))
        reports += [(seq * P + int(o), int(b), int(s), int(x))
                    for o, b, s, x in zip(f.offset, f.basis, f.sampled, f.bit, strict=True)]
    return beats, reports, sat


@pytest.mark.parametrize("seed", [1, 2])
def test_receiver_matches_the_satellite_endpoint(seed):
    nrng = np.random.default_rng(seed)
    copies = lossy_copies(nrng, make_frames(nrng, 24))
    want_beats, want_reports, sat = expected(copies)
    assert any(m for _, _, m in want_beats), "the stimulus must contain a sequence gap"
    dut = UplinkReceiver(frame_pulses=P, depth=16)
    rng = random.Random(seed)
    frames: list[int] = []
    reports: list[int] = []
    final = {}

    async def read_counters(ctx):
        await pysim.producer(dut.i, message_beats(copies), rng, idle=0.3)(ctx)
        for _ in range(200):
            await ctx.tick()
        for name in ("ack", "corrupted", "duplicates", "missing"):
            final[name] = ctx.get(getattr(dut, name))

    pysim.run(dut, read_counters,
              pysim.consumer(dut.frame, len(want_beats), frames, rng, stall=0.3),
              pysim.consumer(dut.report, len(want_reports), reports, rng, stall=0.3))
    assert field_tuples(FrameBeat, frames) == want_beats
    assert report_tuples(reports) == want_reports
    assert final["ack"] == sat.ack
    assert final["missing"] == sum(m for _, _, m in want_beats)
    assert final["duplicates"] > 0
    assert final["corrupted"] == sum(decode_uplink(c) is None for c in copies) > 0
    assert final["corrupted"] + final["duplicates"] + sum(1 - m for *_, m in want_beats) \
        == len(copies)


CACHE = 2 * P  # a frame expires two frame periods after its end
STEP = 1  # cache head pulses per cycle (one lane)


def timed_copies(nrng: np.random.Generator, frames: list[np.ndarray]
                 ) -> list[tuple[int, np.ndarray]]:
    """(earliest head, copy): each frame's copies after its end, some past the frame's expiry,
    none at all for frames 8..13 (an outage longer than the cache life), some corrupted."""
    out = []
    for seq, words in enumerate(frames):
        if 8 <= seq <= 13:
            continue
        for _ in range(int(nrng.choice([0, 1, 2], p=[0.2, 0.5, 0.3]))):
            copy = words
            if nrng.random() < 0.15:
                copy = words.copy()
                copy[nrng.integers(len(copy))] ^= np.uint32(1 << int(nrng.integers(32)))
            out.append(((seq + 1) * P + int(nrng.integers(0, 3 * P)), copy))
    return sorted(out, key=lambda c: c[0])


@pytest.mark.parametrize("seed", [4, 5])
def test_frames_expire_on_the_satellite_clock(seed):
    """Frames the uplink never delivers are declared missing once their cache rows
    have expired, with no later frame needed; late copies are stale; stalls on ``frame`` keep a
    judged copy waiting while the head moves on (the copy's own arrival head decides)."""
    nrng = np.random.default_rng(seed)
    frames = make_frames(nrng, 24)
    timed = timed_copies(nrng, frames)
    final_head = 30 * P
    dut = UplinkReceiver(frame_pulses=P, depth=16, cache_pulses=CACHE)
    rng = random.Random(seed)
    stamps: list[int] = []
    got_frames: list[int] = []
    reports: list[int] = []
    final = {}
    head = [0]

    async def tick(ctx, *sampled):
        values = await ctx.tick().sample(dut.head, *sampled)
        head[0] = min(head[0] + STEP, final_head)
        ctx.set(dut.head, head[0])
        return values

    async def link_and_clock(ctx):
        for earliest, words in timed:
            while head[0] < earliest:
                await tick(ctx)
            for beat in message_beats([words]):
                while rng.random() < 0.2:
                    await tick(ctx)
                ctx.set(dut.i.valid, 1)
                ctx.set(Value.cast(dut.i.payload), beat)
                while True:
                    _clk, _rst, stamp, ready = await tick(ctx, dut.i.ready)
                    if ready:
                        break
                ctx.set(dut.i.valid, 0)
            stamps.append(stamp)
        while head[0] < final_head:
            await tick(ctx)
        for _ in range(300):
            await tick(ctx)
        for name in ("corrupted", "duplicates", "missing", "timeouts", "stale"):
            final[name] = ctx.get(getattr(dut, name))

    # Frame beats and reports are collected by background consumers: their count is known only
    # from the model, which needs the arrival heads recorded during the run.
    pysim.run(dut, link_and_clock,
              background=[pysim.consumer(dut.frame, 10**6, got_frames, rng, stall=0.4),
                          pysim.consumer(dut.report, 10**6, reports, rng, stall=0.3)])
    copies = [words for _, words in timed]
    want_beats, want_reports, sat = expected(copies, stamps, final_head, CACHE)
    print(f"{len(copies)} copies, {len(want_beats)} decisions, {sat.timeouts} timeouts, "
          f"{sat.stale} stale, {sat.missing_frames} missing")
    assert field_tuples(FrameBeat, got_frames) == want_beats
    assert report_tuples(reports) == want_reports
    assert final["timeouts"] == sat.timeouts >= 6  # at least the outage's frames
    assert final["stale"] == sat.stale > 0
    assert final["missing"] == sat.missing_frames > sat.timeouts  # gaps too
    assert want_beats[-1][0] == (final_head - CACHE) // P - 1  # every expired frame decided


def test_ack_counts_while_the_frame_decision_waits():
    """The sift-message builder stalls ``frame`` (its table full for want of acks): the ack of
    the waiting copy must reach ``ack`` anyway, or nothing would ever free the table."""
    zeros = np.zeros(2, dtype=np.uint8)
    copies = [encode_uplink(seq, 5 + seq, np.arange(2, dtype=np.uint64), zeros, zeros, zeros, 6)
              for seq in (0, 1)]
    dut = UplinkReceiver(frame_pulses=P, depth=16, cache_pulses=CACHE)
    seen = {}

    async def bench(ctx):
        await pysim.producer(dut.i, message_beats(copies), random.Random(6))(ctx)
        for _ in range(20):
            await ctx.tick()
        seen["ack"], seen["valid"] = ctx.get(dut.ack), ctx.get(dut.frame.valid)

    pysim.run(dut, bench)  # `frame.ready` stays 0: frame 0's beat waits, copy 1 stays judged
    assert seen == {"ack": 6, "valid": 1}


def test_too_long_copy_is_dropped():
    nrng = np.random.default_rng(3)
    offset = np.arange(20, dtype=np.uint64)
    zeros = np.zeros(20, dtype=np.uint8)
    copies = [encode_uplink(0, 0, offset, zeros, zeros, zeros, 6),
              encode_uplink(0, 0, offset[:3], zeros[:3], zeros[:3], zeros[:3], 6)]
    dut = UplinkReceiver(frame_pulses=P, depth=16)
    rng = random.Random(3)
    frames: list[int] = []
    reports: list[int] = []
    pysim.run(dut, pysim.producer(dut.i, message_beats(copies), rng,
                                  idle=float(nrng.random()) / 2),
              pysim.consumer(dut.frame, 1, frames, rng),
              pysim.consumer(dut.report, 3, reports, rng))
    assert frames == [pack(FrameBeat, {"seq": 0, "count": 3, "missing": 0})]
    assert [r[0] for r in report_tuples(reports)] == [0, 1, 2]


def test_rejects_bad_parameters():
    with pytest.raises(ValueError, match="frame_pulses"):
        UplinkReceiver(frame_pulses=3)
    with pytest.raises(ValueError, match="depth"):
        UplinkReceiver(depth=100)
