"""RND cache golden model (SPEC 3.3).

The cache keeps the 4-bit symbols of the newest ``rows * lanes`` pulses. A lookup of pulse ``n``
made when ``head`` pulses have been written returns

* ``OK`` and the symbol, if ``head - rows*lanes <= n < head``;
* ``PENDING`` if ``n >= head`` (not transmitted yet);
* ``EXPIRED`` if ``n < head - rows*lanes`` (overwritten: the classical round trip was too long).

The RTL returns ``head`` with every answer, so this model is exact for any interleaving of writes
and lookups. Inside the window a row is always the last write of its address, so no tag is stored.
"""

from __future__ import annotations

import enum

import numpy as np


class CacheStatus(enum.IntEnum):
    OK = 0
    EXPIRED = 1
    PENDING = 2


def cache_lookup(n: np.ndarray, head: np.ndarray, capacity: int) -> np.ndarray:
    """Status (:class:`CacheStatus` codes) of lookups ``n`` made at write pointers ``head``."""
    n = np.asarray(n, dtype=np.uint64)
    head = np.asarray(head, dtype=np.uint64)
    cap = np.uint64(capacity)
    expired = (head > cap) & (n < head - np.minimum(head, cap))
    status = np.full(np.broadcast(n, head).shape, CacheStatus.OK, dtype=np.uint8)
    status[expired] = CacheStatus.EXPIRED
    status[n >= head] = CacheStatus.PENDING
    return status
