"""Sifting RTL in the Amaranth simulator against the golden models of models.sifting."""

import random

import numpy as np
import pytest
from amaranth.hdl import Value

from models.constants import SAMPLE_SEED
from models.rnd_cache import cache_lookup
from models.sifting.entries import (
    SiftCode,
    ground_sift,
    make_reports,
    satellite_sift,
)
from models.symbols import SAFE_SYMBOL, unpack_symbols
from rtl.common.payload import unpack_array
from rtl.sifting.ground_report import GroundReport
from rtl.sifting.ground_sift import GroundSift
from rtl.sifting.layouts import Report
from rtl.sifting.satellite_sift import SatelliteSiftUnit
from tb import pysim
from tb.sifting.stimulus import (
    counters,
    detections,
    expected_key,
    record_values,
    report_values,
    symbol_codes,
    write_beats,
)

SEED = SAMPLE_SEED


def run_ground_report(dut, pulse, basis, bit, rng, idle, stall):
    """The reports (Report fields as arrays) and the overflow count."""
    out: list[int] = []
    result = {}

    async def read_overflow(ctx):
        await ctx.tick().repeat(4 * len(pulse) + 200)
        result["overflow"] = ctx.get(dut.overflow)

    records = record_values(pulse, basis, bit)
    pysim.run(dut, pysim.producer(dut.det, records, rng, idle=idle), read_overflow,
              background=[pysim.consumer(dut.report, len(records), out, rng, stall=stall)])
    return unpack_array(Report, out), result["overflow"]


def test_ground_report_samples_like_the_model():
    rng = np.random.default_rng(1)
    pulse, basis, bit = detections(rng, 400, 1 << 40, start=(1 << 63) - (1 << 40))
    dut = GroundReport(SEED)
    got, overflow = run_ground_report(dut, pulse, basis, bit, random.Random(1), idle=0.6,
                                      stall=0.3)
    want = make_reports(pulse, basis, bit, SEED)
    assert overflow == 0
    assert got["pulse"].tolist() == pulse.tolist()
    assert got["sampled"].tolist() == want.sampled.tolist() and 20 < sum(want.sampled) < 80
    assert got["basis"].tolist() == basis.tolist() and got["bit"].tolist() == bit.tolist()


def test_forced_overflow_is_counted_and_never_reported():
    rng = np.random.default_rng(2)
    pulse, basis, bit = detections(rng, 300, 1 << 20)
    dut = GroundReport(SEED, fifo_depth=4)
    # Records every cycle into a 4-deep FIFO drained at ~1 per 10 cycles: most overflow.
    got, overflow = run_ground_report(dut, pulse, basis, bit, random.Random(2), idle=0.0,
                                      stall=0.9)
    survivors = got["pulse"]
    assert overflow > 100 and len(survivors) + overflow == len(pulse)
    keep = np.isin(pulse, survivors)
    want = make_reports(pulse[keep], basis[keep], bit[keep], SEED)
    assert survivors.tolist() == want.pulse.tolist()
    assert got["sampled"].tolist() == want.sampled.tolist()


def test_ground_report_rejects_bad_parameters():
    with pytest.raises(ValueError, match="sample_below"):
        GroundReport(sample_below=70000)


