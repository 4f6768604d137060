"""Sifted-key packets (SPEC 5): 100,000-bit packets with per-bit (basis, intensity) tags.

Both sides append key bits in processing order (ascending pulse index, see ``docs/sifting.md``);
a packet closes at exactly ``packet_bits`` bits; a partial packet at the end of a pass is reported
(:attr:`Packetizer.partial_bits`) and dropped.

RTL key stream beat (:data:`rtl.sifting.layouts.KeyBeat`), as an integer (LSB first)::

    bit 0   key bit
    bit 1   basis (0 Z, 1 X)
    3:2     intensity (0 signal, 1 decoy, 2 vacuum)
    bit 4   last: this bit closes a packet
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

PACKET_BITS = 100_000


@dataclass(frozen=True)
class Packet:
    index: int
    bit: np.ndarray
    basis: np.ndarray
    intensity: np.ndarray
    pulse: np.ndarray | None = field(default=None, repr=False)

    def same_as(self, other: Packet) -> bool:
        """Identical boundaries (index, length), tags and, where both know them, pulses."""
        same = (self.index == other.index and np.array_equal(self.basis, other.basis)
                and np.array_equal(self.intensity, other.intensity))
        if self.pulse is not None and other.pulse is not None:
            same = same and np.array_equal(self.pulse, other.pulse)
        return same


class Packetizer:
    """Accumulates tagged key bits and emits each full packet."""

    def __init__(self, packet_bits: int = PACKET_BITS) -> None:
        if packet_bits < 1:
            raise ValueError(f"packet_bits={packet_bits} must be positive")
        self.packet_bits = packet_bits
        self.packets: list[Packet] = []
        self._parts: list[tuple[np.ndarray, ...]] = []
        self._fill = 0

    @property
    def partial_bits(self) -> int:
        return self._fill

    def push(self, bit: np.ndarray, basis: np.ndarray, intensity: np.ndarray,
             pulse: np.ndarray | None = None) -> list[Packet]:
        """Append key bits; return the packets they closed."""
        n = len(bit)
        if pulse is None:
            pulse = np.zeros(n, dtype=np.uint64)
        arrays = [np.asarray(a) for a in (bit, basis, intensity, pulse)]
        closed: list[Packet] = []
        start = 0
        while start < n:
            take = min(n - start, self.packet_bits - self._fill)
            self._parts.append(tuple(a[start:start + take] for a in arrays))
            self._fill += take
            start += take
            if self._fill == self.packet_bits:
                cols = [np.concatenate(c) for c in zip(*self._parts, strict=True)]
                packet = Packet(len(self.packets), cols[0].astype(np.uint8),
                                cols[1].astype(np.uint8), cols[2].astype(np.uint8),
                                cols[3].astype(np.uint64))
                self.packets.append(packet)
                closed.append(packet)
                self._parts, self._fill = [], 0
        return closed


def key_beats(bit: np.ndarray, basis: np.ndarray, intensity: np.ndarray, packet_bits: int,
              first: int = 0) -> np.ndarray:
    """RTL key stream beats for key bits ``first, first+1, ...`` of a side (int64 array)."""
    position = np.arange(len(bit), dtype=np.int64) + first
    last = (position % packet_bits) == packet_bits - 1
    return (np.asarray(bit, dtype=np.int64) | np.asarray(basis, dtype=np.int64) << 1
            | np.asarray(intensity, dtype=np.int64) << 2 | last.astype(np.int64) << 4)
