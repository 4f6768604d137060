"""The laser link's faults on the line bits: the only Python between the two PHYs.

:class:`Faults` lists them by the index of the transmitted bit they hit, so the same faults give
the same received stream whether the bits pass at once (:func:`apply`) or in pieces as a
co-simulation produces them (:class:`BitChannel`):

* ``flips``: bit errors;
* ``bursts`` ``(start, length)``: loss of signal, the receiver's clock recovery puts out noise
  (seeded random bits, the same for a given ``seed`` and burst) instead of those bits;
* ``slips`` ``(index, +1 | -1)``: the clock recovery slips by one bit: +1 inserts a bit (a copy
  of bit ``index``) in front of bit ``index``, -1 deletes bit ``index``.

The message-level link model (:mod:`models.sifting.classical_link`) loses and corrupts whole
copies; at the bit level nothing existed to reuse. :func:`random_faults` draws faults at rates
per bit (BER, bursts, slips), seeded; :func:`line_faults` the faults of a long line (the
end-to-end co-simulation's, up to ~10^8 bits) without a random draw per bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class ChannelError(ValueError):
    """A fault list that cannot be applied (overlapping or out-of-order faults, bad values)."""


@dataclass(frozen=True)
class Faults:
    """Faults of one direction, by transmitted bit index (see the module docstring)."""

    flips: tuple[int, ...] = ()
    bursts: tuple[tuple[int, int], ...] = ()
    slips: tuple[tuple[int, int], ...] = ()
    seed: int = 0

    def __post_init__(self) -> None:
        if any(f < 0 for f in self.flips):
            raise ChannelError("a bit flip index is negative")
        if any(s < 0 or n < 1 for s, n in self.bursts):
            raise ChannelError("a burst has a negative start or a length below 1")
        indices = [i for i, _ in self.slips]
        if any(d not in (1, -1) for _, d in self.slips) or indices != sorted(set(indices)) or \
                any(i < 0 for i in indices):
            raise ChannelError("slips must be (index, +1 or -1) at distinct ascending indices "
                               ">= 0")

    def burst_bits(self, start: int, length: int) -> np.ndarray:
        """The noise that replaces burst ``(start, length)``."""
        return np.random.default_rng([self.seed, start]).integers(0, 2, length, dtype=np.uint8)


def random_faults(bits: int, seed: int, ber: float = 0.0, burst_rate: float = 0.0,
                  burst_bits: int = 0, slip_rate: float = 0.0) -> Faults:
    """Faults over ``bits`` transmitted bits: bit errors at ``ber``, bursts of ``burst_bits``
    starting at ``burst_rate`` per bit, slips (either way, equally likely) at ``slip_rate``."""
    for name, rate in (("ber", ber), ("burst_rate", burst_rate), ("slip_rate", slip_rate)):
        if not 0.0 <= rate <= 1.0:
            raise ChannelError(f"{name}={rate} is outside 0..1")
    rng = np.random.default_rng(seed)
    flips = np.flatnonzero(rng.random(bits) < ber) if ber else np.zeros(0, dtype=int)
    starts = np.flatnonzero(rng.random(bits) < burst_rate) if burst_rate else []
    slip_at = np.flatnonzero(rng.random(bits) < slip_rate) if slip_rate else []
    ways = rng.choice([-1, 1], len(slip_at)) if len(slip_at) else []
    return Faults(flips=tuple(int(f) for f in flips),
                  bursts=tuple((int(s), burst_bits) for s in starts) if burst_bits else (),
                  slips=tuple((int(i), int(w)) for i, w in zip(slip_at, ways, strict=True)),
                  seed=seed)


def event_indices(rng: np.random.Generator, bits: int, rate: float) -> np.ndarray:
    """Ascending indices in ``0..bits-1`` of independent events at ``rate`` per bit, drawn as
    geometric gaps (memory in events, not in bits)."""
    if rate <= 0.0 or bits <= 0:
        return np.zeros(0, dtype=np.int64)
    parts, end = [], -1
    chunk = int(bits * rate + 6 * np.sqrt(bits * rate)) + 16
    while end < bits:
        at = end + np.cumsum(rng.geometric(rate, chunk).astype(np.int64))
        parts.append(at)
        end = int(at[-1])
    at = np.concatenate(parts)
    return at[at < bits]


def line_faults(bits: int, seed: int, ber: float = 0.0, fade_rate: float = 0.0,
                fade_bits: int = 0, bursts: tuple[tuple[int, int], ...] = (),
                slip_rate: float = 0.0) -> Faults:
    """Faults over ``bits`` transmitted bits of a long line: bit errors at ``ber``; fades of
    ``fade_bits`` (a loss of signal too short to cost the lock; it cuts the message it hits)
    starting at ``fade_rate`` per bit; the given ``bursts`` ``(start, length)``; slips (either
    way) at ``slip_rate``. Same faults for the same arguments."""
    for name, rate in (("ber", ber), ("fade_rate", fade_rate), ("slip_rate", slip_rate)):
        if not 0.0 <= rate <= 1.0:
            raise ChannelError(f"{name}={rate} is outside 0..1")
    rng = np.random.default_rng(seed)
    flips = event_indices(rng, bits, ber)
    fades = event_indices(rng, bits, fade_rate) if fade_bits else np.zeros(0, dtype=np.int64)
    slip_at = event_indices(rng, bits, slip_rate)
    ways = rng.choice([-1, 1], len(slip_at)) if len(slip_at) else []
    return Faults(flips=tuple(flips.tolist()),
                  bursts=(*bursts, *((int(s), fade_bits) for s in fades)),
                  slips=tuple((int(i), int(w)) for i, w in zip(slip_at, ways, strict=True)),
                  seed=seed)


class BitChannel:
    """Applies :class:`Faults` to the transmitted bits as they come, piece by piece."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.sent = 0
        self._flips = np.asarray(sorted(faults.flips), dtype=np.int64)
        self._slip_at = np.asarray([i for i, _ in faults.slips], dtype=np.int64)
        self._slip_way = np.asarray([w for _, w in faults.slips], dtype=np.int64)
        self._burst_start = np.asarray([b for b, _ in faults.bursts], dtype=np.int64)
        self._burst_end = self._burst_start + np.asarray([n for _, n in faults.bursts],
                                                         dtype=np.int64)

    def push(self, bits: np.ndarray) -> np.ndarray:
        """The received bits for the next transmitted ``bits``."""
        bits = np.array(bits, dtype=np.uint8)
        lo, hi = self.sent, self.sent + len(bits)
        self.sent = hi
        # only the bursts that overlap this piece (a long line has thousands)
        for k in np.flatnonzero((self._burst_start < hi) & (self._burst_end > lo)).tolist():
            start, length = self.faults.bursts[k]
            a, b = max(start, lo), min(start + length, hi)
            if a < b:
                bits[a - lo:b - lo] = self.faults.burst_bits(start, length)[a - start:b - start]
        flips = self._flips[(self._flips >= lo) & (self._flips < hi)]
        np.bitwise_xor.at(bits, flips - lo, np.uint8(1))
        here = (self._slip_at >= lo) & (self._slip_at < hi)
        at, way = self._slip_at[here] - lo, self._slip_way[here]
        inserted = np.insert(bits, at[way > 0], bits[at[way > 0]])
        # positions of deletions move by the insertions in front of them
        shift = np.searchsorted(at[way > 0], at[way < 0], side="right")
        return np.delete(inserted, at[way < 0] + shift)


def apply(bits: np.ndarray, faults: Faults) -> np.ndarray:
    """The received bit stream for the transmitted ``bits``."""
    return BitChannel(faults).push(bits)
