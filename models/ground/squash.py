"""Detection records and multi-click squashing (SPEC 4.3), golden model.

Accepted indexer records of one pulse are adjacent in the record stream (their tags lie within
one gate, +-400 ps, of the pulse and pulses are 1600 ps apart), so squashing merges runs of
equal ``n``. Per pulse, the OR of the clicked detectors (bit d = detector d: H, V, D, A) gives:

* one detector: basis = detector // 2, bit = detector & 1;
* several detectors: bit from the ground RNG; basis as the clicks if they agree in basis,
  else from the ground RNG.

The ground RNG is the counter-based QRNG under the squash seed
(:data:`models.constants.SQUASH_SEED` in the co-simulation), bits 0 (bit) and 1 (basis) of
``qrng_hash(squash_seed, n)``: a pure function of (seed, n), the convention of the channel model
(:mod:`models.channel.events`), so both produce the same record for the same clicks.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.ground.timing import Record, Status
from models.qrng import qrng_hash


@dataclass(frozen=True)
class Detection:
    """A detection record for sifting: pulse index, basis (0 Z, 1 X), bit, clicked mask."""

    n: int
    basis: int
    bit: int
    mask: int


def squash_one(n: int, mask: int, squash_seed: int) -> Detection:
    """The record of pulse ``n`` whose clicked detectors are ``mask`` (bit d = detector d)."""
    if mask & (mask - 1) == 0:
        det = mask.bit_length() - 1
        return Detection(n, det >> 1, det & 1, mask)
    rand = int(qrng_hash(squash_seed, n))
    z, x = bool(mask & 3), bool(mask & 12)
    basis = (rand >> 1) & 1 if z and x else int(x)
    return Detection(n, basis, rand & 1, mask)


def squash(records: list[Record], squash_seed: int) -> list[Detection]:
    """Detection records of the ACCEPTED indexer records, one per pulse, in order."""
    out: list[Detection] = []
    n, mask = -1, 0
    for rec in records:
        if rec.status != Status.ACCEPTED:
            continue
        if rec.n != n and mask:
            out.append(squash_one(n, mask, squash_seed))
            mask = 0
        n, mask = rec.n, mask | 1 << rec.channel
    if mask:
        out.append(squash_one(n, mask, squash_seed))
    return out
