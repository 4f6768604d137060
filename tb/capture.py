"""Decode the batches of :class:`rtl.simonly.batcher.StreamBatcher` in numpy.

Two ways in, one bit-matrix format out (``[beats, width]``, oldest beat first, LSB first):

* :func:`beats_of_binstr`: a batch register read through VPI as one binary string (MSB first,
  as simulators print vectors);
* :class:`BatchRecordReader`: the record file that the Verilog batch store appends every
  completed batch to (no VPI read, no wake-up per batch: the fast path of long runs);
  :class:`RecordCollector` polls one capture's file and hands new batches to a check.

:func:`rtl.common.payload.unpack_bits` decodes the matrix through the stream's layout
(``pack_bytes`` packs the model for a byte-wise comparison); :func:`field` / :func:`fields` cut
bit ranges of vectors that have no layout (a batch register, a signature word). All vectorised, so
that Python's cost per pulse stays in nanoseconds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from rtl.simonly.batcher import record_file

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


class BatchRecordError(ValueError):
    """A batch record file is missing or does not match the capture's geometry."""


def _words_bytes(bits: int) -> int:
    return 4 * max(1, -(-bits // 32))  # ``%u`` writes whole 32-bit words, at least one


class BatchRecordReader:
    """Reads the records that ``sim_batch_store`` appends to its ``record_file``.

    A record is the batch tag then the batch, each as little-endian 32-bit words (the tag's low
    64 bits are kept). :meth:`read` returns what has been completed since the previous call.
    """

    def __init__(self, path: Path, width: int, depth: int, tag_bits: int = 0) -> None:
        self.path = Path(path)
        self.width, self.depth = width, depth
        self.tag_bytes = _words_bytes(tag_bits)
        self.record_bytes = self.tag_bytes + _words_bytes(width * depth)
        self._file = None
        self._rest = b""
        self.records = 0

    def read(self, limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(beats, tags)`` of the records completed since the previous call, at most up to
        ``limit`` records in all (later ones stay for a later call): ``[records * depth, width]``
        bit matrix (oldest beat first, bit 0 first, as :func:`beats_of_binstr`) and the uint64
        tag of each record. :attr:`records` counts the records returned so far."""
        if self._file is None:
            if not self.path.exists():
                raise BatchRecordError(f"batch record file {self.path} was not created")
            self._file = self.path.open("rb")
        data = self._rest + self._file.read()
        count = len(data) // self.record_bytes
        if limit is not None:
            count = min(count, max(0, limit - self.records))
        whole = count * self.record_bytes
        self._rest = data[whole:]
        self.records += count
        records = np.frombuffer(data[:whole], dtype=np.uint8).reshape(-1, self.record_bytes)
        tag_bytes = np.zeros((len(records), 8), dtype=np.uint8)
        keep = min(8, self.tag_bytes)
        tag_bytes[:, :keep] = records[:, :keep]
        tags = tag_bytes.view("<u8")[:, 0].astype(np.uint64)
        bits = np.unpackbits(records[:, self.tag_bytes:], axis=1, bitorder="little")
        beats = bits[:, :self.width * self.depth].reshape(-1, self.width)
        return beats, tags

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class RecordCollector:
    """Feeds the batches that one capture appended to its record file to a scoreboard check."""

    def __init__(self, name: str, width: int, depth: int, tag_bits: int,
                 check: Callable[[np.ndarray, np.ndarray], None]) -> None:
        self.reader = BatchRecordReader(Path(record_file(name)), width, depth, tag_bits)
        self.check = check

    @property
    def batches(self) -> int:
        return self.reader.records

    def poll(self, limit: int | None = None) -> None:
        """Check the batches completed since the last poll (at most up to ``limit`` in all)."""
        beats, tags = self.reader.read(limit)
        if len(tags):
            self.check(beats, tags)


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
