"""rtl.common.streams.RegisterSlice in the Amaranth simulator: seeded random ``valid`` upstream
and ``ready`` downstream (idle and backpressure) with every beat checked in order, one beat per
cycle at latency 1 when nothing waits, and no combinational path through the slice (``i.ready``
does not follow ``o.ready``, ``o`` does not follow ``i`` in the same cycle)."""

import random

import pytest
from amaranth.hdl import Value, signed
from amaranth.lib import data
from amaranth.sim import Simulator

from rtl.common.streams import RegisterSlice
from rtl.ground.layouts import Tag

SHAPES = {"unsigned": 12, "struct": data.StructLayout({"a": 7, "b": signed(5), "c": 1}),
          "tag": Tag}


def run(shape, cycles: int, idle: float, stall: float, seed: int) -> dict:
    """Drive ``cycles`` cycles; returns the beats sent and received (with their cycles) and the
    combinational checks' findings."""
    dut = RegisterSlice(shape)
    width = len(Value.cast(dut.i.payload))
    rng = random.Random(seed)
    got = {"sent": [], "received": [], "comb": []}

    async def bench(ctx):
        pending = None  # the beat offered upstream until taken (valid must not fall)
        for cycle in range(cycles):
            if pending is None and rng.random() >= idle:
                pending = rng.getrandbits(width)
            ctx.set(dut.i.valid, pending is not None)
            ctx.set(Value.cast(dut.i.payload), pending or 0)
            # toggle the other side's inputs: the registered outputs must not move
            seen = []
            for ready in (0, 1):
                ctx.set(dut.o.ready, ready)
                seen.append(ctx.get(dut.i.ready))
            for valid in (0, 1):
                ctx.set(dut.i.valid, valid)
                seen.append((ctx.get(dut.o.valid), ctx.get(Value.cast(dut.o.payload))))
            if seen[0] != seen[1] or seen[2] != seen[3]:
                got["comb"].append(cycle)
            ctx.set(dut.i.valid, pending is not None)
            ctx.set(dut.o.ready, rng.random() >= stall)
            if ctx.get(dut.o.valid) and ctx.get(dut.o.ready):
                got["received"].append((cycle, ctx.get(Value.cast(dut.o.payload))))
            if pending is not None and ctx.get(dut.i.ready):
                got["sent"].append((cycle, pending))
                pending = None
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return got


@pytest.mark.parametrize(("shape", "idle", "stall", "seed"),
                         [("unsigned", 0.3, 0.4, 1), ("struct", 0.0, 0.7, 2), ("tag", 0.6, 0.1, 3)])
def test_every_beat_in_order_under_idle_and_backpressure(shape, idle, stall, seed):
    got = run(SHAPES[shape], 400, idle, stall, seed)
    sent = [beat for _, beat in got["sent"]]
    received = [beat for _, beat in got["received"]]
    assert got["comb"] == []
    assert len(sent) > 80
    # at most the two entries are still inside at the end
    assert received == sent[:len(received)] and len(sent) - len(received) <= 2
    # a beat leaves no earlier than the cycle after it came in
    for (came, _), (left, _) in zip(got["sent"], got["received"], strict=False):
        assert left > came


def test_one_beat_per_cycle_at_latency_one():
    got = run(SHAPES["tag"], 200, 0.0, 0.0, 4)
    assert got["comb"] == []
    assert [c for c, _ in got["sent"]] == list(range(200))
    assert [(c - 1, b) for c, b in got["received"]] == got["sent"][:199]


def test_skid_holds_the_beat_taken_as_output_stalls():
    """A run with long stalls: the slice takes the beat of the stall's first cycle into its
    skid entry and lowers ``i.ready`` one cycle later, with none lost."""
    got = run(SHAPES["unsigned"], 300, 0.0, 0.8, 5)
    sent = [c for c, _ in got["sent"]]
    assert len(sent) < 150  # backpressure reached upstream
    assert [b for _, b in got["received"]] == [b for _, b in got["sent"]][:len(got["received"])]
