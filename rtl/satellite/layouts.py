"""Shapes shared by the satellite blocks: symbols, stream payloads and configuration registers.

Enum values are those of the golden models (:mod:`models.symbols`, :mod:`models.rnd_cache`,
:mod:`models.framing`), so a payload captured from the RTL compares directly with the model.
"""

from __future__ import annotations

from amaranth.lib import data, enum

from models import framing, rnd_cache, symbols


class Intensity(enum.Enum, shape=2):
    SIGNAL = symbols.Intensity.SIGNAL.value
    DECOY = symbols.Intensity.DECOY.value
    VACUUM = symbols.Intensity.VACUUM.value
    OFF = symbols.Intensity.OFF.value


class Basis(enum.Enum, shape=1):
    Z = symbols.Basis.Z.value
    X = symbols.Basis.X.value


class CacheStatus(enum.Enum, shape=2):
    OK = rnd_cache.CacheStatus.OK.value
    EXPIRED = rnd_cache.CacheStatus.EXPIRED.value
    PENDING = rnd_cache.CacheStatus.PENDING.value


class WordKind(enum.Enum, shape=2):
    MARKER = framing.WordKind.MARKER.value
    COUNTER = framing.WordKind.COUNTER.value
    DATA = framing.WordKind.DATA.value
    IDLE = framing.WordKind.IDLE.value


QRNG_WORD_BITS = 32
PULSE_INDEX_BITS = 64

# 4-bit symbol as stored in the RND cache; bit order matches models.symbols.Symbols.packed().
Symbol = data.StructLayout({"intensity": Intensity, "basis": Basis, "bit": 1})

# Modulator drive codes of one pulse (see models.symbols.DriveLut).
Drive = data.StructLayout({"im": 8, "pm": 8})


def qrng_beat(lanes: int) -> data.ArrayLayout:
    """One cycle of raw QRNG words, lane k belongs to pulse 4c + k."""
    return data.ArrayLayout(QRNG_WORD_BITS, lanes)


def mapped_beat(lanes: int) -> data.StructLayout:
    """One QRNG beat's symbols and drive codes (the symbol mapper's output)."""
    return data.StructLayout({
        "symbol": data.ArrayLayout(Symbol, lanes),
        "drive": data.ArrayLayout(Drive, lanes),
    })


def symbol_beat(lanes: int) -> data.StructLayout:
    """One cycle of fired pulses: ``pulse`` is the index of lane 0 (the laser's count)."""
    return data.StructLayout({
        "pulse": PULSE_INDEX_BITS,
        "symbol": data.ArrayLayout(Symbol, lanes),
        "drive": data.ArrayLayout(Drive, lanes),
    })


MapperConfig = data.StructLayout({"signal_below": 9, "decoy_below": 9, "z_below": 9})

LutWrite = data.StructLayout({"en": 1, "addr": 3, "data": 8})

HealthAlarm = data.StructLayout({"rct": 1, "apt": 1})

# Pulses sent with the safe symbol, by cause (rtl.satellite.timebase.LaserTimebase).
SAFE_COUNTER_BITS = 48
SafeCounts = data.StructLayout({"underflow": SAFE_COUNTER_BITS, "alarm": SAFE_COUNTER_BITS})

CacheQuery = data.StructLayout({"pulse": PULSE_INDEX_BITS})

CacheAnswer = data.StructLayout({
    "pulse": PULSE_INDEX_BITS,
    "head": PULSE_INDEX_BITS,
    "status": CacheStatus,
    "symbol": Symbol,
})

# Fine-delay codes of the modulator gearbox's output channels (ECP5 DELAYF steps, 7 bits).
DELAY_BITS = 7
FineDelay = data.StructLayout({"im": DELAY_BITS, "pm": DELAY_BITS, "trigger": DELAY_BITS})

DownlinkWord = data.StructLayout({"data": framing.WORD_BITS, "kind": WordKind})
