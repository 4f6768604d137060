"""Amaranth-simulator tests of the e2e top's own blocks: timed replay, its record bytes, the
capture funnel and the symbol signature."""

import random

import numpy as np
import pytest

from rtl.common.payload import unpack
from rtl.e2e.funnel import TapFunnel
from rtl.e2e.replay import (
    DUE_BITS,
    ReplayError,
    TimedReplay,
    batch_record,
    entry_rows,
    pack_entries,
    rows_record,
)
from rtl.e2e.signature import SignatureRecord, SymbolSignature
from tb.e2e.scoreboard import signature_words, signatures
from tb.pysim import consumer, run

WIDTH, BATCH, DEPTH = 12, 4, 16


def test_replay_releases_each_entry_at_its_due_cycle_in_order():
    rng = random.Random(5)
    due = sorted(rng.randrange(0, 400) for _ in range(37))
    payload = [rng.randrange(1 << WIDTH) for _ in due]
    dut = TimedReplay(WIDTH, BATCH, DEPTH)
    got: list[tuple[int, int]] = []

    async def loader(ctx):
        for start in range(0, len(due), BATCH):
            chunk = slice(start, start + BATCH)
            while not ctx.get(dut.hungry):
                await ctx.tick()
            ctx.set(dut.load, pack_entries(payload[chunk], due[chunk], WIDTH))
            ctx.set(dut.count, len(payload[chunk]))
            ctx.set(dut.strobe, 1)
            await ctx.tick()
            ctx.set(dut.strobe, 0)

    async def clock(ctx):
        cycle = 0
        while True:
            ctx.set(dut.now, cycle)
            await ctx.tick()
            cycle += 1

    async def sink(ctx):
        cycle = 0
        ctx.set(dut.o.ready, 1)
        while len(got) < len(due):
            if rng.random() < 0.3:  # backpressure
                ctx.set(dut.o.ready, 0)
                await ctx.tick()
                cycle += 1
                ctx.set(dut.o.ready, 1)
                continue
            _, _, valid, value = await ctx.tick().sample(dut.o.valid, dut.o.payload)
            if valid:
                got.append((value, cycle))
            cycle += 1

    run(dut, loader, sink, background=[clock], deadline_cycles=5000)
    assert [v for v, _ in got] == payload
    assert all(cycle >= d for (_, cycle), d in zip(got, due, strict=True))


def test_replay_refuses_and_flags_a_strobe_while_a_batch_is_moved():
    """A second strobe while the first batch is still being moved must not overwrite it: it is
    refused and counted in ``dropped``; ``accepted`` counts only the batch that was taken."""
    first, second = [11, 12, 13, 14], [21, 22, 23, 24]
    dut = TimedReplay(WIDTH, BATCH, DEPTH)
    got: list[int] = []
    counts: dict[str, int] = {}

    async def loader(ctx):
        for payload in (first, second):  # two strobes in consecutive cycles
            ctx.set(dut.load, pack_entries(payload, [0] * BATCH, WIDTH))
            ctx.set(dut.count, BATCH)
            ctx.set(dut.strobe, 1)
            await ctx.tick()
        ctx.set(dut.strobe, 0)
        await ctx.tick().repeat(2 * BATCH)
        counts.update(accepted=ctx.get(dut.accepted), dropped=ctx.get(dut.dropped),
                      released=ctx.get(dut.released), hungry=ctx.get(dut.hungry))

    run(dut, loader, consumer(dut.o, len(first), got, random.Random(2)), deadline_cycles=200)
    assert got == first
    assert counts == {"accepted": 1, "dropped": 1, "released": len(first), "hungry": 1}


def test_replay_rejects_a_fifo_smaller_than_two_batches():
    with pytest.raises(ReplayError, match="depth"):
        TimedReplay(WIDTH, 8, 8)


def test_pack_entries_places_due_after_payload():
    value = pack_entries([3, 5], [7, 9], 4)
    entry = 4 + DUE_BITS
    assert value & ((1 << entry) - 1) == 3 | 7 << 4
    assert value >> entry == 5 | 9 << 4


