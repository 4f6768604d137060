"""Symbol mapper golden model (SPEC 3.2): QRNG words to (intensity, basis, bit) and drive words.

Per pulse, with the QRNG word fields of :mod:`models.qrng`:

* intensity: ``u_I = word[7:0]``; SIGNAL if ``u_I < signal_below``, DECOY if
  ``u_I < decoy_below``, else VACUUM. Thresholds have 8-bit resolution (9-bit registers so that
  probability 1 = 256/256 is reachable). Defaults 128 / 192 give 0.5 / 0.25 / 0.25.
* basis: ``u_B = word[15:8]``; Z if ``u_B < z_below`` (default 128: p_Z = 1/2), else X.
* bit: ``word[16]``. State: Z0 = H, Z1 = V, X0 = D, X1 = A.

Drive words come from a register LUT (values in :data:`DEFAULT_LUT`, documented in
``docs/architecture.md``): the intensity modulator (IM) takes an 8-bit DAC code per intensity, the
polarization modulator (PM) an 8-bit phase code per state in units of 2*pi/256.

The **safe symbol** (:data:`SAFE_SYMBOL`, ``docs/satellite.md``) is what the laser emits in a
pulse that has no random symbol (QRNG underflow, health alarm): intensity :attr:`Intensity.OFF`
(the laser trigger is suppressed, the IM sits at its "off" code, register 3), basis Z, bit 0
(the PM at the H code). No photon leaves, so nothing about the key can; the RND cache keeps the
code so that both sides drop a detection of that pulse in sifting.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np


class Intensity(enum.IntEnum):
    SIGNAL = 0
    DECOY = 1
    VACUUM = 2
    OFF = 3  # the safe symbol: laser not triggered


class Basis(enum.IntEnum):
    Z = 0
    X = 1


@dataclass(frozen=True)
class MapperConfig:
    signal_below: int = 128
    decoy_below: int = 192
    z_below: int = 128

    def __post_init__(self) -> None:
        for name in ("signal_below", "decoy_below", "z_below"):
            value = getattr(self, name)
            if not 0 <= value <= 256:
                raise ValueError(f"mapper threshold {name}={value} is outside 0..256")
        if self.decoy_below < self.signal_below:
            raise ValueError(
                f"mapper thresholds: decoy_below={self.decoy_below} < signal_below="
                f"{self.signal_below} (decoy probability would be negative)"
            )

    @classmethod
    def from_probabilities(cls, p_signal: float, p_decoy: float, p_z: float) -> MapperConfig:
        """Nearest 8-bit thresholds for the given probabilities (vacuum takes the rest)."""
        if min(p_signal, p_decoy, p_z) < 0 or p_signal + p_decoy > 1 + 1e-12 or p_z > 1:
            raise ValueError(
                f"mapper probabilities out of range: signal={p_signal}, decoy={p_decoy}, Z={p_z}"
            )
        s = round(p_signal * 256)
        return cls(s, round((p_signal + p_decoy) * 256), round(p_z * 256))

    def probabilities(self) -> dict[str, float]:
        return {
            "signal": self.signal_below / 256,
            "decoy": (self.decoy_below - self.signal_below) / 256,
            "vacuum": (256 - self.decoy_below) / 256,
            "z": self.z_below / 256,
        }


# LUT register addresses: 0..3 IM code per intensity (3: laser off, the safe symbol),
# 4..7 PM code per (basis, bit) = 4 + 2*basis + bit.
IM_LUT_BASE = 0
PM_LUT_BASE = 4
LUT_SIZE = 8


@dataclass(frozen=True)
class DriveLut:
    """Modulator drive codes. IM: DAC code per intensity (and ``im_off`` for the safe symbol).
    PM: phase code per BB84 state."""

    im: tuple[int, int, int] = (0xE0, 0x48, 0x00)  # signal, decoy, vacuum
    pm: tuple[int, int, int, int] = (0x00, 0x80, 0x40, 0xC0)  # H, V, D, A: 0, pi, pi/2, 3pi/2
    im_off: int = 0x00  # safe symbol: maximum extinction while the laser is not triggered

    def registers(self) -> list[int]:
        return [*self.im, self.im_off, *self.pm]

    def im_codes(self) -> np.ndarray:
        """IM code per :class:`Intensity` value (OFF included)."""
        return np.asarray([*self.im, self.im_off], dtype=np.uint8)


DEFAULT_LUT = DriveLut()


@dataclass(frozen=True)
class Symbols:
    """Per-pulse symbols and drive words, arrays of equal shape."""

    intensity: np.ndarray
    basis: np.ndarray
    bit: np.ndarray
    im_code: np.ndarray = field(repr=False)
    pm_code: np.ndarray = field(repr=False)

    def packed(self) -> np.ndarray:
        """4-bit symbol code as stored in the RND cache: intensity | basis << 2 | bit << 3."""
        return (self.intensity | (self.basis << 2) | (self.bit << 3)).astype(np.uint8)


def map_symbols(
    words: np.ndarray, config: MapperConfig = MapperConfig(), lut: DriveLut = DEFAULT_LUT
) -> Symbols:
    """Map QRNG words (any shape, uint32) to symbols and drive codes, element-wise."""
    w = np.asarray(words, dtype=np.uint32)
    u_i = (w & 0xFF).astype(np.int32)
    u_b = ((w >> 8) & 0xFF).astype(np.int32)
    intensity = np.where(
        u_i < config.signal_below,
        Intensity.SIGNAL,
        np.where(u_i < config.decoy_below, Intensity.DECOY, Intensity.VACUUM),
    ).astype(np.uint8)
    basis = np.where(u_b < config.z_below, Basis.Z, Basis.X).astype(np.uint8)
    bit = ((w >> 16) & 1).astype(np.uint8)
    im_code = lut.im_codes()[intensity]
    pm_code = np.asarray(lut.pm, dtype=np.uint8)[2 * basis + bit]
    return Symbols(intensity, basis, bit, im_code, pm_code)


def unpack_symbols(code: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inverse of :meth:`Symbols.packed`: (intensity, basis, bit)."""
    c = np.asarray(code, dtype=np.uint8)
    return c & 3, (c >> 2) & 1, (c >> 3) & 1


#: Packed code of the safe symbol (laser off, basis Z, bit 0), as the RND cache stores it.
SAFE_SYMBOL = int(Intensity.OFF)


def with_safe(symbols: Symbols, safe: np.ndarray, lut: DriveLut = DEFAULT_LUT) -> Symbols:
    """``symbols`` with the safe symbol (laser off, Z, 0, IM ``im_off``, PM the H code) wherever
    ``safe`` (broadcast to their shape) is true."""
    safe = np.broadcast_to(np.asarray(safe, dtype=bool), symbols.intensity.shape)

    def pick(value: np.ndarray, safe_value: int) -> np.ndarray:
        return np.where(safe, np.uint8(safe_value), value).astype(np.uint8)

    return Symbols(pick(symbols.intensity, Intensity.OFF), pick(symbols.basis, Basis.Z),
                   pick(symbols.bit, 0), pick(symbols.im_code, lut.im_off),
                   pick(symbols.pm_code, lut.pm[0]))
