"""GroundTiming, the ground top with the TDC: both line variants convert, with the ports the
system wiring uses; the carry variant holds five carry-chain lines and the oscillator."""

import re

import pytest
from amaranth.back import rtlil

from models.constants import TDC_CHANNELS, TDC_TAPS
from rtl.ground.tops import SYNTH_TOPS, GroundTiming

# ports of GroundRx and of the tagger that the e2e and the host reach through the top
SHARED_PORTS = ("bits__valid", "detections__payload", "locked", "delta", "gate_half",
                "hist_data", "slips", "now_ps", "skew", "offset_ps", "tolerance_ps",
                "max_lag_ps", "lost_dead", "tables_built", "calibrated", "merge_late",
                "sync_missing")


def top_module(text: str, name: str) -> str:
    """The RTLIL text of module ``name`` alone (the submodules' ports are not the top's)."""
    start = text.index(f"module \\{name}\n")
    return text[start:text.index("\nend\n", start)]


def ports_of(text: str, name: str = "ground_timing") -> set[str]:
    return set(re.findall(r"wire width \d+ (?:input|output) \d+ +(?:signed +)?\\(\S+)",
                          top_module(text, name)))


def test_ports_variant_takes_codes():
    ports = ports_of(rtlil.convert(GroundTiming(lines="ports"), name="ground_timing"))
    assert {"codes", *SHARED_PORTS} <= ports
    assert not {"inputs", "tdc_clk", "tags__payload", "frames__payload"} & ports


def test_carry_variant_has_pins_lines_and_sampling_clock():
    top = SYNTH_TOPS["ground_timing"]()
    assert isinstance(top, GroundTiming)
    text = rtlil.convert(top, name="ground_timing")
    assert {"inputs", "tdc_clk", *SHARED_PORTS} <= ports_of(text) and "codes" not in ports_of(text)
    cells = re.findall(r"^\s*cell \\(\w+) ", text, re.M)
    assert cells.count("CCU2C") == TDC_CHANNELS * (TDC_TAPS + 1)
    assert cells.count("TRELLIS_FF") == TDC_CHANNELS * TDC_TAPS
    assert cells.count("OSCG") == 1


def test_unknown_lines_is_one_error():
    with pytest.raises(ValueError, match="lines must be one of carry, ports"):
        GroundTiming(lines="wires")
