"""Sync framer against models.framing: headers, counters, CRC, payload slots and idle fill."""

import random

import numpy as np
import pytest
from amaranth.hdl import Module, Signal

from models.framing import (
    FRAME_WORDS,
    HEADER_WORDS,
    MARKER_BITS,
    SYNC_MARKER,
    check_downlink,
    crc16_ccitt,
    header_words,
)
from rtl.common.crc import crc_msb_first
from rtl.common.payload import unpack_array
from rtl.satellite.framer import SyncFramer
from rtl.satellite.layouts import DownlinkWord
from tb import pysim
from tb.dual import backend_params, run_body
from tb.satellite import bodies


def test_frame_geometry_matches_spec():
    assert FRAME_WORDS * 32 * 4 == 1 << 16  # one frame per 2**16 pulses at 1 link bit / 4 pulses
    assert header_words(0)[:2] == [SYNC_MARKER >> 32, SYNC_MARKER & 0xFFFFFFFF]
    assert crc16_ccitt(b"123456789") == 0x29B1  # CRC-16/CCITT-FALSE check value


def test_marker_has_low_autocorrelation_sidelobes():
    bits = np.array([(SYNC_MARKER >> (MARKER_BITS - 1 - i)) & 1 for i in range(MARKER_BITS)])
    s = 2 * bits - 1
    sidelobes = [abs(int(np.dot(s[k:], s[:-k]))) for k in range(1, MARKER_BITS)]
    assert max(sidelobes) <= 6


@pytest.mark.parametrize("value", [0, 1, 0x123456789ABC, (1 << 48) - 1])
def test_parallel_crc_matches_bytewise_crc(value):
    m = Module()
    data = Signal(48)
    out = Signal(16)
    m.d.comb += out.eq(crc_msb_first(data, poly=0x1021, width=16, init=0xFFFF))
    got = {}

    async def bench(ctx):
        ctx.set(data, value)
        got["crc"] = ctx.get(out)

    from amaranth.sim import Simulator

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()
    assert got["crc"] == crc16_ccitt(value.to_bytes(6, "big"))


@pytest.mark.parametrize("backend", backend_params())
def test_framer_matches_model(backend):
    """Three frames and a few words, then a reset in mid-stream and one more frame: headers,
    counters, CRC, payload slots and idle fill against the model."""
    run_body(backend, SyncFramer(), bodies.framer, case="framer",
             params={"words": [3 * FRAME_WORDS + 7, FRAME_WORDS + 100], "seed": 5,
                     "idle": 0.5, "stall": 0.3})


def test_framer_fills_idle_slots_of_a_sparse_payload():
    dut = SyncFramer()
    rng = random.Random(12)
    words_out = 2 * FRAME_WORDS + 10
    payload = list(range(1, 2000))
    got: list[int] = []
    pysim.run(
        dut,
        pysim.consumer(dut.o, words_out, got, rng, stall=0.2),
        background=[pysim.producer(dut.payload, payload, rng, idle=0.6)],
    )
    out = unpack_array(DownlinkWord, got)
    mismatches, consumed = check_downlink(out["data"], out["kind"].astype(np.uint8),
                                          np.array(payload))
    assert mismatches == 0
    assert 0 < consumed < words_out - 3 * HEADER_WORDS  # idle slots were used too
    assert list(out["data"][FRAME_WORDS + 2:FRAME_WORDS + 4]) == header_words(1)[2:4]
