"""Syndrome encoder RTL (rtl.distill.syndrome) against models.postprocess.ec.encode: every rate,
random and all-zero/all-one packets, refused rates and length faults; one body on pysim,
Verilator and Icarus."""

import pytest

from rtl.distill.syndrome import SyndromeEncoder
from tb.distill.syndrome import RATE_BITS, packet_list, syndrome_body, tables
from tb.dual import backend_params, run_body

N = 1536
MS = [232, 464, 784]  # lifts 4, 8, 16: one, two and four words per block at width 4
WIDTH = 4
FAULTS = [[7, "random", 0], [0, "random", -1], [1, "ones", 1], [2, "random", -200],
          [1, "random", 0]]


def params(packets, seed=1, idle=0.2, stall=0.2, ms=MS):
    return {"n": N, "ms": ms, "width": WIDTH, "seed": seed, "idle": idle, "stall": stall,
            "packets": packets}


@pytest.mark.parametrize("backend", backend_params())
def test_every_rate_and_faults(backend):
    p = params(packet_list(range(len(MS)), ["random", "zeros", "ones"]) + FAULTS)
    run_body(backend, SyndromeEncoder(tables(p), WIDTH, RATE_BITS), syndrome_body,
             case="syndrome_rates", params=p)
