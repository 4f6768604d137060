"""Squasher RTL against models.ground.squash (multi-click pulses, ground RNG): one body
(tb.ground.bodies.squasher) in Amaranth's simulator and through cocotb."""

import pytest

from models.constants import SQUASH_SEED
from rtl.ground.squash import Squasher
from tb.dual import backend_params, run_body
from tb.ground import bodies
from tb.ground.streams import squash_case


def test_stimulus_has_multi_click_pulses():
    _, want = squash_case(6, SQUASH_SEED)
    assert sum(d.mask & (d.mask - 1) != 0 for d in want) >= 15


# slow on cocotb: the ground_rx cocotb test (tests/ground/test_tops.py) runs the squasher on
# both simulators
@pytest.mark.parametrize("backend", backend_params(slow_cocotb=True))
def test_squasher_matches_model(backend):
    run_body(backend, Squasher(SQUASH_SEED), bodies.squasher, case="ground_squash",
             params={"squash_seed": SQUASH_SEED, "seed": 6, "idle": 0.2, "stall": 0.3})
