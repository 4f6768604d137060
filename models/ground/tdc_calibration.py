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
  ``u = t + BUILD_GAP``, or, while an earlier built table still waits for its frame strobe, at the
  cycle after that strobe; it walks the ``K`` codes (clearing the histogram, collection resumes
  from ``u + K + 1``) and writes the table into the inactive bank through a three-stage pipeline,
  ready from ``u + K + 1 + BUILD_PIPELINE``; calibration hits that come while the histogram is
  closed are dropped (``cal_dropped``);
* a ready table becomes active at the first ``frame_strobe`` at a cycle ``s >= ready``: hits
  accepted from ``s + 1`` use it;
* ``starve_cycles``: every ``starve_cycles`` cycles of collection without a full histogram the
  calibrator counts a starvation (``starve_events``, sticky ``starved``) and keeps the active
  table and the histogram;
* a detector hit that finds no active table (no initial table and none switched in yet) is
  dropped and counted (``uncalibrated``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from models.constants import (
    FABRIC_CLOCK_PS,
    TDC_CAL_HITS,
    TDC_CAL_PERIOD,
    TDC_CAL_SEED,
    TDC_PULSE_PS,
    TDC_SKEW_BITS,
    TDC_TAPS,
)
from models.ground.tdc import (
    CHANNEL_LATENCY,
    MASK64,
    ChannelConfig,
    ChannelResult,
    DelayLine,
    channel_input,
    check_cal_period,
    run_channel,
)

TABLE_BITS = 13
"""Width of a table entry (integer ps, at most one clock period: 6400 < 2**13)."""

BUILD_GAP = 3
"""Cycles from the ``N``-th calibration hit's acceptance to the first cycle of the build (the
histogram's read-modify-write takes three cycles: the walk waits for its last write)."""
BUILD_PIPELINE = 3
"""Cycles by which the table's last entry is written after the walk's last code: the entry is
computed in three registered stages (the histogram's output, the running sum, the scaled
centre) so that no block-RAM output feeds an adder and no multiplier output a block-RAM input
in one cycle."""

CALIBRATOR_LATENCY = 3
"""Cycles from a raw hit's acceptance to its tag (:class:`rtl.ground.tdc_calibration.
TdcCalibrator`: skew subtraction and table read, entry register, entry subtraction)."""


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
        table = np.asarray(cfg.initial, dtype=np.int64).reshape(-1)
        span = f" in [{table.min()}, {table.max()}]" if len(table) else ""
        # a bin centre is at most one clock period, and the merge's safe lags rely on it
        if len(table) != cfg.taps or (len(table) and (
                table.min() < 0 or table.max() >= 1 << cfg.table_bits
                or table.max() > FABRIC_CLOCK_PS)):
            raise CalibrationConfigError(
                f"TDC initial table must have {cfg.taps} entries in [0, {1 << cfg.table_bits})"
                f", none above one clock period ({FABRIC_CLOCK_PS} ps), got {len(table)} "
                f"entries{span}")


def bin_centres(hist: np.ndarray, cal_hits: int) -> np.ndarray:
    """Table of bin centres (integer ps, rounded half up) from a histogram of ``cal_hits``
    codes: ``(T * (2 cum + h) + N) >> (log2 N + 1)``."""
    h = np.asarray(hist, dtype=np.int64)
    cum = np.concatenate(([0], np.cumsum(h)[:-1]))
    shift = cal_hits.bit_length()  # log2 N + 1
    return (FABRIC_CLOCK_PS * (2 * cum + h) + cal_hits) >> shift


def linear_table(line: DelayLine) -> np.ndarray:
    """Nominal table of an uncalibrated channel: every bin as wide as the mean bin of the
    line's design (no spread), centres from zero."""
    width = replace(line, spread=0.0).length_ps() / line.taps
    centres = np.round((np.arange(line.taps) + 0.5) * width)
    return np.minimum(centres, FABRIC_CLOCK_PS).astype(np.int64)


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
        collect_from = start + k_codes + 1
        pending = collect_from + BUILD_PIPELINE
        res.tables.append(bin_centres(hist, n))
        res.ready.append(pending)
        hist[:] = 0
        count = 0
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


def run_tdc(line: DelayLine, rises: np.ndarray, widths: np.ndarray, cycles: int,
            channel: ChannelConfig, cal: CalibratorConfig, strobes: np.ndarray = (),
            seed: int = TDC_CAL_SEED) -> tuple[ChannelResult, CalibratorResult]:
    """One TDC channel and its calibrator on ``line``, bit-exact with the RTL pair: detector
    pulses (``rises``, ``widths`` in ps) through the calibration mux
    (:func:`models.ground.tdc.channel_input`), the line's run-length coded codes, the channel
    and the calibrator (always ready, so every hit is accepted ``CHANNEL_LATENCY`` cycles
    after its sampling cycle). Cost in the number of pulses, not cycles."""
    muxed = channel_input(rises, widths, 0, cycles, channel.cal_period, seed, channel.channel)
    rows, codes = line.sparse_codes(*muxed, cycles)
    hits = run_channel(codes, channel, rows, cycles)
    tags = run_calibrator(hits.coarse, hits.fine, hits.calibration,
                          hits.cycle + CHANNEL_LATENCY, np.asarray(strobes), cycles, cal)
    return hits, tags


def calibration_codes(line: DelayLine, count: int, cal_period: int = TDC_CAL_PERIOD,
                      seed: int = TDC_CAL_SEED, channel: int = 0, first_slot: int = 0
                      ) -> np.ndarray:
    """Fine codes of the first ``count`` calibration hits a channel on ``line`` takes with no
    detector input, from slot ``first_slot`` on (the start-up code-density test)."""
    period = cal_period * FABRIC_CLOCK_PS
    slots = count + count // 64 + 4  # a few spare slots for hits lost to a coverage error
    offset = first_slot * period
    rises, widths = channel_input(np.zeros(0), np.zeros(0), first_slot * cal_period,
                                  slots * cal_period, cal_period, seed, channel)
    rows, codes = line.sparse_codes(rises - offset, widths, slots * cal_period)
    hits = run_channel(codes, ChannelConfig(channel=channel, cal_period=cal_period), rows,
                       slots * cal_period)
    fine = hits.fine[hits.calibration]
    if len(fine) < count:
        raise CalibrationConfigError(
            f"TDC line gave {len(fine)} calibration hits in {slots} slots, {count} needed "
            f"(coverage errors {hits.coverage_errors}: the line is shorter than a period)")
    return fine[:count]


def startup_table(line: DelayLine, cal_hits: int = TDC_CAL_HITS,
                  cal_period: int = TDC_CAL_PERIOD, seed: int = TDC_CAL_SEED,
                  channel: int = 0) -> np.ndarray:
    """The start-up calibration: the table that ``cal_hits`` calibration hits of a channel on
    ``line`` build (the calibrator's ``initial`` parameter)."""
    fine = calibration_codes(line, cal_hits, cal_period, seed, channel)
    return bin_centres(np.bincount(fine, minlength=line.taps), cal_hits)


@dataclass(frozen=True)
class TableQuality:
    """Linearity of a table against the line's true bins, over the codes one clock period
    covers (``c_k`` the true centre of bin ``k``, ``t_k`` the table's entry, ``LSB = T / codes``
    the mean bin): ``inl_ps`` the largest ``|t_k - c_k - offset|`` (``offset`` the mean of
    ``t_k - c_k`` weighted by bin width: a constant goes into the skew); ``dnl_lsb`` the largest
    ``|(t_(k+1) - t_k) - (c_(k+1) - c_k)| / LSB`` (the error of a step between adjacent output
    values); both also as RMS."""

    dnl_lsb: float
    inl_ps: float
    dnl_rms_lsb: float
    inl_rms_ps: float


def table_quality(line: DelayLine, table: np.ndarray) -> TableQuality:
    """:class:`TableQuality` of ``table`` (entries in ps before the sampling edge) for a line
    at zero drift, whose code ``k`` means a hit between the ``k``-th and ``k + 1``-th smallest
    tap delay before the edge."""
    edges = np.concatenate(([0.0], np.sort(line.delays())))
    hi = int(np.searchsorted(edges, edges[1] + FABRIC_CLOCK_PS))  # codes of one period
    codes = np.arange(1, min(hi, len(edges) - 1))
    width = edges[codes + 1] - edges[codes]
    centre = (edges[codes] + edges[codes + 1]) / 2.0
    t = np.asarray(table, dtype=np.float64)[codes]
    lsb = FABRIC_CLOCK_PS / len(codes)
    dnl = (np.diff(t) - np.diff(centre)) / lsb
    diff = t - centre
    inl = diff - np.average(diff, weights=width)
    return TableQuality(dnl_lsb=float(np.abs(dnl).max()), inl_ps=float(np.abs(inl).max()),
                        dnl_rms_lsb=float(np.sqrt(np.mean(dnl**2))),
                        inl_rms_ps=float(np.sqrt(np.average(inl**2, weights=width))))


def hit_errors(line: DelayLine, table: np.ndarray, rises: np.ndarray, cycles: int,
               channel: int = 0, cal_period: int = TDC_CAL_PERIOD,
               seed: int = TDC_CAL_SEED) -> np.ndarray:
    """Error ``tag - true rise`` (ps) of every detector pulse in ``rises`` (sorted, further
    apart than the dead time) that leaves the channel and its calibrator (with ``table`` as the
    initial table, no recalibration) on ``line``; NaN for a pulse with no tag (blanked or in a
    calibration slot). The error includes the line's constant offset (the skew's job)."""
    rises = np.asarray(rises, dtype=np.float64)
    ccfg = ChannelConfig(channel=channel, cal_period=cal_period)
    cal = CalibratorConfig(channel=channel, taps=line.taps, cal_period=cal_period,
                           initial=tuple(int(v) for v in table))
    _, tags = run_tdc(line, rises, np.full(len(rises), float(TDC_PULSE_PS)), cycles, ccfg, cal,
                      seed=seed)
    t = tags.time.astype(np.float64)
    # each tag belongs to the last pulse that rose before its sampling edge
    k = np.searchsorted(rises, t + FABRIC_CLOCK_PS, side="right") - 1
    near = np.abs(t - rises[np.clip(k, 0, len(rises) - 1)]) < 2 * FABRIC_CLOCK_PS
    out = np.full(len(rises), np.nan)
    out[k[near]] = t[near] - rises[k[near]]
    return out


def pulse_train(count: int, seed: int, min_gap_cycles: int = 8,
                max_gap_cycles: int = 100) -> np.ndarray:
    """Seeded pulse times (ps) with gaps uniform in ``[min_gap, max_gap]`` cycles (beyond the
    dead time), starting after 10 cycles."""
    rng = np.random.default_rng(seed)
    gaps = rng.uniform(min_gap_cycles, max_gap_cycles, count) * FABRIC_CLOCK_PS
    return 10 * FABRIC_CLOCK_PS + np.cumsum(gaps)


def interval_errors(lines: tuple[DelayLine, DelayLine], tables: tuple[np.ndarray, np.ndarray],
                    interval_ps: float, pairs: int, seed: int,
                    cal_period: int = TDC_CAL_PERIOD) -> np.ndarray:
    """Single-shot errors (ps, mean removed) of the interval between two channels (0 and 1,
    each on its own line with its own table) measuring ``pairs`` pulse pairs ``interval_ps``
    apart: ``(tag_1 - tag_0) - interval_ps`` of every pair with both tags."""
    first = pulse_train(pairs, seed)
    cycles = int(first[-1] // FABRIC_CLOCK_PS) + int(interval_ps // FABRIC_CLOCK_PS) + 10
    errs = [hit_errors(line, table, rises, cycles, channel, cal_period)
            for channel, (line, table, rises) in enumerate(
                zip(lines, tables, (first, first + interval_ps), strict=True))]
    diff = errs[1] - errs[0]
    diff = diff[np.isfinite(diff)]
    return diff - diff.mean()