@pytest.mark.parametrize("lanes", [4, 2])
def test_symbol_signature_matches_the_model(lanes):
    from models.qrng import qrng_words
    from models.symbols import map_symbols

    beats, batches = 8, 3
    dut = SymbolSignature(lanes, beats)
    seed = 9
    pulses = np.arange(beats * batches * lanes, dtype=np.uint64).reshape(-1, lanes)
    sym = map_symbols(qrng_words(seed, pulses))
    out: list[int] = []

    async def source(ctx):
        rng = random.Random(lanes)
        for row, pulse in enumerate(pulses[:, 0].tolist()):
            while rng.random() < 0.3:  # idle
                ctx.set(dut.i.valid, 0)
                await ctx.tick()
            ctx.set(dut.i.valid, 1)
            ctx.set(dut.i.payload.pulse, pulse)
            for lane in range(lanes):
                ctx.set(dut.i.payload.symbol[lane].as_value(), int(sym.packed()[row, lane]))
                ctx.set(dut.i.payload.drive[lane].im, int(sym.im_code[row, lane]))
                ctx.set(dut.i.payload.drive[lane].pm, int(sym.pm_code[row, lane]))
            await ctx.tick()
        ctx.set(dut.i.valid, 0)

    run(dut, source, consumer(dut.o, batches, out, random.Random(1)), deadline_cycles=500)
    first = np.arange(batches, dtype=np.uint64) * np.uint64(beats * lanes)
    s1, s2 = signatures(signature_words(seed, lanes, first, beats))
    got = [unpack(SignatureRecord, v) for v in out]
    assert got == [{"pulse": p, "s1": a, "s2": b}
                   for p, a, b in zip(first.tolist(), s1.tolist(), s2.tolist(), strict=True)]


def test_signature_changes_with_one_wrong_or_swapped_beat():
    words = signature_words(3, 4, np.zeros(1, dtype=np.uint64), 16)
    base = signatures(words)
    wrong = words.copy()
    wrong[0, 5] ^= np.uint64(1 << 3)
    swapped = words.copy()
    swapped[0, [2, 3]] = swapped[0, [3, 2]]
    for other in (wrong, swapped):
        assert signatures(other) != base


def test_entry_rows_make_the_same_record_as_batch_record():
    rng = np.random.default_rng(1)
    for n in (1, 5, 32):
        codes = rng.integers(0, 256, (n, 40), dtype=np.uint8)
        due = rng.integers(0, 1 << DUE_BITS, n)
        payload = [int.from_bytes(code.tobytes(), "little") for code in codes]
        assert rows_record(entry_rows(codes, due, 320), 320, 32) == batch_record(
            payload, due.tolist(), 320, 32)
    with pytest.raises(ReplayError, match="whole bytes"):
        entry_rows(codes[:, :1], due, 4)


@pytest.mark.parametrize("depth", [2, 1])
def test_funnel_keeps_each_taps_order_and_counts_what_it_loses(depth):
    """Five taps, each beating at most once per 5 cycles (a TDC channel's dead time), often at
    that rate: every beat leaves, each input's in order. Beats in consecutive cycles (faster
    than the contract) into one-entry FIFOs overflow and are counted."""
    rng = random.Random(3)
    n, width, cycles = 5, 8, 400
    beats = {k: [] for k in range(n)}
    gap = n if depth > 1 else 1
    plan = [[False] * cycles for _ in range(n)]
    for k in range(n):
        at = rng.randrange(gap)
        while at < cycles:
            plan[k][at] = True
            at += gap + (0 if rng.random() < 0.5 else rng.randrange(20))
    dut = TapFunnel(n, width, depth)
    got: list[int] = []
    overflow: list[int] = []

    async def taps(ctx):
        for cycle in range(cycles):
            for k in range(n):
                value = (k << 5) | len(beats[k]) % 32
                ctx.set(dut.taps[k].valid, plan[k][cycle])
                ctx.set(dut.taps[k].payload, value)
                if plan[k][cycle]:
                    beats[k].append(value)
            await ctx.tick()
        for k in range(n):
            ctx.set(dut.taps[k].valid, 0)
        await ctx.tick().repeat(4 * n * depth + 8)

    async def sink(ctx):
        ctx.set(dut.o.ready, 1)
        for _ in range(cycles + 4 * n * depth + 8):
            _, _, valid, value = await ctx.tick().sample(dut.o.valid, dut.o.payload)
            if valid:
                got.append(value)
        overflow.append(ctx.get(dut.overflow))

    run(dut, taps, sink, deadline_cycles=3 * cycles)
    lost = sum(len(b) for b in beats.values()) - len(got)
    if depth == 2:
        assert lost == 0 and overflow == [0] and all(len(b) > 30 for b in beats.values())
        for k in range(n):
            assert [v for v in got if v >> 5 == k] == beats[k]
    else:
        assert lost > 0 and overflow[0] > 0
