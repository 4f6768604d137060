"""models.symbols behaviour outside map_symbols' scoreboard: the packed 4-bit code that the RND
cache stores, threshold probabilities, and the threshold range check."""

import itertools

import numpy as np
import pytest

from models.symbols import MapperConfig, Symbols, unpack_symbols
from rtl.common.payload import pack_array
from rtl.satellite.layouts import Symbol


def test_packed_code_is_the_cache_symbol_layout_and_unpacks_to_itself():
    combos = np.array(list(itertools.product(range(3), range(2), range(2))), dtype=np.uint8)
    intensity, basis, bit = combos.T
    empty = np.zeros_like(bit)
    code = Symbols(intensity, basis, bit, empty, empty).packed()
    want = pack_array(Symbol, {"intensity": intensity, "basis": basis, "bit": bit})
    assert np.array_equal(code, want)
    assert all(np.array_equal(a, b) for a, b in zip(unpack_symbols(code), combos.T, strict=True))


def test_probabilities_follow_the_thresholds_and_round_trip():
    config = MapperConfig(100, 180, 200)
    assert config.probabilities() == {"signal": 100 / 256, "decoy": 80 / 256,
                                      "vacuum": 76 / 256, "z": 200 / 256}
    p = config.probabilities()
    assert MapperConfig.from_probabilities(p["signal"], p["decoy"], p["z"]) == config


@pytest.mark.parametrize("thresholds", [(0, 0, 0), (256, 256, 256)])
def test_thresholds_0_and_256_are_accepted(thresholds):
    assert MapperConfig(*thresholds).probabilities()["vacuum"] == 1 - thresholds[1] / 256
