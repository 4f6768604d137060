"""Shared stimulus and packing for the sifting RTL tests (pysim and cocotb)."""

import numpy as np

from models.qrng import qrng_words
from models.sifting.entries import SiftResult
from models.sifting.packets import key_beats
from models.symbols import map_symbols

MASK64 = (1 << 64) - 1
COUNTER_MASK = (1 << 32) - 1


def record_value(pulse: int, basis: int, bit: int) -> int:
    """Flattened :data:`rtl.sifting.layouts.DetectionRecord`."""
    return pulse | basis << 64 | bit << 65


def report_value(pulse: int, basis: int, sampled: int, bit: int) -> int:
    """Flattened :data:`rtl.sifting.layouts.Report`."""
    return pulse | basis << 64 | sampled << 65 | bit << 66


def unpack_report(value: int) -> tuple[int, int, int, int]:
    return value & MASK64, (value >> 64) & 1, (value >> 65) & 1, (value >> 66) & 1


def counters(value: int) -> np.ndarray:
    """A flattened :data:`rtl.sifting.layouts.Counters` as a [basis, intensity] array."""
    return np.array([(value >> (32 * i)) & COUNTER_MASK for i in range(6)]).reshape(2, 3)


def symbol_codes(seed: int, count: int) -> np.ndarray:
    return map_symbols(qrng_words(seed, np.arange(count, dtype=np.uint64))).packed()


def expected_key(result: SiftResult, packet_bits: int) -> list[int]:
    return key_beats(result.key_bit, result.key_basis, result.key_intensity, packet_bits).tolist()


def detections(rng: np.random.Generator, count: int, span: int, start: int = 0
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pulse = start + np.sort(rng.choice(span, size=count, replace=False)).astype(np.uint64)
    return (pulse, rng.integers(0, 2, count).astype(np.uint8),
            rng.integers(0, 2, count).astype(np.uint8))


def split_copies(words: list[int]) -> list[np.ndarray]:
    """Received (data | last << 32) beats cut into messages."""
    copies, current = [], []
    for w in words:
        current.append(w & 0xFFFF_FFFF)
        if w >> 32:
            copies.append(np.array(current, dtype=np.uint32))
            current = []
    return copies
