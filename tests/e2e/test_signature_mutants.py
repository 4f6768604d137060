"""SymbolSignature, directed: a batch of one beat carries that beat's pulse (the first-pulse
register is loaded in the same cycle, so it must not be used), and the parameter limits."""

import random

import pytest

from rtl.common.payload import unpack
from rtl.e2e.signature import SignatureRecord, SymbolSignature
from tb.pysim import consumer, run


def test_one_beat_batches_carry_their_own_pulse():
    dut = SymbolSignature(2, 1)
    pulses = [10, 20, 36]
    out: list[int] = []

    async def source(ctx):
        for n, pulse in enumerate(pulses):
            ctx.set(dut.i.valid, 1)
            ctx.set(dut.i.payload.pulse, pulse)
            ctx.set(dut.i.payload.symbol[0].as_value(), n + 1)
            await ctx.tick()
            ctx.set(dut.i.valid, 0)
            await ctx.tick().repeat(2)

    run(dut, source, consumer(dut.o, len(pulses), out, random.Random(1)), deadline_cycles=40)
    got = [unpack(SignatureRecord, v) for v in out]
    # One beat: s1 is its word (the symbols in the low bits, no drive), s2 = s1.
    assert got == [{"pulse": p, "s1": n + 1, "s2": n + 1} for n, p in enumerate(pulses)]


def test_lanes_and_beats_limits():
    SymbolSignature(8, 1)
    for lanes, beats in ((9, 4), (4, 0)):
        with pytest.raises(ValueError, match=f"lanes={lanes} .*beats={beats}"):
            SymbolSignature(lanes, beats)
