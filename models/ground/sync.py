"""Sync-word detection on the recovered downlink bit stream (SPEC 4.1), golden model.

The detector looks at every bit position ``p`` (any alignment) once bits ``p .. p+127`` have
arrived: ``dist`` = Hamming distance of bits ``p .. p+63`` to the 64-bit marker of
:mod:`models.framing`, ``counter`` = bits ``p+64 .. p+111`` and ``crc_ok`` = their CRC-16 equals
bits ``p+112 .. p+127``. A position *hits* if ``dist <= tolerance``.

=========  =================================================================================
state      rule at position ``p``
=========  =================================================================================
SEARCH     hit and ``crc_ok``: candidate frame ``counter`` at ``p``; expect the next marker at
           ``p + frame_bits`` with counter + 1 (``hits`` = 1); LOCKED if ``lock_hits`` = 1
VERIFY     only at the expected position: hit, ``crc_ok`` and the expected counter:
           ``hits`` + 1 (LOCKED when it reaches ``lock_hits``); anything else: back to SEARCH
LOCKED     only at the expected position ``p`` (frame ``k``): a hit with ``crc_ok`` and a
           counter other than ``k``: lock lost; a hit: frame event ``(k, p, flywheel=0)``,
           misses = 0; no hit: misses + 1, lock lost if misses > ``max_misses``, else frame
           event ``(k, p, flywheel=1)``
=========  =================================================================================

A frame event is emitted for the frame that completes acquisition and for every frame while
locked. A hit with a failed CRC while locked still counts as a hit (the marker is there; only
the counter has bit errors) and the counter runs on. Losing lock returns to SEARCH at the next
position.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from models.framing import COUNTER_BITS, MARKER_BITS, SYNC_MARKER, crc16_ccitt, header_words

HEADER_BITS = 128
MARKER = np.array([(SYNC_MARKER >> (MARKER_BITS - 1 - i)) & 1 for i in range(MARKER_BITS)],
                  dtype=np.uint8)


class SyncState(enum.IntEnum):
    SEARCH = 0
    VERIFY = 1
    LOCKED = 2


class SyncConfigError(ValueError):
    """A sync-detector parameter out of range."""


@dataclass(frozen=True)
class SyncConfig:
    """``frame_bits``: link bits per frame (16384 on the real link, smaller in fast tests)."""

    frame_bits: int = 1 << 14
    tolerance: int = 6
    lock_hits: int = 2
    max_misses: int = 32

    def __post_init__(self) -> None:
        if not HEADER_BITS <= self.frame_bits < 1 << 20:
            raise SyncConfigError(f"frame_bits={self.frame_bits} outside 128 .. 2**20 - 1")
        if not 0 <= self.tolerance < 16:
            raise SyncConfigError(f"tolerance={self.tolerance} outside 0..15 bit errors")
        if not 1 <= self.lock_hits <= 15 or not 0 <= self.max_misses <= 255:
            raise SyncConfigError(f"lock_hits={self.lock_hits} (1..15) or max_misses="
                                  f"{self.max_misses} (0..255) out of range")


@dataclass(frozen=True)
class FrameEvent:
    frame: int
    position: int
    flywheel: bool


@dataclass(frozen=True)
class SyncResult:
    events: list[FrameEvent]
    losses: int
    candidates: int


def distances(bits: np.ndarray) -> np.ndarray:
    """Hamming distance to the marker at every position with a whole header after it."""
    b = np.asarray(bits, dtype=np.int32)
    ones = np.correlate(b, MARKER.astype(np.int32), "valid")
    zeros = np.correlate(1 - b, 1 - MARKER.astype(np.int32), "valid")
    dist = MARKER_BITS - ones - zeros
    return dist[: max(b.size - HEADER_BITS + 1, 0)]


def _header(bits: np.ndarray, p: int) -> tuple[int, bool]:
    word = int("".join("01"[x] for x in bits[p + MARKER_BITS:p + HEADER_BITS].tolist()), 2)
    counter, crc = word >> 16, word & 0xFFFF
    return counter, crc16_ccitt(counter.to_bytes(COUNTER_BITS // 8, "big")) == crc


def detect(bits: np.ndarray, cfg: SyncConfig | None = None) -> SyncResult:
    """Run the detector over ``bits`` (uint8 0/1, in link order); see the module docstring."""
    cfg = cfg or SyncConfig()
    bits = np.asarray(bits, dtype=np.uint8)
    dist = distances(bits)
    hit = dist <= cfg.tolerance
    hit_pos = np.flatnonzero(hit)
    events: list[FrameEvent] = []
    losses = candidates = 0
    state, p, expected, k, hits, misses = SyncState.SEARCH, 0, 0, 0, 0, 0
    mask = (1 << COUNTER_BITS) - 1
    while True:
        if state == SyncState.SEARCH:
            i = int(np.searchsorted(hit_pos, p))
            while i < hit_pos.size and not _header(bits, int(hit_pos[i]))[1]:
                i += 1
            if i == hit_pos.size:
                break
            p = int(hit_pos[i])
            candidates += 1
            counter = _header(bits, p)[0]
            k, hits, expected = (counter + 1) & mask, 1, p + cfg.frame_bits
            state = SyncState.VERIFY
            if hits >= cfg.lock_hits:
                state, misses = SyncState.LOCKED, 0
                events.append(FrameEvent(counter, p, False))
            p += 1
            continue
        p = expected
        if p >= dist.size:
            break
        counter, crc_ok = _header(bits, p)
        if state == SyncState.VERIFY:
            if hit[p] and crc_ok and counter == k:
                hits += 1
                if hits >= cfg.lock_hits:
                    state, misses = SyncState.LOCKED, 0
                    events.append(FrameEvent(k, p, False))
            else:
                state = SyncState.SEARCH
        elif hit[p] and crc_ok and counter != k:
            state, losses = SyncState.SEARCH, losses + 1
        elif hit[p]:
            misses = 0
            events.append(FrameEvent(k, p, False))
        else:
            misses += 1
            if misses > cfg.max_misses:
                state, losses = SyncState.SEARCH, losses + 1
            else:
                events.append(FrameEvent(k, p, True))
        expected, k = p + cfg.frame_bits, (k + 1) & mask
        p += 1
    return SyncResult(events, losses, candidates)


def _word_bits(words: list[int], width: int) -> np.ndarray:
    return np.array([(w >> (width - 1 - i)) & 1 for w in words for i in range(width)],
                    dtype=np.uint8)


def downlink_bits(first_frame: int, frames: int, frame_bits: int, seed: int, ber: float = 0.0,
                  lost: tuple[int, ...] = (), lead_bits: int = 0) -> np.ndarray:
    """Link bits of ``frames`` frames (header of :mod:`models.framing`, random payload) after
    ``lead_bits`` random bits; frames at offsets ``lost`` get a marker with 16 bit errors (a lost
    sync word); then independent bit errors at rate ``ber``. Frame ``first_frame + i`` starts at
    bit ``lead_bits + i * frame_bits``."""
    rng = np.random.default_rng(seed)
    out = [rng.integers(0, 2, lead_bits, dtype=np.uint8)]
    for i in range(frames):
        head = _word_bits(header_words(first_frame + i), 32)
        if i in lost:
            head[rng.choice(MARKER_BITS, 16, replace=False)] ^= 1
        out += [head, rng.integers(0, 2, frame_bits - HEADER_BITS, dtype=np.uint8)]
    bits = np.concatenate(out)
    return bits ^ (rng.random(bits.size) < ber).astype(np.uint8)
