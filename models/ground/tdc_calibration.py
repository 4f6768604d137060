"""Code-density calibration of a TDC channel (SPEC 4.0): the golden model of
:class:`rtl.ground.tdc_calibration.TdcCalibrator`, bit for bit.

The calibration oscillator's pulses rise uniformly within a clock period, so the number of
calibration hits with fine code ``k`` is proportional to the width of bin ``k``. After ``N``
(``cal_hits``, a power of two) hits with histogram ``h`` the centre of bin ``k``, in ps before
the sampling edge, is ``T * (cum_k + h_k / 2) / N`` with ``cum_k = sum(h[:k])`` and ``T`` the
clock period; the table holds it rounded to the nearest integer ps, halves up
(:func:`bin_centres`: ``(T * (2 cum_k + h_k) + N) >> (log2 N + 1)``, a constant multiply and a
shift). The tag of a detector hit is ``coarse - table[fine] - skew`` (mod 2**64).

Timing of the calibrator, in cycles of its clock (``a``: the cycle a hit is accepted on its
``hits`` input; the RTL's docstring has the state machine):

* after reset the histogram is cleared for ``K`` cycles (``K`` = taps, one per code); from
  cycle ``K`` calibration hits are collected;
* the ``N``-th calibration hit, accepted at ``t``, closes the histogram; the build starts at
  ``u = t + 1``, or, while an earlier built table still waits for its frame strobe, at the
  cycle after that strobe; it walks the ``K`` codes (writing the table into the inactive bank
  and clearing the histogram) and the table is ready from ``u + K + 1``, when collection
  resumes; calibration hits that come while the histogram is closed are dropped
  (``cal_dropped``);
* a ready table becomes active at the first ``frame_strobe`` at a cycle ``s >= ready``: hits
  accepted from ``s + 1`` use it;
* ``starve_cycles``: every ``starve_cycles`` cycles of collection without a full histogram the
  calibrator counts a starvation (``starve_events``, sticky ``starved``) and keeps the active
  table and the histogram;
* a detector hit that finds no active table (no initial table and none switched in yet) is
  dropped and counted (``uncalibrated``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from models.constants import (
    FABRIC_CLOCK_PS,
    TDC_CAL_HITS,
    TDC_CAL_PERIOD,
    TDC_SKEW_BITS,
    TDC_TAPS,
)
from models.ground.tdc import MASK64, check_cal_period

TABLE_BITS = 13
"""Width of a table entry (integer ps, at most one clock period: 6400 < 2**13)."""

BUILD_GAP = 1
"""Cycles from the ``N``-th calibration hit's acceptance to the first cycle of the build."""


class CalibrationConfigError(ValueError):
    """A calibrator parameter that cannot work (named with its numbers)."""


@dataclass(frozen=True)
class CalibratorConfig:
    """Parameters of one calibrator (the RTL's elaboration parameters and registers).

    ``cal_hits``: hits per table (power of two); ``cal_period``: the channel's calibration
    period (one calibration hit per period at most); ``starve_cycles``: collection cycles
    after which a histogram that is not full counts as starved, the stated recalibration time
    (must allow ``cal_hits * cal_period`` cycles); ``table_bits``: width of a table entry;
    ``skew``: signed skew in ps; ``initial``: the start-up table (``taps`` entries) or None.
    """

    channel: int = 0
    taps: int = TDC_TAPS
    cal_hits: int = TDC_CAL_HITS
    cal_period: int = TDC_CAL_PERIOD
    starve_cycles: int = 2 * TDC_CAL_HITS * TDC_CAL_PERIOD
    table_bits: int = TABLE_BITS
    skew: int = 0
    initial: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        check_config(self)


def check_config(cfg: CalibratorConfig) -> None:
    """Raise :class:`CalibrationConfigError` naming the numbers of a parameter that cannot
    work."""
    n = cfg.cal_hits
    if n < 2 or n & (n - 1):
        raise CalibrationConfigError(f"TDC cal_hits {n} must be a power of two of at least 2 "
                                     f"(the bin-centre division is a shift)")
    try:
        check_cal_period(cfg.cal_period)
    except ValueError as err:
        raise CalibrationConfigError(str(err)) from None
    if cfg.table_bits < 1 or 1 << cfg.table_bits <= FABRIC_CLOCK_PS:
        raise CalibrationConfigError(
            f"TDC table_bits {cfg.table_bits} cannot hold a bin centre of up to "
            f"{FABRIC_CLOCK_PS} ps (needs {FABRIC_CLOCK_PS.bit_length()} bits)")
    need = n * cfg.cal_period
    if cfg.starve_cycles < need:
        raise CalibrationConfigError(
            f"TDC calibration can never fill a table: {n} hits x cal_period {cfg.cal_period} = "
            f"{need} cycles exceed the recalibration time of {cfg.starve_cycles} cycles")
    if not -(1 << (TDC_SKEW_BITS - 1)) <= cfg.skew < 1 << (TDC_SKEW_BITS - 1):
        raise CalibrationConfigError(f"TDC skew {cfg.skew} ps does not fit {TDC_SKEW_BITS} "
                                     f"signed bits")
    if cfg.initial is not None:
        table = np.asarray(cfg.initial)
        if table.shape != (cfg.taps,) or table.min() < 0 or table.max() >= 1 << cfg.table_bits:
            raise CalibrationConfigError(
                f"TDC initial table must have {cfg.taps} entries in [0, {1 << cfg.table_bits})"
                f", got {table.shape[0] if table.ndim else 0} entries in "
                f"[{table.min()}, {table.max()}]")


