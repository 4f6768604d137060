"""Compiled layered QC decoder: min-sum bit-exact against a plain-Python reference of the
same schedule (rows in block-major order), sum-product against float64 belief propagation,
agreement with ldpc's BpDecoder where both converge, warm starts, input checks."""

import numpy as np
import pytest
from ldpc import BpDecoder

from models.postprocess import ec, qc_code, qc_decoder

SPA = "sum-product"


def satisfied(h, target, post):
    return not np.any(((h.astype(np.int64) @ (post < 0)) + target) % 2)


def reference_layered(h, target, llr, scaling, max_iter, patience):
    """The min-sum rule of :mod:`models.postprocess.qc_decoder` written plainly over the rows of
    ``h`` in order (float32 scalars), including its termination rules: stop after an iteration
    in which every row was satisfied when it was processed and the hard decision satisfies every
    row, or after ``patience`` iterations without a new minimum of such unsatisfied rows."""
    h = h.tocsr()
    post = np.asarray(llr, dtype=np.float32).copy()
    msg = {(r, v): np.float32(0) for r in range(h.shape[0]) for v in h.indices[
        h.indptr[r]:h.indptr[r + 1]]}
    scaling, lim = np.float32(scaling), qc_decoder.L_MAX
    done = satisfied(h, target, post)
    it, best, best_at = 0, h.shape[0] + 1, 0
    while not done and it < max_iter and it - best_at <= patience:
        it += 1
        unsatisfied = 0
        for r in range(h.shape[0]):
            cols = h.indices[h.indptr[r]:h.indptr[r + 1]]
            unsatisfied += (int(target[r]) + int(np.sum(post[cols] < 0))) % 2
            q = np.array([post[v] - msg[r, v] for v in cols], dtype=np.float32)
            sign = (int(target[r]) + int(np.sum(q < 0))) % 2
            order = np.argsort(np.abs(q), kind="stable")
            for j, v in enumerate(cols):
                mag = scaling * np.abs(q[order[1] if j == order[0] else order[0]])
                new = np.float32(-mag if sign ^ int(q[j] < 0) else mag)
                msg[r, v] = new
                updated = np.float32(min(max(q[j] + new, -lim), lim))
                post[v] = updated
        done = unsatisfied == 0 and satisfied(h, target, post)
        if unsatisfied < best:
            best, best_at = unsatisfied, it
    return (post < 0).astype(np.uint8), it, done


def reference_sum_product(h, target, llr, max_iter):
    """Layered belief propagation written plainly in float64 (|R| = 2 atanh(Π tanh(|q|/2)) over
    the other edges, by direct products), with the kernel's floor, cap and termination rule."""
    h = h.tocsr()
    post = np.asarray(llr, dtype=np.float64).copy()
    msg = np.zeros(h.indices.size)
    done = satisfied(h, target, post)
    it = 0
    while not done and it < max_iter:
        it += 1
        unsatisfied = 0
        for r in range(h.shape[0]):
            edges = np.arange(h.indptr[r], h.indptr[r + 1])
            cols = h.indices[edges]
            unsatisfied += (int(target[r]) + int(np.sum(post[cols] < 0))) % 2
            q = post[cols] - msg[edges]
            t = np.maximum(np.tanh(np.abs(q) / 2), 1e-7)
            sign = (int(target[r]) + int(np.sum(q < 0))) % 2
            before = np.concatenate([[1.0], np.cumprod(t)[:-1]])  # products of the others
            after = np.concatenate([np.cumprod(t[::-1])[-2::-1], [1.0]])
            others = np.minimum(before * after, float(qc_decoder.Y_CAP))
            for j, v in enumerate(cols):
                mag = 2 * np.arctanh(others[j])
                msg[edges[j]] = -mag if sign ^ int(q[j] < 0) else mag
                updated = q[j] + msg[edges[j]]
                post[v] = updated
        done = unsatisfied == 0 and satisfied(h, target, post)
    return (post < 0).astype(np.uint8), it, done


def channel(n, q, seed):
    rng = np.random.default_rng(seed)
    e = (rng.random(n) < q).astype(np.uint8)
    return e, np.full(n, qc_decoder.channel_llr(q), dtype=np.float32)


def layered_h(code):
    """The scalar H with its rows in the decoder's order (layer by layer, block-major)."""
    return code.csr()[code.row_order]


def decode(code, target, llr, max_iter, patience=None, warm=None, rule=SPA):
    return qc_decoder.decode(code, target, llr, 0.75, max_iter, patience, warm, rule)


@pytest.mark.parametrize("patience", [None, 4])
def test_min_sum_bit_exact_against_reference(patience):
    """Rate 0.7 at 4 % with a few punctured bits: some seeds converge, the others do not."""
    outcomes, iterations = [], []
    for seed in range(6):
        code = qc_code.build_code(600, 180, seed)
        e, llr = channel(600, 0.04, seed)
        llr[::40] = 0.0  # punctured positions
        target = ec.syndrome(code.csr(), e)
        got, its, conv = decode(code, target, llr, 25, patience, rule="min-sum")
        want, want_it, want_conv = reference_layered(layered_h(code), target[code.row_order],
                                                     llr, 0.75, 25,
                                                     25 if patience is None else patience)
        assert np.array_equal(got, want) and its == want_it and conv == want_conv
        outcomes.append(conv)
        iterations.append(its)
    assert 0 < sum(outcomes) < 6  # both converging and failing cases are compared
    stuck = [its for its, ok in zip(iterations, outcomes, strict=True) if not ok]
    if patience is None:
        assert stuck == [25] * len(stuck)
    else:  # the stuck codewords give up early
        assert max(stuck) < 25


