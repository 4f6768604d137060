"""SymbolMapper at its thresholds (SPEC 3.2): QRNG draws exactly on each threshold, one below
and one above, on every back end; the expected symbols are stated here, and the golden model
and the RTL must both give them (``tb.satellite.bodies.mapper_edges``)."""

import pytest

from models.symbols import Basis, Intensity
from rtl.satellite.mapper import SymbolMapper
from tb.dual import backend_params, run_body
from tb.satellite import bodies
from tb.satellite.bodies import mapper_case

S, D, V = Intensity.SIGNAL, Intensity.DECOY, Intensity.VACUUM
Z, X = Basis.Z, Basis.X


# Defaults 128 / 192 / 128: each threshold ON, one below, one above; the ends 0 and 255; the
# spare bits 31:17 set (they must not leak into any field).
DEFAULT_EDGES = mapper_case((128, 192, 128), [
    (127, 127, 0, S, Z), (128, 128, 1, D, X), (129, 129, 0, D, X),
    (191, 0, 1, D, Z), (192, 255, 0, V, X), (193, 1, 1, V, Z),
    (0, 0, 0, S, Z), (255, 255, 1, V, X),
    (0xFFFF_FFFF, V, X, 1), (0xFFFE_7F7F, S, Z, 0), (0x0001_8080, D, X, 1), (0xFFFE_C0BF, D, X, 0),
])
# Uneven thresholds 77 / 200 / 31, the same three points around each.
CUSTOM_EDGES = mapper_case((77, 200, 31), [
    (76, 30, 0, S, Z), (77, 31, 1, D, X), (78, 32, 0, D, X),
    (199, 30, 1, D, Z), (200, 31, 0, V, X), (201, 32, 1, V, X),
    (0, 0, 1, S, Z), (255, 255, 0, V, X),
])
# The 9-bit registers' ends: threshold 0 (class never chosen), 256 (always chosen, u = 255 < 256).
EXTREME_EDGES = mapper_case((0, 256, 256), [
    (0, 0, 0, D, Z), (255, 255, 1, D, Z), (1, 254, 0, D, Z), (254, 1, 1, D, Z),
])
ALL_SIGNAL_X = mapper_case((256, 256, 0), [
    (255, 0, 0, S, X), (0, 255, 1, S, X), (128, 128, 0, S, X), (127, 1, 1, S, X),
])
EQUAL_SIGNAL_DECOY = mapper_case((100, 100, 128), [  # decoy probability 0: u = 100 is vacuum
    (99, 127, 0, S, Z), (100, 128, 1, V, X), (101, 129, 0, V, X), (100, 0, 0, V, Z),
])


@pytest.mark.parametrize("backend", backend_params())
def test_mapper_draws_on_each_threshold_take_the_upper_class(backend):
    """``u < threshold`` selects the lower class (SPEC 3.2, ``models.symbols``): a draw equal
    to the threshold already belongs to the next one. One build (the ``mapper_l4`` Verilog of
    ``test_mapper.py``), every threshold set written as registers."""
    run_body(backend, SymbolMapper(4), bodies.mapper_edges, case="mapper_l4",
             params={"lanes": 4, "seed": 3, "idle": 0.3, "stall": 0.3,
                     "cases": [DEFAULT_EDGES, CUSTOM_EDGES, EXTREME_EDGES, ALL_SIGNAL_X,
                               EQUAL_SIGNAL_DECOY]},
             verilog_key="lanes=4")


def test_mapper_edge_case_fails_on_a_wrong_expectation():
    """The check can fail: one expected class moved across its threshold is reported."""
    wrong = mapper_case((128, 192, 128), [(128, 0, 0, S, Z), (0, 0, 0, S, Z), (0, 0, 0, S, Z),
                                  (0, 0, 0, S, Z)])
    with pytest.raises(AssertionError, match="model at thresholds"):
        bodies.mapper_edge_model(wrong, 4)
