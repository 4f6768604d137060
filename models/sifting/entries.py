"""Per-detection golden models of the sifting RTL (SPEC 4.4, 5), bit-exact with the RTL.

Ground reporting
----------------
A detection record is (pulse n, basis, bit). It is **sampled** (its bit revealed for the QBER
estimate) iff ``sample_hash(sample_seed, n) >> 48 < sample_below``: the top 16 bits of Thomas
Wang's 64-bit integer hash of ``n XOR sample_seed``. It stands for the ground's physical RNG in the
simulation: a pure function of n (so model and RTL agree whatever the order and drops), and free of
multipliers (shifts, XORs and adds only: the 64x64 multiplies of the splitmix64 QRNG model would
need more DSP blocks than the ECP5-25 has). Default ``sample_below`` = 6554 (p = 0.10001).
The report of a detection is (n, basis, sampled, bit if sampled else 0).

Sift vector entry (4 bits, :class:`SiftCode`)
---------------------------------------------
=====  ====================================================================================
bits   meaning
=====  ====================================================================================
1:0    satellite intensity (0 signal, 1 decoy, 2 vacuum); 3 = dropped (RND cache EXPIRED or
       PENDING: the satellite has no symbol; or the pulse carried the safe symbol, laser off,
       intensity code 3 in the cache: the satellite had no random symbol for it). The
       detection is dropped on both sides
2      basis match (satellite basis == reported basis); 0 when dropped
3      0 on the link. The ground's link layer sets 1 ("missing") for the detections of an
       uplink frame the satellite never received, so one input stream covers every record.
=====  ====================================================================================

Sifting rule, both sides
------------------------
A detection whose entry is not dropped/missing and whose bases match is either *sampled*: it
updates the (basis, intensity) counters (satellite: detections and errors, i.e. reported bit !=
satellite bit; ground: detections), or not sampled: its bit is appended to the sifted key with the
tags (basis, intensity). Satellite key bit = its symbol bit, ground key bit = its measured bit.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from models.qrng import MASK64
from models.symbols import Intensity

SAMPLE_BELOW_DEFAULT = 6554
SAMPLE_SHIFT = 48
# The code that no mapped symbol has: the safe symbol's (laser off) in the RND cache, and
# "dropped" in a sift entry, so a safe pulse's entry is "dropped" with no translation.
DROPPED_INTENSITY = int(Intensity.OFF)
MATCH_BIT = 1 << 2
MISSING_BIT = 1 << 3


class SiftCode(enum.IntEnum):
    """Special 4-bit sift entries (the others are ``intensity | match << 2``)."""

    DROPPED = DROPPED_INTENSITY
    MISSING = MISSING_BIT | DROPPED_INTENSITY


def sample_hash(sample_seed: int, pulse: np.ndarray | int) -> np.ndarray:
    """Thomas Wang's 64-bit hash ("hash64shift") of ``pulse XOR sample_seed`` (uint64 array).

    Every step is a shift, an XOR or an add, as in :class:`rtl.sifting.ground_report.SampleHash`.
    """
    k = np.asarray(pulse, dtype=np.uint64) ^ np.uint64(sample_seed & MASK64)
    u = np.uint64
    with np.errstate(over="ignore"):
        k = ~k + (k << u(21))
        k ^= k >> u(24)
        k = k + (k << u(3)) + (k << u(8))
        k ^= k >> u(14)
        k = k + (k << u(2)) + (k << u(4))
        k ^= k >> u(28)
        k = k + (k << u(31))
    return k


def sample_flags(sample_seed: int, pulse: np.ndarray, sample_below: int = SAMPLE_BELOW_DEFAULT
                 ) -> np.ndarray:
    """Sampling decision of each pulse index (uint8 0/1)."""
    if not 0 <= sample_below <= 1 << 16:
        raise ValueError(f"sample_below={sample_below} is outside 0..65536")
    top = sample_hash(sample_seed, pulse) >> np.uint64(SAMPLE_SHIFT)
    return (top < np.uint64(sample_below)).astype(np.uint8)


@dataclass(frozen=True)
class Reports:
    """Reports of accepted detections, arrays of equal length, ascending pulse."""

    pulse: np.ndarray  # uint64
    basis: np.ndarray  # uint8
    sampled: np.ndarray  # uint8
    bit: np.ndarray  # uint8, the measured bit if sampled else 0

    def __len__(self) -> int:
        return len(self.pulse)

    def take(self, index: np.ndarray | slice) -> Reports:
        return Reports(self.pulse[index], self.basis[index], self.sampled[index], self.bit[index])


def make_reports(pulse: np.ndarray, basis: np.ndarray, bit: np.ndarray, sample_seed: int,
                 sample_below: int = SAMPLE_BELOW_DEFAULT) -> Reports:
    """Ground reporting of detection records (what :class:`GroundSift` sends on ``reports``)."""
    pulse = np.asarray(pulse, dtype=np.uint64)
    if pulse.size > 1 and np.any(np.diff(pulse.astype(np.int64)) <= 0):
        raise ValueError("detection records must have strictly ascending pulse indices")
    sampled = sample_flags(sample_seed, pulse, sample_below)
    bit = np.asarray(bit, dtype=np.uint8) & 1
    return Reports(pulse, np.asarray(basis, dtype=np.uint8) & 1, sampled, bit * sampled)


@dataclass(frozen=True)
class SiftResult:
    """Output of one side's sifting of a run of detections.

    ``code``: the sift entry per detection; ``key``: index (into the detections) of each sifted
    key bit in order; ``key_bit``, ``key_basis``, ``key_intensity``: the key bits and their tags;
    ``detected`` / ``errors``: sampled-detection counters indexed [basis, intensity] (the ground
    keeps no error counts: zeros); ``dropped``: dropped (expired/pending) entries, ``missing``:
    entries of frames the satellite never received.
    """

    code: np.ndarray
    key: np.ndarray
    key_bit: np.ndarray
    key_basis: np.ndarray
    key_intensity: np.ndarray
    detected: np.ndarray
    errors: np.ndarray
    dropped: int
    missing: int


def _counts(mask: np.ndarray, basis: np.ndarray, intensity: np.ndarray) -> np.ndarray:
    out = np.zeros((2, 3), dtype=np.int64)
    np.add.at(out, (basis[mask].astype(np.int64), intensity[mask].astype(np.int64)), 1)
    return out


def _sift(code: np.ndarray, basis: np.ndarray, sampled: np.ndarray, key_source: np.ndarray,
          errors_mask: np.ndarray | None) -> SiftResult:
    code = np.asarray(code, dtype=np.uint8)
    intensity = code & 3
    present = (code & MISSING_BIT) == 0
    usable = present & (intensity != DROPPED_INTENSITY) & ((code & MATCH_BIT) != 0)
    sampled = np.asarray(sampled, dtype=bool)
    key = np.flatnonzero(usable & ~sampled)
    counted = usable & sampled
    errors = (np.zeros((2, 3), dtype=np.int64) if errors_mask is None
              else _counts(counted & errors_mask, basis, intensity))
    return SiftResult(
        code=code,
        key=key,
        key_bit=np.asarray(key_source, dtype=np.uint8)[key],
        key_basis=np.asarray(basis, dtype=np.uint8)[key],
        key_intensity=intensity[key],
        detected=_counts(counted, basis, intensity),
        errors=errors,
        dropped=int(np.count_nonzero((intensity == DROPPED_INTENSITY) & present)),
        missing=int(np.count_nonzero(code & MISSING_BIT)),
    )


def satellite_codes(reports: Reports, status: np.ndarray, sym_intensity: np.ndarray,
                    sym_basis: np.ndarray) -> np.ndarray:
    """Sift vector entries for reports, given RND cache status (0 OK) and the symbols (a safe
    pulse's intensity, 3, is the dropped code itself)."""
    ok = np.asarray(status) == 0
    intensity = np.where(ok, np.asarray(sym_intensity, dtype=np.uint8), DROPPED_INTENSITY)
    match = ((np.asarray(sym_basis, dtype=np.uint8) == reports.basis)
             & (intensity != DROPPED_INTENSITY))
    return (intensity | (match.astype(np.uint8) << 2)).astype(np.uint8)


def satellite_sift(reports: Reports, status: np.ndarray, sym_intensity: np.ndarray,
                   sym_basis: np.ndarray, sym_bit: np.ndarray) -> SiftResult:
    """Satellite side (model of :class:`SatelliteSift`): entries, key bits, counters."""
    code = satellite_codes(reports, status, sym_intensity, sym_basis)
    sym_bit = np.asarray(sym_bit, dtype=np.uint8)
    return _sift(code, reports.basis, reports.sampled, sym_bit, sym_bit != reports.bit)


def ground_sift(basis: np.ndarray, bit: np.ndarray, sampled: np.ndarray, code: np.ndarray
                ) -> SiftResult:
    """Ground side (model of :class:`GroundSift`): records plus sift entries to key bits."""
    basis = np.asarray(basis, dtype=np.uint8)
    return _sift(code, basis, sampled, bit, None)
