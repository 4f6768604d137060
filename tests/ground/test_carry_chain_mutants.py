"""CarryLines' calibration muxes, read from the RTLIL of the top module: every line's mux takes
the plain slot select except the sync channel's (the last), which takes the strobe guard's
``guarded`` select."""

import re

from amaranth.back import rtlil

from models.constants import TDC_CHANNELS
from rtl.ground.carry_chain import CarryLines


def test_only_the_sync_line_mux_follows_the_guarded_select():
    text = rtlil.convert(CarryLines(taps=4), name="lines")
    top = next(body for body in text.split("\nmodule ") if body.startswith("\\lines\n"))
    selects = re.findall(r"cell \$mux \S+\n(?:  .*\n)*?\s*connect \\S (\S+)", top)
    assert len(selects) == TDC_CHANNELS
    assert selects[-1] == "\\guarded"
    assert len(set(selects[:-1])) == 1 and selects[0] != "\\guarded"
