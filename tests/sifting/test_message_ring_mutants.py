"""MessageRing details that the reference test (``test_message_ring.py``) takes from the module
itself: the pointer width (the reference masks with :func:`ring_pointer_bits`) and the form of
:func:`below` (the reference checks only its value)."""

import re

from amaranth.hdl import Signal

from rtl.sifting.message_ring import MessageRing, below, ring_pointer_bits
from tb import pysim


def test_write_pointer_is_the_ring_index_plus_one_wrap_bit():
    assert [ring_pointer_bits(d) for d in (2, 4, 16, 8192)] == [2, 3, 5, 14]
    depth = 4
    dut = MessageRing(depth)
    assert len(dut.wp) == 3
    seen: list[int] = []

    async def writer(ctx):
        for _ in range(3 * 2 * depth):
            wp = ctx.get(dut.wp)
            seen.append(wp)
            ctx.set(dut.tail, wp)  # everything read: the ring always has room
            ctx.set(dut.write, 1)
            await ctx.tick()

    pysim.run(dut, writer)
    # One word per cycle from the first cycle on: wp counts 0, 1, ... and wraps at 2 * depth.
    assert seen == [n % (2 * depth) for n in range(len(seen))]


def test_below_an_all_ones_bound_is_lut_logic_without_a_compare():
    """``below(v, 2**k - 1)``: upper bits zero and lower bits not all one (no carry chain behind
    the fill subtraction, docs/timing.md); other bounds keep the compare."""
    value = Signal(6)
    compare = re.compile(r"\(< ")
    for bound in (1, 3, 7, 31, 63):
        text = repr(below(value, bound))
        assert not compare.search(text) and "(r& " in text, (bound, text)
    for bound in (5, 10, 64):
        assert compare.search(repr(below(value, bound)))
