"""Compiled layered syndrome decoder (numba; sum-product or normalised min-sum check rule),
several codewords per call.

Decodes error patterns e with H e = s for a batch of codewords of possibly different codes:
the codes' row-wise (CSR) structures are concatenated (row pointers and column indices shifted
into one global numbering), so one call serves the five codewords of a packet and each codeword
stops on its own (early termination).

Algorithm (float32, per codeword): posterior LLRs L (channel LLR log(P(e=0)/P(e=1)) to start),
check-to-variable messages R per edge (0 to start). A *layered* (row-serial) schedule: for each
check row r in order, q_e = L_v − R_e over its edges; the new R_e = scaling · (−1)^(s_r ⊕
signs of the other q) · (the smallest |q| of the other edges) (min-sum: smallest and second
smallest magnitude); L_v = q_e + R_e at once, so later rows of the same iteration already see
it (about half the iterations of a flooding schedule). Posteriors are clipped to ±``L_MAX``.

Check rule "sum-product" (belief propagation, the ``ec`` default): |R_e| = 2 atanh(Π_(others)
tanh(|q|/2)), computed as t = tanh(|q|/2) = (1 − exp(−|q|))/(1 + exp(−|q|)) per edge (floored
at ``TANH_FLOOR``: a punctured bit has q = 0), the row's product P, and per edge y = P / t_e
(capped at ``TANH_CEIL``), |R_e| = log((1 + y)/(1 − y)): one exp and one log per edge (~4x
the min-sum cost per edge and iteration), but min-sum's approximation of the large-degree
checks of high-rate codes costs ~0.1 of efficiency (docs/postprocessing.md). Same signs,
schedule and termination rules as min-sum; ``scaling`` is unused.

Early termination, exact: before the first iteration the hard decision of the channel is
checked against s; during an iteration every row's parity is taken from the signs of L as they
are when the row is processed, and the hard-decision flips are counted. An iteration with no
flip and no unsatisfied row proves the hard decision satisfies every check (the signs seen were
the final ones), at no extra pass over the edges. Costs: about 2 reads of L and R per edge and
iteration; measured speed in docs/postprocessing.md.

``@njit(cache=True)``: the compiled kernel is cached in ``__pycache__`` (first call in a fresh
checkout compiles it, ~2 s; later processes load it).
"""

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numba
import numpy as np
import scipy.sparse as sp

L_MAX = np.float32(1e4)  # posterior clip: far above any channel LLR, far below float32 range
RULES = ("min-sum", "sum-product")  # check-node rules of decode_batch


TANH_FLOOR = np.float32(1e-7)  # sum-product: smallest tanh(|q|/2) kept (q = 0: punctured bits)
TANH_CEIL = np.float32(0.99999988)  # largest product kept: messages stay below ~16.6


@numba.njit(cache=True, nogil=True, fastmath=True)
def _layered_decoder(indptr: np.ndarray, indices: np.ndarray, rows: np.ndarray,
                     target: np.ndarray, sum_product: bool, scaling: np.float32, max_iter: int,
                     patience: int, messages: np.ndarray, posterior: np.ndarray,
                     iterations: np.ndarray, converged: np.ndarray) -> None:
    width = 1
    for r in range(indptr.size - 1):
        width = max(width, indptr[r + 1] - indptr[r])
    qs = np.empty(width, dtype=np.float32)
    ts = np.empty(width, dtype=np.float32)
    one = np.float32(1.0)
    for k in range(rows.size - 1):
        r0, r1 = rows[k], rows[k + 1]
        ok = True
        for r in range(r0, r1):
            parity = target[r] != 0
            for e in range(indptr[r], indptr[r + 1]):
                parity ^= posterior[indices[e]] < 0
            if parity:
                ok = False
                break
        it = 0
        best = r1 - r0 + 1
        best_at = 0
        while not ok and it < max_iter and it - best_at <= patience:
            it += 1
            flips = 0
            unsatisfied = 0
            for r in range(r0, r1):
                start, stop = indptr[r], indptr[r + 1]
                min1 = L_MAX
                min2 = L_MAX
                at = 0
                product = one
                sign = target[r] != 0
                hard = sign
                for j in range(stop - start):
                    lv = posterior[indices[start + j]]
                    hard ^= lv < 0
                    q = lv - messages[start + j]
                    qs[j] = q
                    sign ^= q < 0
                    a = abs(q)
                    if sum_product:
                        x = np.float32(math.exp(-min(a, np.float32(30.0))))
                        t = max((one - x) / (one + x), TANH_FLOOR)  # tanh(|q| / 2)
                        ts[j] = t
                        product *= t
                    else:
                        min2 = min(min2, max(min1, a))
                        at = j if a < min1 else at
                        min1 = min(min1, a)
                unsatisfied += hard
                low = scaling * min1
                second = scaling * min2
                for j in range(stop - start):
                    q = qs[j]
                    if sum_product:
                        y = min(product / ts[j], TANH_CEIL)  # tanh of the others' half-LLRs
                        mag = np.float32(math.log((one + y) / (one - y)))
                    else:
                        mag = second if j == at else low
                    new = -mag if sign ^ (q < 0) else mag
                    messages[start + j] = new
                    v = indices[start + j]
                    post = min(max(q + new, -L_MAX), L_MAX)
                    flips += (post < 0) != (posterior[v] < 0)
                    posterior[v] = post
            ok = flips == 0 and unsatisfied == 0
            if unsatisfied < best:
                best = unsatisfied
                best_at = it
        iterations[k] = it
        converged[k] = ok


