"""Confirmation CRC RTL (rtl.distill.confirm) against zlib.crc32 of the key packed MSB first
(SPEC 7, models.postprocess.pipeline): random, all-zero and all-one keys of several lengths."""

import pytest

from rtl.distill.confirm import ConfirmCrc
from tb.distill.auth import crc_body
from tb.dual import backend_params, run_body


@pytest.mark.parametrize("backend", backend_params(slow_cocotb=True))
def test_crc_matches_zlib(backend):
    p = {"seed": 6, "idle": 0.3, "stall": 0.3, "words": [1, 5, 36, 4, 4, 2],
         "kinds": ["random", "random", "random", "zeros", "ones", "random"]}
    run_body(backend, ConfirmCrc(), crc_body, case="confirm_crc", params=p)
