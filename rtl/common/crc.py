"""Parallel (one-cycle) CRC of a fixed-width value, unrolled at elaboration time.

The CRC is computed symbolically in Python: each bit of the CRC register is tracked as the set of
input bits it XORs plus a constant, for an MSB-first, non-reflected CRC (the CCITT and Ethernet
MSB-first conventions). The result is a pure XOR network, one LUT level per ~4 inputs.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Value, ValueCastable


def crc_msb_first(data: Value | ValueCastable, poly: int, width: int, init: int) -> Value:
    """CRC of ``data`` (all its bits, MSB first) with generator ``poly`` and register ``init``."""
    data = Value.cast(data)
    n = len(data)
    # State bit i: (frozenset of data bit indices, constant bit).
    state = [(frozenset(), (init >> i) & 1) for i in range(width)]
    for k in range(n - 1, -1, -1):
        top_set, top_const = state[width - 1]
        feedback = (top_set ^ {k}, top_const)
        shifted = [(frozenset(), 0), *state[: width - 1]]
        state = [
            (s ^ feedback[0], c ^ feedback[1]) if (poly >> i) & 1 else (s, c)
            for i, (s, c) in enumerate(shifted)
        ]
    return Cat(
        *(Cat(*(data[j] for j in sorted(indices)), Const(const, 1)).xor()
          for indices, const in state)
    )