def csr_arrays(h: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """Row pointers and column indices (int32) of a parity-check matrix, for the kernel."""
    h = sp.csr_matrix(h)
    h.sort_indices()
    return h.indptr.astype(np.int32), h.indices.astype(np.int32)


def channel_llr(p: np.ndarray) -> np.ndarray:
    """float32 LLR log((1 − p)/p) of error probabilities p (p = 1/2: 0, unknown)."""
    p = np.asarray(p, dtype=np.float64)
    return np.log1p(-p) - np.log(p)


@dataclass
class WarmStart:
    """Decoder state of one codeword kept between attempts (filled by :func:`decode_batch`):
    the next attempt continues from these messages with the posteriors moved by the change of
    the channel LLRs (posterior = channel LLR + Σ incoming messages)."""

    messages: np.ndarray | None = None
    posterior: np.ndarray | None = None
    llr: np.ndarray | None = None


def decode_batch(codes: Sequence[tuple[np.ndarray, np.ndarray]], targets: Sequence[np.ndarray],
                 llrs: Sequence[np.ndarray], scaling: float, max_iter: int,
                 patience: int | None = None, warm: Sequence[WarmStart] | None = None,
                 rule: str = "min-sum") -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Decode one error pattern per codeword: ``codes[k]`` = :func:`csr_arrays` of its H,
    ``targets[k]`` its syndrome (uint8, m_k), ``llrs[k]`` channel LLRs (n_k, see
    :func:`channel_llr`). A codeword stops after ``max_iter`` iterations, or (``patience``)
    once that many iterations in a row brought no new minimum of unsatisfied checks (a decoder
    stuck on a plateau rarely converges; counted as the rows were processed). ``warm[k]``: start
    from the state a previous call left there (empty: from the channel), and leave this call's
    state there. ``rule``: check-node update, "min-sum" (normalised by ``scaling``) or
    "sum-product". Returns (error patterns uint8, iterations int32, converged bool), the error
    pattern being the hard decision after the last iteration."""
    if rule not in RULES:
        raise ValueError(f"check-node rule {rule!r} is not one of {', '.join(RULES)}")
    if not (len(codes) == len(targets) == len(llrs)) or (warm is not None
                                                          and len(warm) != len(codes)):
        raise ValueError("decode_batch needs one code, syndrome and LLR vector per codeword")
    rows = np.zeros(len(codes) + 1, dtype=np.int64)
    indptr_parts, index_parts = [np.zeros(1, dtype=np.int64)], []
    message_parts, posterior_parts = [np.zeros(0, np.float32)], [np.zeros(0, np.float32)]
    edge_base = var_base = 0
    for k, ((indptr, indices), target, llr) in enumerate(zip(codes, targets, llrs, strict=True)):
        if indptr.size - 1 != target.size or (indices.size and indices.max() >= llr.size):
            raise ValueError(f"codeword {k}: syndrome of {target.size} bits or LLRs of "
                             f"{llr.size} bits do not fit its {indptr.size - 1}-row code")
        rows[k + 1] = rows[k] + target.size
        indptr_parts.append(indptr[1:].astype(np.int64) + edge_base)
        index_parts.append(indices.astype(np.int64) + var_base)
        llr = np.asarray(llr, dtype=np.float32)
        state = None if warm is None else warm[k]
        if state is None or state.messages is None:
            message_parts.append(np.zeros(indices.size, dtype=np.float32))
            posterior_parts.append(llr.copy())
        else:
            message_parts.append(state.messages)
            posterior_parts.append(np.clip(state.posterior + (llr - state.llr), -L_MAX, L_MAX))
        edge_base += int(indices.size)
        var_base += int(llr.size)
    sizes = np.cumsum([0] + [int(llr.size) for llr in llrs])
    edges = np.cumsum([0] + [int(indices.size) for _, indices in codes])
    messages = np.concatenate(message_parts)
    posterior = np.concatenate(posterior_parts)
    iterations = np.zeros(len(codes), dtype=np.int32)
    converged = np.zeros(len(codes), dtype=np.bool_)
    _layered_decoder(np.concatenate(indptr_parts),
                     np.concatenate(index_parts) if index_parts else np.zeros(0, np.int64),
                     rows, np.concatenate([np.asarray(t, dtype=np.uint8) for t in targets]
                                          ) if targets else np.zeros(0, np.uint8),
                     rule == "sum-product", np.float32(scaling), int(max_iter),
                     int(max_iter if patience is None else patience), messages, posterior,
                     iterations, converged)
    for k, state in enumerate(warm or ()):
        state.messages = messages[edges[k]:edges[k + 1]]
        state.posterior = posterior[sizes[k]:sizes[k + 1]]
        state.llr = np.asarray(llrs[k], dtype=np.float32)
    hard = (posterior < 0).astype(np.uint8)
    return [hard[a:b] for a, b in itertools.pairwise(sizes)], iterations, converged
