"""Quasi-cyclic irregular repeat-accumulate (QC-IRA) LDPC codes: the code family of ``ec``.

A code is a small *base matrix* of ``block_rows`` × (``info_blocks`` + ``block_rows``) blocks,
each block empty or a Z × Z circulant permutation (the identity shifted by ``shift``), Z being
the *lift*. Check (b, z) of block row b meets variable (c, (z + shift) mod Z) of block column c.
Every block row is a *layer* of Z checks with no variable in common, so the layered decoder
(:mod:`models.postprocess.qc_decoder`) processes the Z checks of a layer as contiguous vectors
(SIMD) instead of gathering one variable per edge.

Structure (the same ensemble as the earlier random IRA codes, docs/postprocessing.md):

* **Information blocks**: column degrees of :data:`INFO_DEGREES` (60 % degree 3, 20 % degree 7,
  20 % degree 16), each block's circulants in distinct block rows, the least loaded ones (check
  degrees as equal as possible), random shifts; the degree-3 blocks are kept free of 4-cycles
  (two block columns meeting in block rows b1, b2 with equal shift differences) where the lift
  leaves room.
* **Parity blocks: a circular staircase.** Block column b has identities in block rows b and
  b + 1; the last one meets block row 0 with shift −1, so the m parity columns close a single
  cycle of length m (any m − 1 of them are linearly independent; the padding slots of
  ``ec.Plan`` rely on it).

Scalar numbering (:meth:`QcCode.csr`, used for encoding and the public interface): information
variable (c, z) is column c·Z + z; the parity columns and all checks follow the staircase cycle,
parity (b, z) being column k + z·mb + b and check (b, z) row z·mb + b, so that parity column j
meets rows j and j + 1 (mod m) exactly as in the non-QC staircase.

Lift (:func:`code_lift`): the largest power of two up to :data:`MAX_LIFT` that divides m and
n − m and leaves at least :data:`MIN_BLOCK_ROWS` block rows (a degree-16 column needs 16
distinct block rows, and fewer rows would make the protograph's cycles short); 256 for a
100 kbit codeword at 2 % QBER. Building a code takes milliseconds, so codes are not stored.
"""

import functools
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

#: Column degrees of the information blocks (fraction, degree), chosen by measuring codeword
#: error rates with the sum-product decoder (docs/postprocessing.md).
INFO_DEGREES = ((0.6, 3), (0.2, 7), (0.2, 16))
MAX_LIFT = 512  # longer vectors bring no more speed and fewer block rows
MIN_BLOCK_ROWS = 48
LIGHT_DEGREE = 3  # columns up to this degree are kept free of 4-cycles
MAX_REDRAWS = 64  # attempts per light column before a 4-cycle is accepted (tiny lifts)


def lift_for_rows(m: int) -> int:
    """Largest power of two Z <= MAX_LIFT with m / Z >= MIN_BLOCK_ROWS (1 for small m)."""
    z = 1
    while 2 * z <= MAX_LIFT and m >= 2 * z * MIN_BLOCK_ROWS:
        z *= 2
    return z


def block_lift(m: int) -> int:
    """:func:`lift_for_rows` halved until it divides m."""
    z = lift_for_rows(m)
    while m % z:
        z //= 2
    return z


def code_lift(n: int, m: int) -> int:
    """Lift of the (n, m) code: :func:`block_lift` halved until it also divides n − m."""
    z = block_lift(m)
    while (n - m) % z:
        z //= 2
    return z


