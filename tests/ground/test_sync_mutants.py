"""SyncDetector behaviour the scenario streams do not reach: a header at the very start of the
stream, a complemented marker (a phase flip of the link), split marker errors, a stalled
consumer, and the widths of the status ports."""

import random

import pytest

from models.framing import MARKER_BITS
from models.ground.sync import SyncConfig, detect, downlink_bits
from rtl.ground.sync import SyncDetector
from tb import pysim
from tb.dual import run_body
from tb.ground import bodies
from tb.ground.streams import sync_scenario

FAST = SyncConfig(frame_bits=256, max_misses=24)


@pytest.mark.parametrize("lead", [-1, 0, 1, 62, 63])
def test_first_header_near_the_stream_start_locks_as_the_model(lead):
    """``drop`` removes the scenario's lead bits so the first header starts at bit ``lead``
    (-1: its first bit is cut off, no header there). Bits 0 and 1 are the first two full
    windows (the window register fills, then stays full); -1 is a header seen while the window
    is still filling; 62 and 63 put the first hit where the expected position still holds its
    reset value when the detector leaves SEARCH."""
    _, scenario_lead, _ = sync_scenario(seed=3, frames=12)
    bits = {"seed": 3, "frames": 12, "drop": (0, scenario_lead - lead)}
    run_body("pysim", SyncDetector(FAST), bodies.sync, case="ground_sync",
             params={"bits": bits, "frame_bits": FAST.frame_bits, "max_misses": FAST.max_misses,
                     "seed": 5, "idle": 0.0, "stall": 0.0})


def test_complemented_marker_is_no_hit():
    """Frames whose 64 marker bits are inverted (counter and CRC intact): 64 differences, never
    within the tolerance, so neither the model nor the RTL locks."""
    bits = downlink_bits(100, 6, FAST.frame_bits, seed=2, lead_bits=30)
    for start in range(30, bits.size, FAST.frame_bits):
        bits[start:start + MARKER_BITS] ^= 1
    assert detect(bits, FAST).events == []
    assert _run_bits(bits, 1) == (0, 0, 0)


def test_status_ports_have_the_documented_widths():
    dut = SyncDetector(FAST)
    assert [len(dut.locked), len(dut.losses), len(dut.dropped)] == [1, 16, 16]


def _run_bits(bits, frames_ready: int) -> tuple[int, int, int]:
    """Feed ``bits`` with ``frames.ready`` held at ``frames_ready``; return (frame events
    taken or held, dropped, locked)."""
    dut = SyncDetector(FAST)
    seen = {"events": 0}

    async def sink(ctx):
        ctx.set(dut.frames.ready, frames_ready)
        while True:
            await ctx.tick()
            seen["events"] += ctx.get(dut.frames.valid) and frames_ready

    async def bench(ctx):
        await pysim.producer(dut.bits, bits.tolist(), random.Random(1))(ctx)
        await ctx.tick().repeat(8)
        seen["out"] = (seen["events"] + (0 if frames_ready else ctx.get(dut.frames.valid)),
                       ctx.get(dut.dropped), ctx.get(dut.locked))

    pysim.run(dut, bench, background=[sink])
    return seen["out"]


def test_marker_errors_split_between_its_halves_add_up():
    """tolerance + 2 bit errors, half in each 32-bit half of every marker: no hit."""
    bits = downlink_bits(100, 6, FAST.frame_bits, seed=2, lead_bits=30)
    half = (FAST.tolerance + 2) // 2
    for start in range(30, bits.size, FAST.frame_bits):
        bits[start:start + half] ^= 1
        bits[start + 32:start + 32 + half] ^= 1
    assert detect(bits, FAST).events == []
    assert _run_bits(bits, 1) == (0, 0, 0)


def test_stalled_consumer_holds_the_first_event_and_counts_the_rest_dropped():
    bits = downlink_bits(100, 8, FAST.frame_bits, seed=2, lead_bits=30)
    events = len(detect(bits, FAST).events)
    assert events >= 5
    assert _run_bits(bits, 0) == (1, events - 1, 1)
