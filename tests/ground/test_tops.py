"""The synthesis top elaborates and exposes the ports the integrator wires."""

from amaranth.back import rtlil

from rtl.ground.tops import SYNTH_TOPS, GroundRx


def test_ground_rx_top_converts():
    top = SYNTH_TOPS["ground_rx"]()
    assert isinstance(top, GroundRx)
    text = rtlil.convert(top, name="ground_rx")
    for port in ("bits__valid", "frames__payload", "tags__payload", "records__payload",
                 "delta", "gate_half", "locked"):
        assert f"\\{port}" in text
