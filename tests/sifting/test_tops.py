"""Synthesis tops of the sifting area elaborate and convert to Verilog."""

import pytest
from amaranth.back import verilog

from rtl.sifting.tops import SYNTH_TOPS


@pytest.mark.parametrize("top", sorted(SYNTH_TOPS))
def test_top_converts_to_verilog(top):
    text = verilog.convert(SYNTH_TOPS[top](), name=top, emit_src=False)
    assert f"module {top}" in text and "key__payload" in text
