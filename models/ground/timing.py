"""Pulse indexing and gate (SPEC 4.2): bit-exact fixed-point model and float reference.

Tag stream
----------
The ground time tagger delivers one tag per event in time order: ``time`` (64-bit, TDC LSB,
default 1 ps), ``channel`` (0..3 the detectors H, V, D, A; :data:`CH_SYNC` a sync arrival, whose
``frame`` field carries the frame counter ``k`` found by the sync detector; :data:`CH_END` the
end of a tag stream) and ``frame`` (48 bits, sync tags only).

Arithmetic (per detection, all integers)
----------------------------------------
With the interval ``t_k <= u = t - delta < t_(k+1)`` and ``P = t_(k+1) - t_k``:

* ``R = 2**44 // P`` once per interval (a 45-step divider; ``2**26 <= P < 2**27``, so ``R``
  fits one 18-bit DSP operand);
* ``d = u - t_k``; ``q = (d * R) >> 27``; ``m0 = (q + 1) >> 1`` (``m0 - x`` lies in
  ``(-1, 1/2]`` for ``x = d * 2**16 / P`` because ``d < 2**27``);
* ``e = d * 2**16 - m0 * P``, then one correction step (``2e >= P``: ``m0 + 1``; ``2e < -P``:
  ``m0 - 1``) leaves ``-P/2 <= e < P/2``, so ``m = round(x)`` (halves up) exactly;
* ``n = k * 2**16 + m``; residual ``r = e / 2**16`` LSB, output as ``r16 = e >> 12`` (1/16 LSB,
  floor); accepted if ``|e| <= gate_half * 2**16``, i.e. ``|r| <= gate_half`` exactly.

So index and gate decision are exact rounding of the SPEC formula; the only fixed-point loss is
the 1/16 LSB truncation of the reported residual (the test against :func:`index_float` over a
whole pass shows it).

Sequencing (what :func:`run_indexer` and :class:`rtl.ground.indexer.PulseIndexer` both do)
----------------------------------------------------------------------------------------------
Tags are handled strictly in input order, so every decision depends only on the tag sequence
(never on backpressure timing):

* a tag older than the previous accepted tag: record ``ORDER`` (tag otherwise ignored);
* channel 5 or 6: record ``BAD_CHANNEL``;
* a detection: appended to the pending buffer (``OVERFLOW`` record if it is full);
* a sync tag closes the interval ``I = (t_cur, t_sync)``: valid if a current sync exists, the
  frame counter is ``k_cur + 1`` and ``P`` lies in ``[p_min, p_max]`` (else ``NO_SYNC`` or
  ``BAD_PERIOD``) and, against the previous good interval, free of a timing step (else
  ``BAD_PERIOD`` and a counted slip, see below); then every pending detection is indexed
  against ``I`` if ``u >= t_cur``, against the previous interval if ``u`` falls in it, else
  ``NO_SYNC`` (an interval that is not valid gives its own status instead); then ``I`` becomes
  the previous interval and the sync the current one;
* :data:`CH_END`: every pending detection gets ``TRUNCATED``, the sync state is cleared.

This requires ``0 <= delta < p_min`` (the detection delay is shorter than a sync period).

Bit-slip guard
--------------
A slip of the recovered link clock moves every later sync strobe by one link bit (``bit_lsb``,
6.4 ns = 4 pulses) until the sync detector re-acquires (its flywheel misses every marker after
a slip, so it loses lock after ``max_misses`` frames); the ``p_min``/``p_max`` window does not
see a single step of that size, and the indexes after it would all be off by 4. So sync times
are tracked: ``ref`` is the period of the last good interval, and a consecutive interval whose
period differs from ``ref`` by more than ``slip_tol`` (default 1600 LSB; the second difference
of three sync tags with 100 ps FWHM jitter has sigma 104 ps, the Doppler rate changes a period
by < 0.01 ps per frame) is a *step*: its detections get ``BAD_PERIOD`` (the step happened
somewhere inside it) and the slip counter counts it. With a *confirmed* reference, a step of
whole link bits (at most ``MAX_SLIP_BITS``, within ``slip_tol``) goes into ``shift``, which is
subtracted from every later sync tag: the pulse index is re-anchored on the next sync and the
following intervals index correctly (``ref`` survives the step). Any other step sets ``hold``:
every interval gets ``BAD_PERIOD`` until a frame-counter gap (the sync detector lost lock and
re-acquired on the true marker positions) or the end marker, which also clear ``shift`` and
``ref``. After such a clear the first in-range interval only becomes the reference on probation
(its detections get ``NO_SYNC``: a step inside it could not be told from a step in the next
one); the next interval that agrees with it confirms it and is ACCEPTED. So one frame of
detections per acquisition is the price of never indexing across an undetected slip.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from models.constants import FABRIC_CLOCK_PS, FRAME_PULSES, PULSE_PERIOD_PS

NOMINAL_PERIOD_PS = FRAME_PULSES * PULSE_PERIOD_PS
RECIP_SHIFT = 44
Q_SHIFT = RECIP_SHIFT - 17
R16_SHIFT = 12
PERIOD_BITS = 27
TIME_BITS = 64
FRAME_BITS = 48

CH_SYNC = 4
CH_END = 7
DETECTORS = 4
MAX_SLIP_BITS = 4


class Status(enum.IntEnum):
    """Status of a detection record (3 bits). Only ACCEPTED records carry a usable index."""

    ACCEPTED = 0
    OUTSIDE_GATE = 1
    NO_SYNC = 2
    BAD_PERIOD = 3
    OVERFLOW = 4
    ORDER = 5
    BAD_CHANNEL = 6
    TRUNCATED = 7


class IndexerConfigError(ValueError):
    """An indexer parameter outside the range the fixed-point datapath supports."""


@dataclass(frozen=True)
class IndexerConfig:
    """Indexer parameters, in TDC LSB (default 1 ps).

    ``delta``: sync-to-pulse delay (from calibration); ``gate_half``: half gate width (400 ps for
    the paper's 800 ps gate); ``p_min``/``p_max``: accepted sync interval (default nominal
    ±1e-4, covering ±2.5e-5 Doppler, ±1 ppm clock and margin); ``depth``: pending buffer.
    """

    delta: int = 0
    gate_half: int = 400
    p_min: int = NOMINAL_PERIOD_PS - NOMINAL_PERIOD_PS // 10_000
    p_max: int = NOMINAL_PERIOD_PS + NOMINAL_PERIOD_PS // 10_000
    depth: int = 256
    slip_tol: int = 1600
    bit_lsb: int = FABRIC_CLOCK_PS  # one downlink bit (one per fabric cycle) in TDC LSB

    def __post_init__(self) -> None:
        if not 1 << (PERIOD_BITS - 1) <= self.p_min <= self.p_max < 1 << PERIOD_BITS:
            raise IndexerConfigError(
                f"sync interval bounds p_min={self.p_min}, p_max={self.p_max} must satisfy "
                f"2**{PERIOD_BITS - 1} <= p_min <= p_max < 2**{PERIOD_BITS} (TDC LSB)")
        if not 0 <= self.delta < self.p_min:
            raise IndexerConfigError(f"delta={self.delta} must lie in [0, p_min={self.p_min})")
        if not 0 <= self.gate_half < 1 << 16:
            raise IndexerConfigError(f"gate_half={self.gate_half} must lie in [0, 65535]")
        if self.depth < 1 or self.depth & (self.depth - 1):
            raise IndexerConfigError(f"pending depth {self.depth} must be a power of two")
        if not 0 < self.bit_lsb < 1 << 16 or not 0 < 2 * self.slip_tol <= self.bit_lsb:
            raise IndexerConfigError(
                f"slip_tol={self.slip_tol}, bit_lsb={self.bit_lsb} must satisfy "
                "0 < 2 * slip_tol <= bit_lsb < 2**16 (a slip is one link bit)")


def reciprocal(period: int) -> int:
    """``2**44 // P``, the per-interval reciprocal."""
    return (1 << RECIP_SHIFT) // period