def test_sum_product_matches_a_float64_reference():
    """Same outcome and word as plain float64 belief propagation in the same schedule (the
    kernel's exp and log are polynomials, so iteration counts may differ by one where a
    posterior sits near 0)."""
    outcomes = []
    for seed in range(6):
        code = qc_code.build_code(600, 160, seed)
        e, llr = channel(600, 0.03, seed)
        llr[::40] = 0.0  # punctured positions: tanh floor
        target = ec.syndrome(code.csr(), e)
        got, its, conv = decode(code, target, llr, 25)
        want, want_it, want_conv = reference_sum_product(layered_h(code),
                                                         target[code.row_order], llr, 25)
        assert conv == want_conv and abs(its - want_it) <= 1
        if want_conv:
            assert np.array_equal(got, want) and np.array_equal(want, e)
        outcomes.append(conv)
    assert 0 < sum(outcomes) < 6  # both converging and failing cases are compared


def test_polynomial_exp_and_log():
    a = np.linspace(0, 40, 20_001, dtype=np.float32)
    got = np.array([qc_decoder._exp_neg(v) for v in a[::20]])
    want = np.exp(-np.minimum(a[::20].astype(float), 17.0))
    assert np.max(np.abs(got / want - 1)) < 5e-5
    w = np.geomspace(1e-30, 2.0 ** 31, 5_001).astype(np.float32)
    got = np.array([qc_decoder._log(v) for v in w])
    assert np.max(np.abs(got - np.log(w.astype(float)))) < 3e-5


def test_converged_means_syndrome_matches():
    shapes = [(20_000, 3_600), (18_000, 3_300), (20_000, 2_400)]
    outcomes = []
    for k, (n, m) in enumerate(shapes):
        code = qc_code.build_code(n, m, 11)
        e, llr = channel(n, 0.02, 20 + k)
        target = ec.syndrome(code.csr(), e)
        got, its, conv = decode(code, target, llr, 80)
        outcomes.append(conv)
        if conv:
            assert np.array_equal(ec.syndrome(code.csr(), got), target)
            assert np.array_equal(got, e)
        else:
            assert its == 80
    assert outcomes == [True, True, False]  # the last code is far too short (f ~0.85)


def test_agrees_with_ldpc_bp_decoder_where_both_converge():
    n, m = 20_000, 4_400  # min-sum needs a lower rate than sum-product on these codes
    h = ec.parity_check_matrix(n, m, 5)
    bp = BpDecoder(h, error_rate=0.02, max_iter=100, bp_method="minimum_sum",
                   ms_scaling_factor=0.75, schedule="parallel")
    both = 0
    for seed in range(4):
        e, llr = channel(n, 0.02, 100 + seed)
        target = ec.syndrome(h, e)
        got, _, conv = decode(qc_code.build_code(n, m, 5), target, llr, 100, rule="min-sum")
        other = np.asarray(bp.decode(target), dtype=np.uint8)
        if conv and bp.converge:
            both += 1
            assert np.array_equal(got, other)
    assert both >= 3


def test_sum_product_agrees_with_ldpc_product_sum():
    n, m = 20_000, 3_400
    h = ec.parity_check_matrix(n, m, 5)
    bp = BpDecoder(h, error_rate=0.02, max_iter=60, bp_method="product_sum",
                   schedule="parallel")
    both = 0
    for seed in range(4):
        e, llr = channel(n, 0.02, 100 + seed)
        target = ec.syndrome(h, e)
        got, _, conv = decode(qc_code.build_code(n, m, 5), target, llr, 60)
        other = np.asarray(bp.decode(target), dtype=np.uint8)
        if conv and bp.converge:
            both += 1
            assert np.array_equal(got, other) and np.array_equal(got, e)
    assert both >= 3


def test_error_free_word_takes_no_iteration():
    code = qc_code.build_code(2_000, 400, 2)
    llr = np.full(2_000, 4.0, dtype=np.float32)
    got, its, conv = decode(code, np.zeros(400, np.uint8), llr, 10)
    assert conv and its == 0 and not got.any()


def test_mismatched_inputs_are_rejected():
    code = qc_code.build_code(1_000, 200, 2)
    with pytest.raises(ValueError, match="do not fit"):
        decode(code, np.zeros(199, np.uint8), np.zeros(1_000, np.float32), 10)
    with pytest.raises(ValueError, match="do not fit"):
        decode(code, np.zeros(200, np.uint8), np.zeros(999, np.float32), 10)
    with pytest.raises(ValueError, match="check-node rule 'tanh'"):
        decode(code, np.zeros(200, np.uint8), np.zeros(1_000, np.float32), 10, rule="tanh")


def test_warm_start_continues_from_the_previous_attempt():
    """A failed attempt's state plus better channel LLRs (disclosed bits) decodes to the same
    word as a cold start, and a converged state needs no further iteration."""
    n, m = 20_000, 3_072  # f ~1.08 at 2 %: fails until a tenth of the bits become known
    code = qc_code.build_code(n, m, 4)
    e, llr = channel(n, 0.02, 7)
    target = ec.syndrome(code.csr(), e)
    warm = qc_decoder.WarmStart()
    _, _, conv = decode(code, target, llr, 60, 20, warm)
    assert not conv and warm.messages is not None
    better = llr.copy()
    better[::10] = np.where(e[::10] != 0, -30.0, 30.0)
    got, its, conv = decode(code, target, better, 150, 20, warm)
    cold, cold_its, cold_conv = decode(code, target, better, 150, 20)
    assert conv and cold_conv
    assert np.array_equal(got, e) and np.array_equal(cold, e)
    assert 0 < its <= 150 and 0 < cold_its <= 150
    again, its_again, conv_again = decode(code, target, better, 150, 20, warm)
    assert conv_again and its_again == 0 and np.array_equal(again, e)
