"""Golden-model values as stream payloads of the satellite blocks, through their layouts.

Thin adapters between :mod:`models` (numpy arrays per field) and the flat payload integers that
drivers send and monitors return; every offset comes from the layout in
:mod:`rtl.satellite.layouts` via :mod:`rtl.common.payload`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from amaranth.lib import data

from models.symbols import Symbols
from rtl.common.payload import pack, pack_array
from rtl.satellite.layouts import Symbol, qrng_beat, symbol_beat


def pack_lanes(values: Sequence[int] | np.ndarray, width: int) -> int:
    """One beat of ``len(values)`` lanes of ``width`` bits (lane 0 in the LSBs)."""
    values = [int(v) for v in np.asarray(values).tolist()]
    return pack(data.ArrayLayout(width, len(values)), values)


def qrng_beats(words: np.ndarray) -> np.ndarray:
    """``qrng_beat(lanes)`` payloads of QRNG words shaped ``[beats, lanes]``."""
    return pack_array(qrng_beat(words.shape[1]), np.asarray(words, dtype=np.uint64))


def _symbol_fields(symbols: Symbols) -> dict[str, np.ndarray]:
    return {"intensity": symbols.intensity, "basis": symbols.basis, "bit": symbols.bit}


def symbol_beats(symbols: Symbols, first_pulse: int = 0) -> np.ndarray:
    """``symbol_beat(lanes)`` payloads of mapped pulses shaped ``[beats, lanes]``, the first
    beat's lane 0 being pulse ``first_pulse``."""
    beats, lanes = symbols.intensity.shape
    return pack_array(symbol_beat(lanes), {
        "pulse": first_pulse + lanes * np.arange(beats, dtype=np.uint64),
        "symbol": _symbol_fields(symbols),
        "drive": {"im": symbols.im_code, "pm": symbols.pm_code},
    })


def cache_rows(symbols: Symbols) -> np.ndarray:
    """RND cache write payloads (an array of ``Symbol`` per beat) of ``[beats, lanes]`` symbols."""
    return pack_array(data.ArrayLayout(Symbol, symbols.intensity.shape[1]), _symbol_fields(symbols))
