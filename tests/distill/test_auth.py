"""Wegman-Carter engine RTL (rtl.distill.auth) against models.postprocess.auth: tags, checks of
good and corrupted tags, key consumption, an exhausted pool; one body on pysim, Verilator and
Icarus."""

import pytest

from rtl.distill.auth import WegmanCarter
from tb.distill.auth import auth_body
from tb.dual import backend_params, run_body

# Lengths around the 15-byte block: short, exact blocks, one over, and a long message.
MESSAGES = [[1, 0, 0], [15, 0, 0], [16, 1, 0], [30, 1, 1], [44, 0, 0], [200, 1, 0],
            [7, 1, 1], [45, 0, 0]]


@pytest.mark.parametrize("backend", backend_params(slow_cocotb=True))
def test_tags_checks_and_consumption(backend):
    p = {"seed": 3, "idle": 0.2, "stall": 0.2, "pool_words": 4 * (1 + len(MESSAGES)),
         "messages": MESSAGES}
    run_body(backend, WegmanCarter(), auth_body, case="auth_tags", params=p)


@pytest.mark.parametrize("pool_words", [1, 3, 4, 6, 12])
def test_exhausted_pool_gives_no_tag(pool_words):
    """The pool ends inside the hash key, right after it, inside a pad, after two pads."""
    p = {"seed": 4, "idle": 0.1, "stall": 0.1, "pool_words": pool_words,
         "messages": [[20, 0, 0], [5, 1, 0], [16, 0, 0], [3, 0, 0]]}
    run_body("pysim", WegmanCarter(), auth_body, case="auth_pool", params=p)


@pytest.mark.parametrize("digit", [4, 16])
def test_multiplier_digit(digit):
    p = {"seed": 5, "idle": 0.0, "stall": 0.0, "pool_words": 12,
         "messages": [[31, 0, 0], [15, 1, 0]]}
    run_body("pysim", WegmanCarter(digit), auth_body, case="auth_digit", params=p)


def test_bad_digit_is_refused():
    with pytest.raises(ValueError, match="must divide 128"):
        WegmanCarter(7)