@pytest.mark.parametrize("safe", [False, True], ids=["random", "with_safe_pulses"])
def test_satellite_sift_matches_model(safe):
    """``with_safe_pulses``: every 5th beat in the cache carries the safe symbol (laser off):
    its detections are answered "dropped" and dropped by the ground's model too."""
    lanes, rows, beats, packet_bits, seed = 2, 128, 200, 16, 5
    capacity = lanes * rows
    written = beats * lanes
    codes = symbol_codes(seed, written)
    marked = np.repeat(np.arange(beats) % 5 == 0, lanes) if safe else np.zeros(written, bool)
    codes[marked] = SAFE_SYMBOL
    rng = np.random.default_rng(seed)
    # Reports spanning expired, valid and not-yet-written pulses (window [144, 400)).
    pulse, basis, bit = detections(rng, 250, written - 100 + 24, start=100)
    reports = make_reports(pulse, basis, bit, SEED, sample_below=20000)
    dut = SatelliteSiftUnit(lanes, rows, packet_bits)
    prng = random.Random(seed)
    entries: list[int] = []
    keys: list[int] = []
    status = cache_lookup(pulse, np.full(len(pulse), written, dtype=np.uint64), capacity)
    intensity, sym_basis, sym_bit = unpack_symbols(codes[np.minimum(pulse, written - 1)
                                                         .astype(np.int64)])
    want = satellite_sift(reports, status, intensity, sym_basis, sym_bit)
    want_keys = expected_key(want, packet_bits)
    regs = {}

    payloads = report_values(reports.pulse, reports.basis, reports.sampled, reports.bit)

    async def writer_then_reports(ctx):
        for row in write_beats(codes, lanes):
            await pysim.stream_put(ctx, dut.write, row)
        for item in payloads:
            while prng.random() < 0.3:
                await ctx.tick()
            await pysim.stream_put(ctx, dut.report, item)
        await ctx.tick().repeat(10)
        for name in ("detected", "errors", "dropped", "packets", "expired_count"):
            regs[name] = ctx.get(Value.cast(getattr(dut, name)))

    pysim.run(dut, writer_then_reports,
              pysim.consumer(dut.entry, len(pulse), entries, prng, stall=0.3),
              pysim.consumer(dut.key, len(want_keys), keys, prng, stall=0.3))
    assert entries == want.code.tolist()
    assert keys == want_keys and len(keys) > 2 * packet_bits
    assert np.array_equal(counters(regs["detected"]), want.detected)
    assert np.array_equal(counters(regs["errors"]), want.errors) and want.errors.sum() > 0
    assert regs["dropped"] == want.dropped > 0 and regs["packets"] == len(keys) // packet_bits
    assert regs["expired_count"] == int((status == 1).sum()) > 0 and (status == 2).any()
    hit_safe = (status == 0) & marked[np.minimum(pulse, written - 1).astype(np.int64)]
    assert np.all(want.code[hit_safe] == SiftCode.DROPPED) and (hit_safe.any() == safe)
    ground = ground_sift(basis, bit, reports.sampled, want.code)
    assert np.array_equal(ground.key, want.key) and not np.isin(want.key,
                                                               np.flatnonzero(hit_safe)).any()


def test_ground_sift_matches_model():
    packet_bits, count = 8, 300
    rng = np.random.default_rng(6)
    pulse, basis, bit = detections(rng, count, 1 << 30)
    reports = make_reports(pulse, basis, bit, SEED, sample_below=16000)
    code = rng.integers(0, 8, count).astype(np.uint8)
    code[rng.random(count) < 0.1] = SiftCode.MISSING
    want = ground_sift(basis, bit, reports.sampled, code)
    want_keys = expected_key(want, packet_bits)
    dut = GroundSift(packet_bits)
    prng = random.Random(6)
    keys: list[int] = []
    regs = {}

    async def read_counters(ctx):
        await ctx.tick().repeat(6 * count)
        for name in ("detected", "dropped", "missing", "packets"):
            regs[name] = ctx.get(Value.cast(getattr(dut, name)))

    records = report_values(pulse, basis, reports.sampled, bit)
    pysim.run(dut, pysim.producer(dut.record, records, prng, idle=0.3),
              pysim.producer(dut.entry, code.tolist(), prng, idle=0.5),
              pysim.consumer(dut.key, len(want_keys), keys, prng, stall=0.3), read_counters)
    assert keys == want_keys
    assert np.array_equal(counters(regs["detected"]), want.detected)
    assert (regs["dropped"], regs["missing"]) == (want.dropped, want.missing)
    assert regs["packets"] == len(want_keys) // packet_bits
