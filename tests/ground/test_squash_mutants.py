"""Squasher behaviour the backpressured scoreboard run does not reach: a consumer that is always
ready (the output register must reload in the cycle it is read)."""

from models.constants import SQUASH_SEED
from rtl.ground.squash import Squasher
from tb.dual import run_body
from tb.ground import bodies


def test_always_ready_consumer_gets_every_detection():
    run_body("pysim", Squasher(SQUASH_SEED), bodies.squasher, case="ground_squash",
             params={"squash_seed": SQUASH_SEED, "seed": 6, "idle": 0.0, "stall": 0.0})
