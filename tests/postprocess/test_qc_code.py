"""Quasi-cyclic IRA code family: structure, lift, determinism, short cycles."""

import numpy as np
import pytest
import scipy.sparse as sp

from models.postprocess import ec, qc_code


def test_family_degrees_and_staircase():
    h = ec.parity_check_matrix(10_000, 1300, 7)
    assert h.shape == (1300, 10_000) and h.dtype == np.uint8
    weights = np.diff(h.tocsc().indptr)
    info = weights[:8700]
    shares = [np.mean(info == d) for _, d in qc_code.INFO_DEGREES]
    assert shares == pytest.approx([f for f, _ in qc_code.INFO_DEGREES], abs=0.03)
    assert sum(shares) == 1.0  # circulants of a column lie in distinct block rows
    stair = h.tocsc()[:, 8700:].toarray()
    assert np.array_equal(stair, (np.eye(1300) + np.eye(1300, k=-1)
                                  + np.eye(1300, k=1299)).astype(np.uint8))  # one cycle
    rows = np.diff(h.indptr)
    assert rows.std() < 0.2 * rows.mean()  # check degrees nearly equal (least-loaded rows)
    qc_code.build_code.cache_clear()
    again = qc_code.build_code(10_000, 1300, 7).csr()
    assert (h != again).nnz == 0  # both sides build the same matrix from the public seed
    assert (ec.parity_check_matrix(10_000, 1300, 8) != h).nnz > 0


@pytest.mark.parametrize(("n", "m", "lift"), [(100_096, 16_384, 256), (10_000, 1_300, 4),
                                              (600, 180, 2), (1_001, 200, 1),
                                              (199_680, 61_440, 512), (200_000, 60_000, 32)])
def test_lift(n, m, lift):
    code = qc_code.build_code(n, m, 1)
    assert code.lift == lift and code.n == n and code.m == m
    assert code.block_rows >= qc_code.MIN_BLOCK_ROWS or lift == 1


def test_layers_share_no_variable_and_match_the_base_matrix():
    code = qc_code.build_code(24_576, 6_144, 3)  # lift 128, 48 layers
    h = code.csr().tocsr()
    z = code.lift
    for b in (0, 1, 17, code.block_rows - 1):
        rows = code.row_order[b * z:(b + 1) * z]
        layer = h[rows]
        cols = layer.indices
        assert np.unique(cols).size == cols.size  # every variable at most once per layer
        # check (b, z0) meets variable (c, (z0 + shift) mod Z) of each circulant
        z0 = 5
        want = sorted(int(code.var_order[c * z + (z0 + s) % z]) for c, s in zip(
            code.edge_block[code.layer_ptr[b]:code.layer_ptr[b + 1]],
            code.edge_shift[code.layer_ptr[b]:code.layer_ptr[b + 1]], strict=True))
        assert sorted(layer[z0].indices.tolist()) == want


def test_light_columns_are_free_of_four_cycles():
    """No degree-3 column shares two checks with another column (a 4-cycle, low-weight
    codewords with the staircase) when the lift leaves room to choose shifts."""
    h = ec.parity_check_matrix(51_200, 8_192, 2).tocsc().astype(np.int32)  # lift 128
    overlap = (h.T @ h).tocsr()
    overlap.setdiag(0)
    overlap.eliminate_zeros()
    light = np.flatnonzero(np.diff(h.indptr) == 3)
    assert light.size > 20_000
    worst = sp.csr_matrix(overlap[light]).max()
    assert worst <= 1


def test_bad_shape_is_rejected():
    for n, m in ((100, 100), (100, 1), (100, 0)):
        with pytest.raises(ValueError, match="2 <= m < n"):
            qc_code.build_code(n, m, 0)
