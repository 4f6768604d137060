"""Golden-model values as the stream payloads of the satellite and ground blocks.

Thin adapters between :mod:`models` (numpy arrays or records per field) and the flat payload
integers that drivers send and monitors return; every offset comes from the block's layout
(:mod:`rtl.satellite.layouts`, :mod:`rtl.ground.layouts`, :mod:`rtl.sifting.layouts`) via
:mod:`rtl.common.payload`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from amaranth.lib import data

from models.ground.squash import Detection
from models.ground.sync import FrameEvent as FrameEventModel
from models.ground.timing import Record
from models.symbols import Symbols
from rtl.common.payload import pack, pack_array
from rtl.ground.layouts import Tag, TimingRecord
from rtl.ground.sync import FrameEvent
from rtl.satellite.layouts import Symbol, mapped_beat, qrng_beat, symbol_beat
from rtl.sifting.layouts import DetectionRecord


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


def mapped_beats(symbols: Symbols) -> np.ndarray:
    """``mapped_beat(lanes)`` payloads (the symbol mapper's) of ``[beats, lanes]`` symbols."""
    return pack_array(mapped_beat(symbols.intensity.shape[1]), {
        "symbol": _symbol_fields(symbols),
        "drive": {"im": symbols.im_code, "pm": symbols.pm_code},
    })


def cache_rows(symbols: Symbols) -> np.ndarray:
    """RND cache write payloads (an array of ``Symbol`` per beat) of ``[beats, lanes]`` symbols."""
    return pack_array(data.ArrayLayout(Symbol, symbols.intensity.shape[1]), _symbol_fields(symbols))


def tag_payloads(time: np.ndarray, channel: np.ndarray, frame: np.ndarray) -> np.ndarray:
    """``Tag`` payloads of a time-tag stream (the TDC's output)."""
    return pack_array(Tag, {"time": np.asarray(time, dtype=np.uint64),
                            "channel": np.asarray(channel), "frame": np.asarray(frame)})


def record_payloads(records: Sequence[Record]) -> np.ndarray:
    """``TimingRecord`` payloads of indexer records (:func:`models.ground.timing.run_indexer`)."""
    return pack_array(TimingRecord, {
        "n": np.array([r.n for r in records], dtype=np.uint64),
        "channel": np.array([r.channel for r in records], dtype=np.int64),
        "r16": np.array([r.r16 for r in records], dtype=np.int64),
        "status": np.array([int(r.status) for r in records], dtype=np.int64),
    })


def detection_payloads(detections: Sequence[Detection]) -> np.ndarray:
    """``DetectionRecord`` payloads of squashed detections (:func:`models.ground.squash.squash`)."""
    return pack_array(DetectionRecord, {
        "pulse": np.array([d.n for d in detections], dtype=np.uint64),
        "basis": np.array([d.basis for d in detections], dtype=np.int64),
        "bit": np.array([d.bit for d in detections], dtype=np.int64),
    })


def frame_event_payloads(events: Sequence[FrameEventModel]) -> np.ndarray:
    """``FrameEvent`` payloads of sync detector events (:func:`models.ground.sync.detect`)."""
    return pack_array(FrameEvent, {
        "frame": np.array([e.frame for e in events], dtype=np.uint64),
        "position": np.array([e.position for e in events], dtype=np.uint64),
        "flywheel": np.array([int(e.flywheel) for e in events], dtype=np.int64),
    })
