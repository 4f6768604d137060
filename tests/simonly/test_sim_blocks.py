"""Sim-only stimulus and capture blocks: bit-exact QRNG source, batcher contract, generators."""

import random

import numpy as np
import pytest
from amaranth.hdl import Value
from amaranth.lib import data

from models.qrng import FAULT_BIASED, FAULT_NONE, FAULT_STUCK, qrng_offered, source_words
from rtl.common.payload import unpack, unpack_array
from rtl.satellite.layouts import qrng_beat
from rtl.simonly.batcher import StreamBatcher
from rtl.simonly.generators import CacheQueryGenerator, PayloadCounter
from rtl.simonly.qrng_source import CounterQrngSource
from rtl.simonly.xorshift import Xorshift32
from tb import pysim
from tb.capture import CaptureError, beats_of_binstr, fields


@pytest.mark.parametrize("fault", [FAULT_NONE, FAULT_STUCK, FAULT_BIASED])
def test_counter_qrng_source_is_the_model(fault):
    """A real-time source: the beat of cycle c holds pulses 4c.., offered in the cycles
    models.qrng.qrng_offered names, faulty from beat ``fault_from`` on; ready changes nothing."""
    lanes, cycles, seed, fault_from = 4, 60, 0xC0FFEE, 25
    dut = CounterQrngSource(seed, lanes, idle_per_1024=300)
    valid, words = [], []
    prng = random.Random(3)

    async def bench(ctx):
        ctx.set(dut.fault, fault)
        ctx.set(dut.fault_from, fault_from)
        for _ in range(cycles):
            ctx.set(dut.o.ready, int(prng.random() < 0.7))
            valid.append(ctx.get(dut.o.valid))
            words.append(ctx.get(Value.cast(dut.o.payload)))
            await ctx.tick()

    pysim.run(dut, bench)
    assert np.array_equal(np.array(valid, dtype=bool), qrng_offered(seed, 300, cycles))
    assert 0 < sum(valid) < cycles
    pulses = np.arange(cycles * lanes).reshape(cycles, lanes)
    want = source_words(seed, pulses)
    want[fault_from:] = source_words(seed, pulses[fault_from:], fault)
    assert np.array_equal(unpack_array(qrng_beat(lanes), words), want)


def test_xorshift_sequence():
    dut = Xorshift32(seed=1)
    got = []

    async def bench(ctx):
        for _ in range(3):
            got.append(ctx.get(dut.value))
            await ctx.tick()

    pysim.run(dut, bench)
    x, want = 1, []
    for _ in range(3):
        want.append(x)
        x ^= (x << 13) & 0xFFFF_FFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFF_FFFF
    assert got == want


@pytest.mark.parametrize(("stall", "pace", "depth"), [(0, 1, 5), (400, 1, 16), (0, 5, 4)])
def test_batcher_collects_in_order_with_tag(stall, pace, depth):
    width = 12
    dut = StreamBatcher(width, depth, seed=9, stall_per_1024=stall, pace=pace, tag_bits=16)
    items = [random.Random(5).randrange(1 << width) for _ in range(3 * depth + 2)]
    batches: list[tuple[int, int]] = []

    async def source(ctx):
        for n, item in enumerate(items):
            ctx.set(dut.tag, 1000 + n)
            await pysim.stream_put(ctx, dut.i, item)

    async def sink(ctx):
        cycles = 0
        while len(batches) < 3 and cycles < 2000:
            await ctx.tick()
            cycles += 1
            if ctx.get(dut.done):
                batches.append((ctx.get(dut.batch), ctx.get(dut.batch_tag)))
        assert ctx.get(dut.batches) == 3

    pysim.run(dut, sink, background=[source])
    assert len(batches) == 3
    for b, (value, tag) in enumerate(batches):
        beats = unpack(data.ArrayLayout(width, depth), value)
        assert beats == items[b * depth:(b + 1) * depth]
        assert tag == 1000 + b * depth


def test_payload_counter_counts_from_one():
    dut = PayloadCounter(seed=2, idle_per_1024=500)
    got: list[int] = []
    pysim.run(dut, pysim.consumer(dut.o, 20, got, random.Random(1), stall=0.4))
    assert got == list(range(1, 21))


def test_query_generator_mixes_ok_expired_pending():
    capacity = 64
    dut = CacheQueryGenerator(capacity, seed=4, rate_per_1024=1024)
    got: list[int] = []

    async def head(ctx):
        ctx.set(dut.head, 10_000)

    pysim.run(dut, head, pysim.consumer(dut.o, 400, got, random.Random(2)))
    offset = np.array(got, dtype=np.int64) - 10_000
    assert np.all((offset >= -2 * capacity) & (offset < 16))
    assert (offset >= 0).any() and (offset < -capacity).any()
    assert ((offset < 0) & (offset >= -capacity)).any()


def test_rate_out_of_range_is_rejected():
    with pytest.raises(ValueError, match="idle_per_1024=2000"):
        CounterQrngSource(1, idle_per_1024=2000)


def test_capture_decoding_and_dirty_bits():
    # Two beats of 8 bits: beat 0 = 0x12, beat 1 = 0xAB (MSB first string, oldest in LSBs).
    beats = beats_of_binstr(format(0xAB12, "016b"), 8)
    assert [int(v) for v in fields(beats, [4, 4])[0]] == [0x2, 0xB]
    with pytest.raises(CaptureError, match="not clean"):
        beats_of_binstr("01x0" * 4, 8)
