"""models.postprocess.qc_code: the code family is part of the link protocol. The satellite and
the ground build each (n, m) code on their own from the public seed, so the construction may
not drift between builds: one code's base matrix is pinned by digest (a deliberate change of
the family updates the digest here)."""

import hashlib

from models.postprocess.ec import EcConfig
from models.postprocess.qc_code import build_code

PINNED = "98824959bf2c70b3875ea132b3e023f1140d20225a2c0eb9823f0beb8cfdbc2b"


def test_code_family_is_the_pinned_one():
    code = build_code(20_000, 3000, EcConfig().code_seed)
    assert (code.lift, code.info_blocks, code.block_rows) == (8, 2125, 375)
    digest = hashlib.sha256(b"".join(a.astype("<i8").tobytes() for a in (
        code.layer_ptr, code.edge_block, code.edge_shift))).hexdigest()
    assert digest == PINNED
