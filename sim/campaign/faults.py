"""Fault injection of the campaign: what can go wrong between and inside the two stations.

Four places, each through an interface the code under test already has, so the campaign runs
the real sifting, link and post-processing code unchanged:

* **classical laser link** (sifting, :class:`models.sifting.classical_link.LinkConfig`): random
  and burst loss, bit errors, duplicated, truncated and reordered message copies, drawn by
  :func:`draw_link_faults`;
* **post-processing messages** (:func:`models.postprocess.pipeline.distill`'s ``adversary``):
  :class:`MessageFaults` tampers with (flips one bit), replays (an earlier message of the same
  kind) or truncates authenticated messages in flight, and records which packet or block each
  altered message belongs to, so the run can check that none was accepted;
* **RND cache** (satellite): :func:`flip_cached_symbol` flips one bit of the 4-bit symbol code
  the cache returns for one pulse (``Symbols.packed``: intensity | basis << 2 | bit << 3);
* **stored keys**: :func:`flip_stored_bit` flips one bit of a key file on disk, which the key-file
  reader must refuse (:mod:`models.postprocess.keyfile`).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from models.sifting.classical_link import DOWNLINK_PAYLOAD_FRACTION, LinkConfig
from models.symbols import Symbols

# Post-processing messages that belong to a PA block (the others name their packet).
BLOCK_MESSAGES = frozenset({"pa_seed", "confirm"})
MESSAGE_FAULTS = ("tamper", "replay", "truncate")
SYMBOL_FIELDS = ("intensity_lsb", "intensity_msb", "basis", "bit")  # bits 0..3 of the code
LINK_FAULTS = ("loss", "burst_rate_hz", "burst_s", "ber", "duplicate", "truncate", "reorder_s")


def link_pair(uplink: LinkConfig) -> tuple[LinkConfig, LinkConfig]:
    """(uplink, downlink) with the same fault mix; the downlink shares its rate with sync words."""
    return uplink, replace(uplink, payload_fraction=DOWNLINK_PAYLOAD_FRACTION)


@dataclass(frozen=True)
class FaultLimits:
    """Upper limits of the drawn fault mix (``[faults]`` of a campaign file)."""

    loss: float = 0.3
    burst_rate_hz: float = 2.0
    burst_s: float = 0.1
    ber: float = 1e-5
    duplicate: float = 0.2
    truncate: float = 0.1
    reorder_s: float = 0.02
    message: float = 0.05  # probability that a post-processing message is altered
    cache_flip: float = 0.5  # probability that a run flips one cached symbol bit
    key_flip: float = 0.5  # probability that a run flips one bit of a stored key


def draw_link_faults(rng: np.random.Generator, limits: FaultLimits, latency_s: float
                     ) -> LinkConfig:
    """A random mix: each fault is absent in a quarter of the runs, else uniform up to its
    limit (bursts: a rate and a length), so clean, single-fault and mixed runs all occur."""

    def level(top: float) -> float:
        return 0.0 if rng.random() < 0.25 else float(rng.uniform(0.0, top))

    rate = level(limits.burst_rate_hz)
    return LinkConfig(latency_s=latency_s, loss=level(limits.loss), burst_rate_hz=rate,
                      burst_s=float(rng.uniform(0.0, limits.burst_s)) if rate else 0.0,
                      ber=level(limits.ber), duplicate=level(limits.duplicate),
                      truncate=level(limits.truncate), reorder_s=level(limits.reorder_s))


@dataclass
class MessageFaults:
    """``distill``'s adversary: alters each message with probability ``rate``.

    ``altered`` lists ``(kind, "packet" | "block", number, fault)`` of every message changed in
    flight; a replay needs an earlier, different message of the same kind, so without one the
    fault is a tamper or a truncation.
    """

    rate: float
    rng: np.random.Generator
    altered: list[tuple[str, str, int, str]] = field(default_factory=list)
    _history: dict[str, list[bytes]] = field(default_factory=dict)

    def __call__(self, kind: str, payload: bytes) -> bytes:
        earlier = self._history.setdefault(kind, [])
        earlier.append(payload)
        if self.rng.random() >= self.rate or len(payload) < 4:
            return payload
        older = [m for m in earlier[:-1] if m != payload]
        faults = MESSAGE_FAULTS if older else MESSAGE_FAULTS[:1] + MESSAGE_FAULTS[2:]
        fault = faults[int(self.rng.integers(len(faults)))]
        out = self._alter(fault, payload, older)
        scope = "block" if kind in BLOCK_MESSAGES else "packet"
        self.altered.append((kind, scope, struct.unpack_from(">I", payload)[0], fault))
        return out

    def _alter(self, fault: str, payload: bytes, older: list[bytes]) -> bytes:
        """``payload`` changed by ``fault``; ``older``: earlier messages that differ from it."""
        if fault == "replay":
            return older[int(self.rng.integers(len(older)))]
        if fault == "truncate":
            return payload[:int(self.rng.integers(0, len(payload)))]
        bit = int(self.rng.integers(8 * len(payload)))
        out = bytearray(payload)
        out[bit // 8] ^= 0x80 >> (bit % 8)
        return bytes(out)


def flip_cached_symbol(symbols: Callable[[np.ndarray], Symbols], pulse: int, bit: int
                       ) -> Callable[[np.ndarray], Symbols]:
    """``symbols`` with bit ``bit`` (0..3) of the cached code of ``pulse`` flipped."""

    def lookup(pulses: np.ndarray) -> Symbols:
        sym = symbols(pulses)
        hit = np.asarray(pulses) == pulse
        if not hit.any():
            return sym
        code = sym.packed()
        code[hit] ^= np.uint8(1 << bit)
        return Symbols(code & 3, (code >> 2) & 1, (code >> 3) & 1, sym.im_code, sym.pm_code)

    return lookup


def flip_stored_bit(path: Path, rng: np.random.Generator) -> int | None:
    """Flip one random bit of the file at ``path``; the bit's index, or None if it is empty."""
    data = bytearray(path.read_bytes())
    if not data:
        return None
    bit = int(rng.integers(8 * len(data)))
    data[bit // 8] ^= 0x80 >> (bit % 8)
    path.write_bytes(bytes(data))
    return bit
