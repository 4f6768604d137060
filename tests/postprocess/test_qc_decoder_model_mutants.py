"""models.postprocess.qc_decoder: the scratch rows of the compiled kernel cover every layer,
also a code whose widest layer comes last. The kernel's Python form (``py_func``, where numpy
checks every index, unlike the compiled form) must give the compiled result on such a code."""

import numpy as np
import pytest

from models.postprocess import qc_decoder
from models.postprocess.qc_code import QcCode

LIFT = 8


def _last_layer_widest() -> QcCode:
    """Two block rows over six information blocks: 2 circulants in the first, 8 in the last."""
    rng = np.random.default_rng(3)
    return QcCode(lift=LIFT, info_blocks=6, block_rows=2,
                  layer_ptr=np.array([0, 2, 10], dtype=np.int64),
                  edge_block=np.array([0, 6, 0, 1, 2, 3, 4, 5, 6, 7], dtype=np.int64),
                  edge_shift=rng.integers(0, LIFT, 10).astype(np.int64))


@pytest.mark.parametrize("rule", qc_decoder.RULES)
def test_widest_layer_last_decodes_as_compiled_in_python_form(rule, monkeypatch):
    code = _last_layer_widest()
    rng = np.random.default_rng(5)
    error = (rng.random(code.n) < 0.04).astype(np.uint8)
    target = (code.csr() @ error % 2).astype(np.uint8)
    llr = qc_decoder.channel_llr(np.full(code.n, 0.04))
    kernel = qc_decoder._layered_decoder
    # The Python form first: a kernel with too few scratch rows raises IndexError there, while
    # the compiled one writes past its buffers.
    monkeypatch.setattr(qc_decoder, "_layered_decoder", kernel.py_func)
    python = qc_decoder.decode(code, target, llr, 0.75, 20, rule=rule)
    monkeypatch.setattr(qc_decoder, "_layered_decoder", kernel)
    compiled = qc_decoder.decode(code, target, llr, 0.75, 20, rule=rule)
    assert np.array_equal(python[0], compiled[0]) and python[1:] == compiled[1:]
    assert compiled[1] > 0  # the iterations ran over both layers
