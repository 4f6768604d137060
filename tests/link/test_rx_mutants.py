"""PhyRx's default message FIFO: 16 words (the default docs/link.md states), the same circuit as
an explicit ``depth=16``."""

from amaranth.back import rtlil

from rtl.link.rx import PhyRx


def test_default_fifo_depth_is_16_words():
    assert rtlil.convert(PhyRx(), name="rx") == rtlil.convert(PhyRx(depth=16), name="rx")
    assert rtlil.convert(PhyRx(), name="rx") != rtlil.convert(PhyRx(depth=32), name="rx")
