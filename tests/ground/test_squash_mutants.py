"""Squashing behaviour the scoreboard runs do not reach: a consumer that is always ready (the
output register must reload in the cycle it is read), and same-basis double clicks over enough
pulses that the hash cannot hide a wrong basis rule."""

from models.constants import SQUASH_SEED
from models.ground.squash import squash_one
from models.qrng import qrng_hash
from rtl.ground.squash import Squasher
from tb.dual import run_body
from tb.ground import bodies


def test_always_ready_consumer_gets_every_detection():
    run_body("pysim", Squasher(SQUASH_SEED), bodies.squasher, case="ground_squash",
             params={"squash_seed": SQUASH_SEED, "seed": 6, "idle": 0.0, "stall": 0.0})


def test_two_clicks_in_one_basis_keep_that_basis_whatever_the_hash():
    """Both Z detectors (0b0011) or both X detectors (0b1100): the basis is known, only the bit
    is drawn; over many pulses the hash's basis bit takes both values."""
    for n in range(64):
        assert squash_one(n, 0b0011, SQUASH_SEED).basis == 0
        assert squash_one(n, 0b1100, SQUASH_SEED).basis == 1
    assert {int(qrng_hash(SQUASH_SEED, n)) >> 1 & 1 for n in range(64)} == {0, 1}
