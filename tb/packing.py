"""Pack and unpack the flattened payloads of the satellite streams (LSB first, as Amaranth lays
out ``data.StructLayout`` / ``ArrayLayout``), vectorised with numpy for batch captures."""

from __future__ import annotations

import numpy as np

from models.symbols import Symbols

SYMBOL_BITS = 4
DRIVE_BITS = 16


def pack_lanes(values: np.ndarray, width: int) -> int:
    """Concatenate ``values`` (one per lane, lane 0 in the LSBs) into one integer."""
    out = 0
    for lane, v in enumerate(np.asarray(values).tolist()):
        out |= int(v) << (width * lane)
    return out


def symbol_beat_value(pulse: int, symbols: Symbols, beat: int) -> int:
    """The flattened ``symbol_beat`` payload of beat ``beat`` of ``symbols`` ([beats, lanes])."""
    lanes = symbols.intensity.shape[1]
    sym = pack_lanes(symbols.packed()[beat], SYMBOL_BITS)
    drive = pack_lanes(
        symbols.im_code[beat].astype(np.uint32) | symbols.pm_code[beat].astype(np.uint32) << 8,
        DRIVE_BITS,
    )
    return pulse | sym << 64 | drive << (64 + SYMBOL_BITS * lanes)


def unpack_fields(values: np.ndarray, widths: list[int]) -> list[np.ndarray]:
    """Split uint64-or-object integers ``values`` into consecutive bit fields of ``widths``."""
    out = []
    shift = 0
    for w in widths:
        out.append(np.array([(int(v) >> shift) & ((1 << w) - 1) for v in values], dtype=object))
        shift += w
    return out
