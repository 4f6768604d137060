"""Syndrome encoder RTL (rtl.distill.syndrome) against models.postprocess.ec.encode: every rate,
random and all-zero/all-one packets, refused rates and length faults; one body on pysim,
Verilator and Icarus (Icarus on a short run)."""

import numpy as np
import pytest

from models.postprocess import ec
from rtl.distill.codes import CodeShapeError, code_table, rate_index, satellite_shapes
from rtl.distill.syndrome import SyndromeEncoder
from tb.distill.syndrome import RATE_BITS, packet_list, syndrome_body, tables
from tb.dual import backend_params, run_body

N = 1536
MS = [232, 464, 784]  # lifts 4, 8, 16: one, two and four words per block at width 4
WIDTH = 4
# A refused rate, a packet one word short, one word long, one ending in its information part.
FAULTS = [[7, "random", 0], [0, "random", -1], [1, "ones", 1], [2, "random", -200]]
RANDOM = packet_list(range(len(MS)), ["random"])
PACKETS = {
    "pysim": [*RANDOM, [2, "zeros", 0], [0, "ones", 0], *FAULTS, [1, "random", 0]],
    "verilator": [*RANDOM, [1, "zeros", 0], [2, "ones", 0], *FAULTS, [0, "random", 0]],
    "icarus": [[1, "random", 0], [5, "random", 0]],  # short: one rate, one refused
}


@pytest.mark.parametrize("backend", backend_params())
def test_every_rate_and_faults(backend):
    p = {"n": N, "ms": MS, "width": WIDTH, "seed": 1, "idle": 0.2, "stall": 0.2,
         "packets": PACKETS[backend]}
    run_body(backend, SyndromeEncoder(tables(p), WIDTH, RATE_BITS), syndrome_body,
             case="syndrome_rates", params=p)


def test_wide_words_without_idle():
    """Width 8 (one word per block at lift 8), full throughput on both sides."""
    p = {"n": 2048, "ms": [416, 832], "width": 8, "seed": 2, "idle": 0.0, "stall": 0.0,
         "packets": packet_list(range(2), ["random"])}
    run_body("pysim", SyndromeEncoder(tables(p), 8, RATE_BITS), syndrome_body,
             case="syndrome_w8", params=p)


@pytest.mark.parametrize(("n", "m", "width", "match"), [
    (1536, 232, 8, "must divide the lift"),
    (1536, 232, 3, "not a power of two"),
    (100, 200, 4, "needs 2 <= m < n"),
])
def test_unsupported_shape_is_refused(n, m, width, match):
    with pytest.raises(CodeShapeError, match=match):
        code_table(n, m, width)


def test_encoder_refuses_mixed_tables():
    with pytest.raises(CodeShapeError, match="width 8"):
        SyndromeEncoder([code_table(N, 232, 4)], 8)
    with pytest.raises(CodeShapeError, match="do not fit"):
        SyndromeEncoder([code_table(N, 232, 4)] * 3, 4, rate_bits=1)


def test_rate_register_follows_the_model_rate_choice():
    """The controller's rate (the model's plan) is in the flight table for QBERs in its range,
    and one past the table (refused) above it."""
    n = ec.CODEWORD_BITS
    shapes = satellite_shapes(n, 0.005, 0.05)
    cfg = ec.EcConfig()
    for qber in (0.0055, 0.01, 0.02, 0.035, 0.045, 0.2):
        detected = np.array([[8000, 0, 0], [0, 0, 0]])
        errors = np.array([[round(8000 * qber), 0, 0], [0, 0, 0]])
        estimate = ec.estimate_channel(detected, errors, cfg)
        (plan,) = ec.plan_codewords(np.zeros(n, dtype=np.uint8), estimate, cfg)
        index = rate_index(shapes, plan)
        inside = estimate.q_up[0] <= 0.05
        assert (index < len(shapes)) == inside, (qber, estimate.q_up[0])
        if inside:
            assert shapes[index] == (plan.n, plan.m)
