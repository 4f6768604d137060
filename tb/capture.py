"""Decode the batch registers of :class:`rtl.simonly.batcher.StreamBatcher` in numpy.

A batch is read once per ``depth`` transfers as one binary string (MSB first, as simulators
print vectors); these helpers turn it into a ``[depth, width]`` bit matrix, LSB first per beat,
and cut fields out of it, all vectorised so that Python's cost per pulse stays in nanoseconds.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_ZERO = ord("0")


class CaptureError(ValueError):
    """A batch register held X/Z bits or had the wrong size."""


def beats_of_binstr(binstr: str, width: int) -> np.ndarray:
    """``[beats, width]`` uint8 bit matrix (beat 0 = oldest, bit 0 = LSB) of a batch string."""
    raw = np.frombuffer(binstr.encode("ascii"), dtype=np.uint8)
    bits = raw[::-1] - _ZERO
    if bits.size % width or np.any(bits > 1):
        raise CaptureError(
            f"batch of {bits.size} characters is not clean 0/1 beats of {width} bits"
        )
    return bits.reshape(-1, width)


def field(beats: np.ndarray, lsb: int, width: int) -> np.ndarray:
    """Field ``[lsb, lsb + width)`` (width <= 64) of every beat, as uint64."""
    if not 0 < width <= 64:
        raise ValueError(f"field width {width} must be 1..64")
    weights = np.left_shift(np.uint64(1), np.arange(width, dtype=np.uint64))
    return beats[:, lsb:lsb + width].astype(np.uint64) @ weights


def fields(beats: np.ndarray, widths: Sequence[int]) -> list[np.ndarray]:
    """Consecutive fields of ``widths`` from bit 0 upwards."""
    out = []
    lsb = 0
    for w in widths:
        out.append(field(beats, lsb, w))
        lsb += w
    return out
