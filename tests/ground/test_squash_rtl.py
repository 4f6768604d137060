"""Squasher RTL against models.ground.squash (multi-click pulses, ground RNG)."""

import random

import pytest

from rtl.ground.squash import Squasher
from tb import pysim
from tb.ground.streams import squash_case
from tb.runner import SIMULATORS, run_cocotb

SEED = 0x1234_5678_9ABC_DEF0


def test_squasher_matches_model():
    payloads, want = squash_case(6, SEED)
    assert sum(d.mask & (d.mask - 1) != 0 for d in want) >= 15  # multi-click pulses
    dut = Squasher(SEED)
    rng = random.Random(2)
    got: list[int] = []
    pysim.run(dut, pysim.consumer(dut.detections, len(want), got, rng, stall=0.3),
              background=[pysim.producer(dut.records, payloads, rng, idle=0.2)])
    assert [(g & ((1 << 64) - 1), (g >> 64) & 1, g >> 65) for g in got] == [
        (d.n, d.basis, d.bit) for d in want]


# slow: the ground_rx cocotb test (tests/ground/test_tops.py) runs the squasher on both simulators
@pytest.mark.slow
@pytest.mark.cocotb
@pytest.mark.parametrize("simulator", SIMULATORS)
def test_squasher_cocotb(simulator):
    run_cocotb(Squasher(SEED), "tb.ground.cocotb_squash", simulator, case="ground_squash",
               params={"ground_seed": SEED, "seed": 3, "idle": 0.2, "stall": 0.3})