def index_fixed(
    d: np.ndarray, period: np.ndarray, frame: np.ndarray, gate_half: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fixed-point indexing of offsets ``d = t - delta - t_k`` (vectorised, bit-exact).

    Returns ``(n, r16, accepted)``: pulse index (uint64), residual in 1/16 LSB (int64), gate.
    """
    d = np.asarray(d, dtype=np.int64)
    period = np.asarray(period, dtype=np.int64)
    frame = np.asarray(frame, dtype=np.uint64)
    if np.any(d < 0) or np.any(d >= period) or np.any(period >= 1 << PERIOD_BITS):
        raise ValueError("index_fixed needs 0 <= d < P < 2**27")
    recip = (np.int64(1) << RECIP_SHIFT) // period
    q = (d * recip) >> Q_SHIFT
    m = (q + 1) >> 1
    e = (d << 16) - m * period
    up = 2 * e >= period
    down = 2 * e < -period
    m = m + up - down
    e = e - up * period + down * period
    n = (frame << np.uint64(16)) + m.astype(np.uint64)
    accepted = np.abs(e) <= np.int64(gate_half) << 16
    return n, e >> R16_SHIFT, accepted


def index_float(
    t: np.ndarray, delta: float, t_sync: np.ndarray, t_next: np.ndarray, frame: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Floating-point reference of SPEC 4.2: ``(n, r)`` with ``r`` in LSB (float64)."""
    period = np.asarray(t_next, dtype=np.float64) - np.asarray(t_sync, dtype=np.float64)
    x = (np.asarray(t, dtype=np.float64) - delta - np.asarray(t_sync, dtype=np.float64))
    x = x * FRAME_PULSES / period
    m = np.floor(x + 0.5)
    n = np.asarray(frame, dtype=np.int64) * FRAME_PULSES + m.astype(np.int64)
    return n, (x - m) * period / FRAME_PULSES


@dataclass(frozen=True)
class Record:
    """One indexer output: pulse index, detector channel, residual (1/16 LSB), status."""

    n: int
    channel: int
    r16: int
    status: Status


@dataclass
class _Interval:
    """A sync interval ``[start, start + period)``; only ACCEPTED ones index detections."""

    start: int = 0
    period: int = 0
    frame: int = 0
    status: Status = Status.NO_SYNC


def _index_one(t: int, ch: int, cfg: IndexerConfig, now: _Interval, prev: _Interval) -> Record:
    u = t - cfg.delta
    if now.start <= u < now.start + now.period:
        iv = now
    elif prev.start <= u < now.start:
        iv = prev
    else:
        return Record(0, ch, 0, Status.NO_SYNC)
    if iv.status != Status.ACCEPTED:
        return Record(0, ch, 0, iv.status)
    n, r16, ok = index_fixed(np.array([u - iv.start]), np.array([iv.period]),
                             np.array([iv.frame]), cfg.gate_half)
    return Record(int(n[0]), ch, int(r16[0]),
                  Status.ACCEPTED if ok[0] else Status.OUTSIDE_GATE)


class _Ref(enum.IntEnum):
    """State of the period reference of the bit-slip guard."""

    NONE = 0
    PROBATION = 1
    CONFIRMED = 2


@dataclass
class IndexerResult:
    """Output of :func:`index_stream`: the records, the number of sync timing steps and, per
    record, the position of its tag in the input stream."""

    records: list[Record]
    slips: int
    sources: list[int]


def _remove_step(dev: int, bit: int) -> int:
    """Whole link bits in a timing step ``dev`` (halves towards zero), as the RTL loop does."""
    bits = 0
    while abs(dev) > bit // 2 and abs(bits) < MAX_SLIP_BITS:
        step = bit if dev > 0 else -bit
        dev, bits = dev - step, bits + step // bit
    return bits


def run_indexer(time: np.ndarray, channel: np.ndarray, frame: np.ndarray,
                cfg: IndexerConfig = IndexerConfig()) -> list[Record]:
    """Sequential golden model of the indexer on a tag stream (see the module docstring)."""
    return index_stream(time, channel, frame, cfg).records


def index_stream(time: np.ndarray, channel: np.ndarray, frame: np.ndarray,
                 cfg: IndexerConfig = IndexerConfig()) -> IndexerResult:
    """:func:`run_indexer` with the slip counter (the RTL's ``slips`` port, unsaturated)."""
    out: list[Record] = []
    pending: list[tuple[int, int, int]] = []
    sources: list[int] = []
    last = 0
    have_cur = False
    cur_start = cur_frame = 0
    prev = _Interval()
    mask48 = (1 << FRAME_BITS) - 1
    mask64 = (1 << TIME_BITS) - 1
    shift = ref = slips = 0
    ref_state, hold = _Ref.NONE, False
    tags = zip(np.asarray(time, dtype=np.uint64).tolist(), np.asarray(channel).tolist(),
               np.asarray(frame, dtype=np.uint64).tolist(), strict=True)
    for pos, (t, ch, k) in enumerate(tags):
        if ch == CH_END:
            out.extend(Record(0, c, 0, Status.TRUNCATED) for _, c, _ in pending)
            sources.extend(i for *_, i in pending)
            pending.clear()
            last, have_cur, prev = 0, False, _Interval()
            shift, ref_state, hold = 0, _Ref.NONE, False
            continue
        if t < last:
            out.append(Record(0, ch, 0, Status.ORDER))
            sources.append(pos)
            continue
        last = t
        if ch < DETECTORS:
            if len(pending) == cfg.depth:
                out.append(Record(0, ch, 0, Status.OVERFLOW))
                sources.append(pos)
            else:
                pending.append((t, ch, pos))
        elif ch == CH_SYNC:
            corr = (t - shift) & mask64
            period = corr - cur_start
            if not have_cur or k != (cur_frame + 1) & mask48:
                status, corr = Status.NO_SYNC, t
                shift, ref_state, hold = 0, _Ref.NONE, False
            elif hold:
                status = Status.BAD_PERIOD
            elif ref_state != _Ref.NONE and abs(period - ref) > cfg.slip_tol:
                status, slips = Status.BAD_PERIOD, slips + 1
                bits = _remove_step(period - ref, cfg.bit_lsb)
                if ref_state != _Ref.CONFIRMED or \
                        abs(period - ref) > MAX_SLIP_BITS * cfg.bit_lsb or \
                        abs(period - ref - bits * cfg.bit_lsb) > cfg.slip_tol:
                    hold = True
                else:
                    shift += bits * cfg.bit_lsb
                    corr = (corr - bits * cfg.bit_lsb) & mask64
            elif not cfg.p_min <= period <= cfg.p_max:
                status = Status.BAD_PERIOD
            elif ref_state == _Ref.NONE:
                status, ref, ref_state = Status.NO_SYNC, period, _Ref.PROBATION
            else:
                status, ref, ref_state = Status.ACCEPTED, period, _Ref.CONFIRMED
            now = _Interval(cur_start, corr - cur_start, cur_frame, status)
            out.extend(_index_one(pt, pc, cfg, now, prev) for pt, pc, _ in pending)
            sources.extend(i for *_, i in pending)
            pending.clear()
            prev = now
            have_cur, cur_start, cur_frame = True, corr, k
        else:
            out.append(Record(0, ch, 0, Status.BAD_CHANNEL))
            sources.append(pos)
    return IndexerResult(out, slips, sources)
