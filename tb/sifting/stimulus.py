"""Shared stimulus and payload conversions for the sifting RTL tests (pysim and cocotb).

Every payload is packed and unpacked through its layout (:mod:`rtl.common.payload`):
:data:`~rtl.sifting.layouts.DetectionRecord`, :data:`~rtl.sifting.layouts.Report`,
:data:`~rtl.sifting.layouts.Counters`, :data:`~rtl.sifting.crc_append.MessageWord` (one 32-bit
message word and the ``last`` flag of its message), :data:`~rtl.sifting.uplink_receiver.FrameBeat`
and the RND cache's symbol rows.
"""

from collections.abc import Sequence

import numpy as np
from amaranth.lib import data

from models.qrng import qrng_words
from models.sifting.entries import SiftResult
from models.sifting.packets import key_beats
from models.symbols import map_symbols, unpack_symbols
from rtl.common.payload import pack_array, unpack, unpack_array
from rtl.satellite.layouts import Symbol
from rtl.sifting.crc_append import MessageWord
from rtl.sifting.layouts import Counters, DetectionRecord, KeyBeat, Report

Payloads = Sequence[int] | np.ndarray


def record_values(pulse: np.ndarray, basis: np.ndarray, bit: np.ndarray) -> list[int]:
    """:data:`~rtl.sifting.layouts.DetectionRecord` payloads of detection arrays."""
    return pack_array(DetectionRecord, {"pulse": pulse, "basis": basis, "bit": bit}).tolist()


def report_values(pulse: np.ndarray, basis: np.ndarray, sampled: np.ndarray, bit: np.ndarray
                  ) -> list[int]:
    """:data:`~rtl.sifting.layouts.Report` payloads of report arrays (scalars broadcast)."""
    return pack_array(Report, {"pulse": pulse, "basis": basis, "sampled": sampled,
                               "bit": bit}).tolist()


def field_tuples(layout: data.StructLayout, values: Payloads) -> list[tuple[int, ...]]:
    """Payloads as tuples of their fields, in the layout's field order."""
    fields = unpack_array(layout, values)
    return list(zip(*(fields[name].tolist() for name in layout.members), strict=True))


def report_tuples(values: Payloads) -> list[tuple[int, int, int, int]]:
    """:data:`~rtl.sifting.layouts.Report` payloads as (pulse, basis, sampled, bit)."""
    return field_tuples(Report, values)


def counters(value: int) -> np.ndarray:
    """A :data:`rtl.sifting.layouts.Counters` value as a [basis, intensity] array."""
    return np.array(unpack(Counters, value)).reshape(2, 3)


def key_tags(beats: Payloads) -> list[int]:
    """:data:`~rtl.sifting.layouts.KeyBeat` payloads with the key bit cleared: what both sides
    must agree on (basis, intensity, packet boundary)."""
    return pack_array(KeyBeat, {**unpack_array(KeyBeat, beats), "bit": 0}).tolist()


def symbol_codes(seed: int, count: int) -> np.ndarray:
    return map_symbols(qrng_words(seed, np.arange(count, dtype=np.uint64))).packed()


def write_beats(codes: np.ndarray, lanes: int) -> list[int]:
    """RND cache write beats (``ArrayLayout(Symbol, lanes)``) of 4-bit symbol codes
    (:meth:`models.symbols.Symbols.packed`), lane 0 first; a partial last row is dropped."""
    rows = len(codes) // lanes
    intensity, basis, bit = unpack_symbols(np.asarray(codes)[:rows * lanes].reshape(rows, lanes))
    return pack_array(data.ArrayLayout(Symbol, lanes),
                      {"intensity": intensity, "basis": basis, "bit": bit}).tolist()


def expected_key(result: SiftResult, packet_bits: int) -> list[int]:
    return key_beats(result.key_bit, result.key_basis, result.key_intensity, packet_bits).tolist()


def detections(rng: np.random.Generator, count: int, span: int, start: int = 0
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pulse = start + np.sort(rng.choice(span, size=count, replace=False)).astype(np.uint64)
    return (pulse, rng.integers(0, 2, count).astype(np.uint8),
            rng.integers(0, 2, count).astype(np.uint8))


def message_beats(messages: Sequence[np.ndarray]) -> list[int]:
    """:data:`~rtl.sifting.crc_append.MessageWord` beats of whole messages (uint32 words each),
    ``last`` on each message's final word."""
    words = [np.asarray(m, dtype=np.uint64) for m in messages]
    if not words:
        return []
    last = np.zeros(sum(len(w) for w in words), dtype=np.uint8)
    last[np.cumsum([len(w) for w in words]) - 1] = 1
    return pack_array(MessageWord, {"data": np.concatenate(words), "last": last}).tolist()


def split_copies(beats: Payloads) -> list[np.ndarray]:
    """:data:`~rtl.sifting.crc_append.MessageWord` beats cut into messages (uint32 arrays); words
    after the last ``last`` (a message still under way) are left out."""
    fields = unpack_array(MessageWord, beats)
    ends = np.flatnonzero(fields["last"]) + 1
    return np.split(fields["data"].astype(np.uint32), ends)[:len(ends)]
