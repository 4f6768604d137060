"""rtl.common.crc on its own: the CRC of a value is ``width`` bits and equals the bytewise
CRC-16/CCITT (binascii.crc_hqx: MSB first, not reflected) of its bytes, first byte on top."""

import binascii
import random

import pytest
from amaranth.hdl import Module, Signal
from amaranth.sim import Simulator

from rtl.common.crc import crc_msb_first

POLY, WIDTH = 0x1021, 16


@pytest.mark.parametrize("init", [0, 0xFFFF])
def test_crc_is_width_bits_and_matches_the_bytewise_ccitt_crc(init: int) -> None:
    rng = random.Random(7)
    data = Signal(24)
    crc = crc_msb_first(data, POLY, WIDTH, init)
    assert len(crc) == WIDTH
    m = Module()
    out = Signal(len(crc))
    m.d.comb += out.eq(crc)
    values = [0, 0xFFFFFF, 0x800001, *(rng.getrandbits(24) for _ in range(20))]
    got = []

    async def bench(ctx):
        for v in values:
            ctx.set(data, v)
            got.append(ctx.get(out))

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()
    assert got == [binascii.crc_hqx(v.to_bytes(3, "big"), init) for v in values]
