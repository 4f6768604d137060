"""SymbolMapper against models.symbols.map_symbols: one body (tb.satellite.bodies.mapper) in
Amaranth's simulator and through cocotb on both simulators, plus model properties."""

import numpy as np
import pytest

from models.qrng import qrng_words
from models.symbols import DriveLut, MapperConfig, map_symbols
from rtl.satellite.mapper import SymbolMapper
from tb.dual import backend_params, run_body
from tb.satellite import bodies


def mapper_params(lanes: int, thresholds: tuple[int, int, int]) -> dict:
    return {"lanes": lanes, "beats": 600, "seed": 7 + lanes, "thresholds": thresholds,
            "idle": 0.2, "stall": 0.3}


@pytest.mark.parametrize("backend", backend_params())
@pytest.mark.parametrize(
    ("lanes", "thresholds"), [(4, (128, 192, 128)), (2, (77, 200, 31))], ids=["default", "custom"])
def test_mapper_matches_model(backend, lanes, thresholds):
    run_body(backend, SymbolMapper(lanes), bodies.mapper, case=f"mapper_l{lanes}",
             params=mapper_params(lanes, thresholds))


def test_one_lane_mapper_matches_model():
    run_body("pysim", SymbolMapper(1), bodies.mapper, case="mapper_l1",
             params=mapper_params(1, (100, 180, 200)))


@pytest.mark.parametrize("backend", backend_params())
def test_lut_registers_drive_the_modulator_codes(backend):
    lut = DriveLut(im=(0x11, 0x22, 0x33), pm=(0x44, 0x55, 0x66, 0x77), im_off=0x0F)
    run_body(backend, SymbolMapper(2), bodies.mapper, case="mapper_l2",
             params={"lanes": 2, "beats": 100, "seed": 3, "thresholds": (128, 192, 128),
                     "lut": {"im": lut.im, "pm": lut.pm, "im_off": lut.im_off},
                     "idle": 0.3, "stall": 0.3})


def test_symbol_frequencies_within_five_sigma():
    """10**6 pulses of the default mapping: every class frequency within 5 sigma."""
    n = 1 << 20
    sym = map_symbols(qrng_words(2022, np.arange(n)))
    expected = {
        "signal": (sym.intensity == 0, 0.5), "decoy": (sym.intensity == 1, 0.25),
        "vacuum": (sym.intensity == 2, 0.25), "Z": (sym.basis == 0, 0.5),
        "bit1": (sym.bit == 1, 0.5),
    }
    for name, (mask, p) in expected.items():
        sigma = np.sqrt(n * p * (1 - p))
        assert abs(mask.sum() - n * p) < 5 * sigma, name


def test_probabilities_map_to_thresholds():
    assert MapperConfig.from_probabilities(0.5, 0.25, 0.5) == MapperConfig(128, 192, 128)
    with pytest.raises(ValueError, match="probabilities out of range"):
        MapperConfig.from_probabilities(0.8, 0.3, 0.5)
    with pytest.raises(ValueError, match="decoy_below"):
        MapperConfig(200, 100, 128)
