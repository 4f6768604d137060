"""Uplink framer RTL: frame copies against models.sifting.messages.encode_uplink."""

import random

import numpy as np
import pytest

from models.sifting.messages import decode_uplink, encode_uplink
from rtl.common.payload import unpack_array
from rtl.sifting.layouts import Report
from rtl.sifting.uplink_framer import UplinkFramer
from tb import pysim
from tb.sifting.stimulus import detections, report_values, split_copies

P = 64
PULSES_PER_CYCLE = 2


def run_framer(frames: int, count: int, seed: int, max_repeats: int = 3, depth: int = 64,
               idle: float = 0.3, stall: float = 0.3, record_stall: float = 0.2,
               lag: int = 48, drop_gap: bool = True) -> dict:
    nrng = np.random.default_rng(seed)
    pulse, basis, bit = detections(nrng, count, frames * P)
    if drop_gap:  # frames 2 and 3 have no detection: they are still sent, empty
        keep = (pulse < 2 * P) | (pulse >= 4 * P)
        pulse, basis, bit = pulse[keep], basis[keep], bit[keep]
    sampled = nrng.integers(0, 2, len(pulse)).astype(np.uint8)
    dut = UplinkFramer(frame_pulses=P, depth=depth, max_repeats=max_repeats, close_lag=lag)
    rng = random.Random(seed)
    words: list[int] = []
    records: list[int] = []
    reports = report_values(pulse, basis, sampled, bit)
    cycles = (frames + 1) * P // PULSES_PER_CYCLE + 400 * max_repeats
    # The ground's pulse time moves on regardless of the reports; the producer keeps up with it
    # (its idle cycles are short against the close lag).
    state = {"now": 0, "late": 0, "late_steps": 0}

    async def clock(ctx) -> None:
        while True:
            await ctx.tick()
            # Time stops once the last frame is due, so exactly `frames` frames close.
            state["now"] = min(state["now"] + PULSES_PER_CYCLE, frames * P + lag)
            ctx.set(dut.now, state["now"])
            ctx.set(dut.ack, state["now"] // 97)

    async def paced_reports(ctx) -> None:
        for item, n in zip(reports, pulse, strict=True):
            while state["now"] < int(n):
                await ctx.tick()
            while rng.random() < idle:
                await ctx.tick()
            await pysim.stream_put(ctx, dut.report, item)

    def sink(port, out: list[int], stall: float):
        async def bench(ctx) -> None:
            while True:
                while rng.random() < stall:
                    await ctx.tick()
                out.append(await pysim.stream_get(ctx, port))
        return bench

    async def watch_late(ctx) -> None:
        while True:
            await ctx.tick()
            late = ctx.get(dut.late)
            # `late_step` flags exactly the cycles in which the count has just grown.
            assert ctx.get(dut.late_step) == (late != state["late"])
            state["late_steps"] += ctx.get(dut.late_step)
            state["late"] = late

    pysim.run(dut, background=[paced_reports, clock, watch_late, sink(dut.o, words, stall),
                               sink(dut.record, records, record_stall)],
              deadline_cycles=cycles)
    return {"late": state["late"], "late_steps": state["late_steps"], "pulse": pulse,
            "basis": basis, "bit": bit, "sampled": sampled,
            "copies": split_copies(words), "records": unpack_array(Report, records),
            "max_repeats": max_repeats, "frames": frames}


def check_copies(run: dict) -> list[int]:
    """Every copy equals the model's frame (with the ack it carries); returns copies per frame."""
    pulse = run["pulse"]
    bounds = np.searchsorted(pulse, np.arange(run["frames"] + 1, dtype=np.uint64) * P)
    per_frame: list[int] = []
    last_ack = 0
    for words in run["copies"]:
        frame = decode_uplink(words)
        assert frame is not None, "CRC or header of a copy"
        assert frame.ack >= last_ack, "acks go backwards"
        last_ack = frame.ack
        if per_frame and frame.seq == len(per_frame) - 1:
            per_frame[-1] += 1
        else:
            assert frame.seq == len(per_frame), "frames out of sequence"
            per_frame.append(1)
        sl = slice(int(bounds[frame.seq]), int(bounds[frame.seq + 1]))
        s = run["sampled"][sl]
        want = encode_uplink(frame.seq, frame.ack, pulse[sl] - np.uint64(frame.seq * P),
                             run["basis"][sl], s, run["bit"][sl] & s, (P - 1).bit_length())
        assert np.array_equal(words, want), f"frame {frame.seq}: words"
    return per_frame


def test_frames_repeat_until_the_next_closes():
    run = run_framer(frames=8, count=120, seed=3)
    per_frame = check_copies(run)
    assert len(per_frame) == 8, "every frame sent, empty ones included"
    assert all(1 <= c <= run["max_repeats"] for c in per_frame)
    assert per_frame[-1] == run["max_repeats"], "the newest frame repeats up to the limit"
    assert any(c > 1 for c in per_frame[:-1]), "frames repeat while the next fills"
    # Every report went out in a frame and on `record`, in order.
    assert run["records"]["pulse"].tolist() == run["pulse"].tolist()
    assert run["records"]["sampled"].tolist() == run["sampled"].tolist()


@pytest.mark.parametrize("case", [
    # No close lag and a stalling `record`: reports reach the framer after their frame closed.
    {"lag": 0, "idle": 0.6, "record_stall": 0.6},
    # A 16-word ring against ~10 reports per frame while a slow link repeats the previous frame:
    # `report` stalls on the full ring until its frame closes (the ring must hold two frames).
    {"depth": 16, "stall": 0.8, "lag": 100},
], ids=["no_lag", "ring_full"])
def test_late_reports_are_counted_and_never_sent(case):
    run = run_framer(frames=6, count=60, seed=6, drop_gap=False, **case)
    kept = np.isin(run["pulse"], run["records"]["pulse"])
    assert run["late"] > 0 and run["late"] + kept.sum() == len(run["pulse"])
    assert run["late_steps"] == run["late"]
    for key in ("pulse", "basis", "bit", "sampled"):
        run[key] = run[key][kept]
    assert len(check_copies(run)) == 6
    assert max(len(w) for w in run["copies"]) - 4 <= case.get("depth", 64)


def test_rejects_bad_parameters():
    with pytest.raises(ValueError, match="power of two"):
        UplinkFramer(frame_pulses=100)
    with pytest.raises(ValueError, match="depth"):
        UplinkFramer(depth=1000)
    with pytest.raises(ValueError, match="max_repeats"):
        UplinkFramer(max_repeats=0)