def bin_centres(hist: np.ndarray, cal_hits: int) -> np.ndarray:
    """Table of bin centres (integer ps, rounded half up) from a histogram of ``cal_hits``
    codes: ``(T * (2 cum + h) + N) >> (log2 N + 1)``."""
    h = np.asarray(hist, dtype=np.int64)
    cum = np.concatenate(([0], np.cumsum(h)[:-1]))
    shift = cal_hits.bit_length()  # log2 N + 1
    return (FABRIC_CLOCK_PS * (2 * cum + h) + cal_hits) >> shift


def linear_table(line_length_ps: float, taps: int = TDC_TAPS) -> np.ndarray:
    """Nominal table of an uncalibrated channel: every bin ``line_length_ps / taps`` wide."""
    width = line_length_ps / taps
    return np.minimum(np.round((np.arange(taps) + 0.5) * width), FABRIC_CLOCK_PS).astype(np.int64)


@dataclass
class CalibratorResult:
    """Tags in output order (``time``, the input index ``source`` of each) and the counters."""

    time: np.ndarray
    source: np.ndarray
    tables: list[np.ndarray] = field(default_factory=list)
    ready: list[int] = field(default_factory=list)
    switches: list[int] = field(default_factory=list)
    tables_built: int = 0
    tables_switched: int = 0
    starve_events: int = 0
    uncalibrated: int = 0
    cal_dropped: int = 0

    @property
    def starved(self) -> bool:
        return self.starve_events > 0


def run_calibrator(coarse: np.ndarray, fine: np.ndarray, calibration: np.ndarray,
                   accepted: np.ndarray, strobes: np.ndarray, cycles: int,
                   cfg: CalibratorConfig = CalibratorConfig()) -> CalibratorResult:
    """Bit-exact model of the calibrator: raw hits (``coarse``, ``fine``, ``calibration``) in
    input order, accepted at cycles ``accepted`` (non-decreasing), ``frame_strobe`` high at the
    cycles ``strobes``, counters read after ``cycles`` cycles from reset."""
    coarse = np.asarray(coarse, dtype=np.uint64)
    fine = np.asarray(fine, dtype=np.int64)
    cal = np.asarray(calibration, dtype=bool)
    accepted = np.asarray(accepted, dtype=np.int64)
    strobes = np.sort(np.asarray(strobes, dtype=np.int64))
    k_codes, n = cfg.taps, cfg.cal_hits
    res = CalibratorResult(time=np.zeros(0, np.uint64), source=np.zeros(0, np.int64))
    hist = np.zeros(k_codes, dtype=np.int64)
    count = 0
    collect_from = k_codes  # after the clearing walk that follows reset
    pending: int | None = None  # ready cycle of a built table that waits for its strobe
    starve = 0

    def switch_after(ready: int) -> int | None:
        j = np.searchsorted(strobes, ready)
        return int(strobes[j]) if j < len(strobes) else None

    for a, f in zip(accepted[cal].tolist(), fine[cal].tolist(), strict=True):
        if a >= cycles:
            break
        if a < collect_from:
            res.cal_dropped += 1
            continue
        hist[f] += 1
        count += 1
        if count < n:
            continue
        starve += (a - collect_from + 1) // cfg.starve_cycles
        start = a + BUILD_GAP
        if pending is not None:
            s = switch_after(pending)
            res.switches.append(s if s is not None else -1)
            start = max(start, s + 1) if s is not None else cycles
        pending = start + k_codes + 1
        res.tables.append(bin_centres(hist, n))
        res.ready.append(pending)
        hist[:] = 0
        count = 0
        collect_from = pending
    if pending is not None and (len(res.switches) < len(res.tables)):
        s = switch_after(pending)
        res.switches.append(s if s is not None else -1)
    if collect_from < cycles and count < n:
        starve += (cycles - collect_from) // cfg.starve_cycles
    # counters count events at cycles before ``cycles``
    built = [r for r in res.ready if r <= cycles]
    res.tables_built = len(built)
    active_from = [s + 1 for s in res.switches if 0 <= s < cycles]
    res.tables_switched = len(active_from)
    res.starve_events = starve
    # tags: the table active at each detector hit's acceptance
    det = np.flatnonzero(~cal & (accepted < cycles))
    epoch = np.searchsorted(np.asarray(active_from, dtype=np.int64), accepted[det],
                            side="right")
    tables = [None if cfg.initial is None else np.asarray(cfg.initial, dtype=np.int64)]
    tables += res.tables[:len(active_from)]
    ok = np.array([tables[e] is not None for e in epoch.tolist()], dtype=bool)
    res.uncalibrated = int((~ok).sum())
    det, epoch = det[ok], epoch[ok]
    entry = np.array([tables[e][f] for e, f in zip(epoch.tolist(), fine[det].tolist(),
                                                    strict=True)], dtype=np.int64)
    with np.errstate(over="ignore"):
        time = coarse[det] - entry.astype(np.uint64) - np.uint64(cfg.skew & MASK64)
    res.time = time
    res.source = det
    return res