@dataclass(frozen=True)
class QcCode:
    """Base matrix of a QC-IRA code, stored by layer: the circulants of block row b are
    entries ``layer_ptr[b]`` to ``layer_ptr[b + 1]`` of ``edge_block`` (block column; the
    parity blocks follow the ``info_blocks`` information blocks) and ``edge_shift``."""

    lift: int
    info_blocks: int
    block_rows: int
    layer_ptr: np.ndarray  # int64, block_rows + 1
    edge_block: np.ndarray  # int64
    edge_shift: np.ndarray  # int64, 0 <= shift < lift

    @property
    def n(self) -> int:
        return (self.info_blocks + self.block_rows) * self.lift

    @property
    def m(self) -> int:
        return self.block_rows * self.lift

    @functools.cached_property
    def var_order(self) -> np.ndarray:
        """Scalar column of each (block column, z), flattened block-major."""
        z, k, mb = self.lift, self.info_blocks * self.lift, self.block_rows
        info = np.arange(k)
        parity = k + (np.arange(z)[None, :] * mb + np.arange(mb)[:, None]).ravel()
        return np.concatenate([info, parity])

    @functools.cached_property
    def row_order(self) -> np.ndarray:
        """Scalar row of each (block row, z), flattened block-major."""
        z, mb = self.lift, self.block_rows
        return (np.arange(z)[None, :] * mb + np.arange(mb)[:, None]).ravel()

    def csr(self) -> sp.csr_matrix:
        """The scalar m × n parity-check matrix (uint8)."""
        z = self.lift
        layer = np.repeat(np.arange(self.block_rows), np.diff(self.layer_ptr))
        lanes = np.arange(z)
        rows = self.row_order.reshape(self.block_rows, z)[layer[:, None], lanes[None, :]]
        var = self.edge_block[:, None] * z + (lanes[None, :] + self.edge_shift[:, None]) % z
        cols = self.var_order[var]
        h = sp.csr_matrix((np.ones(rows.size, dtype=np.uint8), (rows.ravel(), cols.ravel())),
                          shape=(self.m, self.n))
        h.sort_indices()
        return h


@functools.lru_cache(maxsize=64)
def build_code(n: int, m: int, code_seed: int) -> QcCode:
    """The (n, m) code of the family, deterministic in its arguments (both sides build it
    from the public seed)."""
    if not 2 <= m < n:  # one check would make the staircase column meet it twice
        raise ValueError(f"an LDPC code needs 2 <= m < n, got n={n}, m={m}")
    z = code_lift(n, m)
    mb, kb = m // z, (n - m) // z
    rng = np.random.default_rng([code_seed, n, m])
    fractions = np.array([f for f, _ in INFO_DEGREES])
    degree = np.minimum(rng.choice([d for _, d in INFO_DEGREES], size=kb, p=fractions), mb)
    load = np.zeros(mb, dtype=np.int64)
    pairs: set[tuple[int, int, int]] = set()  # (b1 < b2, shift difference) of placed columns
    rows_of: list[np.ndarray] = [np.zeros(0, np.int64)] * kb
    shifts_of: list[np.ndarray] = [np.zeros(0, np.int64)] * kb

    def pair_keys(rows: np.ndarray, shifts: np.ndarray) -> list[tuple[int, int, int]]:
        order = np.argsort(rows)
        r, s = rows[order], shifts[order]
        return [(int(r[i]), int(r[j]), int((s[i] - s[j]) % z))
                for i in range(r.size) for j in range(i + 1, r.size)]

    for b in range(mb):  # staircase: block b in rows b, b + 1; the last wraps with shift -1
        pairs.update(pair_keys(np.array([b, (b + 1) % mb]), np.array([0, z - 1 if b == mb - 1
                                                                         else 0])))
    # Heavy columns first: the light ones then avoid every pair already placed.
    for c in sorted(range(kb), key=lambda c: -degree[c]):
        d = int(degree[c])
        for attempt in range(MAX_REDRAWS):
            # least loaded rows first, ties (and, on a redraw, near-ties) broken at random
            spread = rng.random(mb) * (1 + attempt // 8)
            rows = np.lexsort((spread, load + spread))[:d].astype(np.int64)
            shifts = rng.integers(0, z, d).astype(np.int64)
            keys = pair_keys(rows, shifts)
            if d > LIGHT_DEGREE or not pairs.intersection(keys):
                break
        pairs.update(keys)
        load[rows] += 1
        rows_of[c], shifts_of[c] = rows, shifts
    layer_cols: list[list[tuple[int, int]]] = [[] for _ in range(mb)]
    for c in range(kb):
        for b, s in zip(rows_of[c], shifts_of[c], strict=True):
            layer_cols[int(b)].append((c, int(s)))
    for b in range(mb):
        layer_cols[b].append((kb + b, 0))
        layer_cols[(b + 1) % mb].append((kb + b, z - 1 if b == mb - 1 else 0))
    layer_ptr = np.cumsum([0] + [len(cols) for cols in layer_cols]).astype(np.int64)
    flat = [entry for cols in layer_cols for entry in sorted(cols)]
    return QcCode(z, kb, mb, layer_ptr, np.array([c for c, _ in flat], dtype=np.int64),
                  np.array([s for _, s in flat], dtype=np.int64))
