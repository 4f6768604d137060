"""Ground TDC channel (SPEC 4.0): behavioural carry-chain delay line and the channel's logic.

Two halves, both vectorised over cycles and taps:

* :class:`DelayLine` turns analog input pulses (rise time, width, in ps of the ground clock) into
  the thermometer code the sampling flip-flops hold after each fabric clock edge. Tap ``i``
  samples the input as it was ``D_i`` before the edge (``D_i`` the cumulative carry delay up to
  the tap, plus a fixed per-flop clock skew), so the code is the recent input waveform read
  backwards in time. Per-tap delays follow the ECP5 carry structure (a wide and a near-empty bin
  per two-bit CCU2C, an ultra-wide bin where the chain leaves a PFU), with a seeded log-normal
  spread; each pulse gets Gaussian jitter; a flop whose sample instant lies within
  ``meta_ps`` of an input transition resolves at random (a pure function of seed, cycle and
  tap), which puts bubbles next to the thermometer edge; all delays scale with a slow
  temperature/voltage drift. Parameters and their sources: ``docs/ground.md``.
* :func:`run_channel` is the bit-exact golden model of :class:`rtl.ground.tdc.TdcChannel`: a hit
  is a rising edge of tap 0 between two consecutive samples; its fine code is the ones count of
  the same sample (robust to bubbles: a bubble moves a one, it does not remove it), its coarse
  time the 64-bit picosecond time of that sampling edge. Because coarse and fine come from the
  same sample and the line is longer than a clock period, a hit at a clock edge is never off by
  a cycle: a hit tap 0 misses at edge ``c`` is seen at edge ``c + 1`` with a code one period
  longer. Dead time, coverage and stuck-input checks as in the RTL (its docstring). Since a
  detector pulse (:data:`TDC_PULSE_PS`) is longer than the line, the tail of an earlier pulse
  that lies in a hit's window always reaches the last tap: a hit whose code has its last tap
  high is a pile-up (lost, counted) or, with every tap high, proof that the line does not cover
  a clock period (coverage error).

Time of cycle ``c``'s sampling edge: ``c * FABRIC_CLOCK_PS`` (cycle 0 is the first clock period
of the run); the RTL's coarse time is ``epoch + c * FABRIC_CLOCK_PS`` modulo ``2**64``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.constants import (
    FABRIC_CLOCK_PS,
    TDC_CAL_PERIOD,
    TDC_CAL_SEED,
    TDC_CAL_SLOT_CYCLES,
    TDC_DEAD_CYCLES,
    TDC_LINE_SEED,
    TDC_MUX_DELAY_PS,
    TDC_PULSE_PS,
    TDC_STUCK_CYCLES,
    TDC_TAP_STRIDE,
    TDC_TAPS,
)
from models.qrng import qrng_hash

MASK64 = (1 << 64) - 1
BLOCK_CYCLES = 4096
COUNTER_BITS = 32
COIN_SALT = 0x5EED_C014
CHANNEL_LATENCY = 5
"""Cycles from the code that holds a hit to its raw hit on the channel's output
(:class:`rtl.ground.tdc.TdcChannel`: four encoder stages and the output register)."""


@dataclass(frozen=True)
class DelayLine:
    """Behavioural carry-chain delay line of one channel (all times in ps).

    ``wide_ps`` / ``narrow_ps``: the two bins of a CCU2C (its two carry outputs are sampled by
    flops at nearly the same delay, so every second bin is near-empty); ``pfu_ps``: the extra
    delay where the chain hops to the next PFU, every ``pfu_taps`` taps (ultra-wide bin);
    ``spread``: log-normal sigma of every bin; ``skew_ps``: Gaussian sigma of the per-flop clock
    skew; ``jitter_ps``: Gaussian RMS per pulse edge; ``meta_ps``: half-width of the window in
    which a flop resolves at random; ``drift``: relative amplitude of the sinusoidal delay drift
    with period ``drift_period_ps``; ``stride``: carry outputs per tap (2 samples only the
    second output of every CCU2C: half the flops and encoder, no near-empty bins).
    """

    taps: int = TDC_TAPS
    seed: int = TDC_LINE_SEED
    wide_ps: float = 15.0
    narrow_ps: float = 2.0
    pfu_ps: float = 24.0
    pfu_taps: int = 8
    spread: float = 0.25
    skew_ps: float = 8.0
    jitter_ps: float = 8.0
    meta_ps: float = 3.0
    drift: float = 0.02
    drift_period_ps: float = 6e13
    stride: int = TDC_TAP_STRIDE

    def bins(self) -> np.ndarray:
        """Per-tap delay ``[taps]`` at zero drift: the time the edge needs from tap i-1 to i."""
        rng = np.random.default_rng([self.seed, 1])
        i = np.arange(self.taps * self.stride)
        base = np.where(i % 2 == 0, self.wide_ps, self.narrow_ps)
        base = base + np.where((i % self.pfu_taps == 0) & (i > 0), self.pfu_ps, 0.0)
        carry = base * rng.lognormal(0.0, self.spread, len(i))
        return carry.reshape(self.taps, self.stride).sum(axis=1)

    def delays(self) -> np.ndarray:
        """Sampling delay of every tap ``[taps]``: cumulative bins plus the flop's clock skew."""
        rng = np.random.default_rng([self.seed, 2])
        return np.cumsum(self.bins()) + rng.normal(0.0, self.skew_ps, self.taps)

    def length_ps(self) -> float:
        """Delay of the whole line at zero drift."""
        return float(self.bins().sum())

    def merged(self, rises: np.ndarray, widths: np.ndarray) -> int:
        """Pulses that rise while the input is still high (two hits in one pulse): a wire shows
        one edge, so real hardware and this model lose them; they count only here."""
        rises, widths = self._jittered(rises, widths)
        return len(rises) - len(_merge(rises, rises + widths)[0])

    def _jittered(self, rises: np.ndarray, widths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rises = np.asarray(rises, dtype=np.float64)
        widths = np.broadcast_to(np.asarray(widths, dtype=np.float64), rises.shape)
        rng = np.random.default_rng([self.seed, 3])
        return rises + rng.normal(0.0, self.jitter_ps, rises.shape), widths

    def codes(self, rises: np.ndarray, widths: np.ndarray, cycles: int) -> np.ndarray:
        """Sampled codes ``[cycles, taps]`` (bool) for pulses rising at ``rises`` (ps).

        ``widths`` per pulse (``np.inf``: the input stays high). Overlapping pulses merge, as
        on a wire. Computed in blocks of :data:`BLOCK_CYCLES` cycles (bounded memory); a block
        with no input transition in reach of its samples is filled with the input level.
        """
        starts, ends, transitions = self._input(rises, widths)
        out = np.empty((cycles, self.taps), dtype=bool)
        for first in range(0, cycles, BLOCK_CYCLES):
            idx = np.arange(first, min(first + BLOCK_CYCLES, cycles))
            edges = idx * float(FABRIC_CLOCK_PS)
            lo, hi = np.searchsorted(transitions, [edges[0] - self._reach(),
                                                   edges[-1] + self.meta_ps])
            if lo == hi:
                out[idx] = _high(starts, ends, edges)[:, None]
            else:
                out[idx] = self._sample(idx, starts, ends)
        return out

    def sparse_codes(self, rises: np.ndarray, widths: np.ndarray,
                     cycles: int) -> tuple[np.ndarray, np.ndarray]:
        """The codes of :meth:`codes` run-length coded: ``(cycle, codes)``, row ``i`` the code of
        cycles ``cycle[i]`` up to ``cycle[i + 1]`` (exclusive; the last row up to ``cycles``).
        Rows are the cycles with an input transition in reach of a sample and, after each run
        of them, one row with the input level; cost in the number of transitions, not cycles
        (:func:`run_channel` takes the pair)."""
        starts, ends, transitions = self._input(rises, widths)
        lo = np.ceil((transitions - self.meta_ps) / FABRIC_CLOCK_PS).astype(np.int64)
        hi = np.floor((transitions + self._reach()) / FABRIC_CLOCK_PS).astype(np.int64)
        lo, hi = np.clip(lo, 0, cycles), np.clip(hi + 1, 0, cycles)
        counts = np.maximum(hi - lo, 0)
        event = np.unique(np.repeat(lo - np.cumsum(counts) + counts, counts)
                          + np.arange(counts.sum()))
        # the first cycle past each transition's reach holds the new level (with a line
        # shorter than a period a transition may have no event cycle at all)
        level = np.setdiff1d(np.append(hi[hi < cycles], 0), event)
        cycle = np.union1d(event, level)
        out = np.empty((len(cycle), self.taps), dtype=bool)
        is_event = np.isin(cycle, event)
        rows = np.flatnonzero(is_event)
        for first in range(0, len(rows), BLOCK_CYCLES):
            part = rows[first:first + BLOCK_CYCLES]
            out[part] = self._sample(cycle[part], starts, ends)
        out[~is_event] = _high(starts, ends, cycle[~is_event] * float(FABRIC_CLOCK_PS))[:, None]
        return cycle, out

    def _input(self, rises: np.ndarray,
               widths: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The jittered input as disjoint high intervals and its sorted transition times."""
        rises, widths = self._jittered(rises, widths)
        starts, ends = _merge(rises, rises + widths)
        return starts, ends, np.sort(np.concatenate([starts, ends[np.isfinite(ends)]]))

    def _reach(self) -> float:
        """How long before its edge a sample can still see a transition."""
        return (1.0 + abs(self.drift)) * max(float(self.delays().max()), 0.0) + self.meta_ps

    def _sample(self, idx: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Codes ``[len(idx), taps]`` sampled at the edges of cycles ``idx``."""
        edges = idx * float(FABRIC_CLOCK_PS)
        scale = 1.0 + self.drift * np.sin(2.0 * np.pi * edges / self.drift_period_ps)
        when = edges[:, None] - scale[:, None] * self.delays()[None, :]
        # the intervals that can cover a sample of a row: from the last one starting before
        # the row's earliest sample instant to the last one starting before its latest
        lo = np.maximum(np.searchsorted(starts, edges - self._reach(), side="right") - 1, 0)
        hi = np.searchsorted(starts, edges + self.meta_ps, side="right")
        early = _high_near(starts, ends, when - self.meta_ps, lo, hi)
        late = _high_near(starts, ends, when + self.meta_ps, lo, hi)
        out = late.copy()
        meta = np.nonzero(early != late)
        out[meta] = _coin(self.seed, idx[meta[0]], meta[1], self.taps)
        return out


def _merge(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Union of the intervals ``[starts, ends)`` as sorted disjoint intervals."""
    order = np.argsort(starts, kind="stable")
    starts, ends = starts[order], np.maximum.accumulate(ends[order]) if len(order) else ends
    new = np.ones(len(starts), dtype=bool)
    new[1:] = starts[1:] > ends[:-1]
    group = np.cumsum(new) - 1
    out_ends = np.full(int(new.sum()), -np.inf)
    np.maximum.at(out_ends, group, ends)
    return starts[new], out_ends


def _high(starts: np.ndarray, ends: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Whether the input (disjoint intervals) is high at the times ``t``."""
    k = np.searchsorted(starts, t, side="right") - 1
    return (k >= 0) & (t < ends[np.maximum(k, 0)]) if len(starts) else np.zeros(t.shape, bool)


def _high_near(starts: np.ndarray, ends: np.ndarray, t: np.ndarray, lo: np.ndarray,
               hi: np.ndarray) -> np.ndarray:
    """:func:`_high` for rows of times ``t`` whose covering interval, if any, is among
    ``starts[lo:hi]`` of the row (a few: cheaper than a search per sample)."""
    span = int((hi - lo).max()) if len(lo) else 0
    if span > 16:
        return _high(starts, ends, t)
    out = np.zeros(t.shape, dtype=bool)
    for j in range(span):
        k = np.minimum(lo + j, len(starts) - 1)[:, None]
        out |= (lo + j < hi)[:, None] & (starts[k] <= t) & (t < ends[k])
    return out


def _coin(seed: int, cycle: np.ndarray, tap: np.ndarray, taps: int) -> np.ndarray:
    """Random resolution of metastable flops: a pure function of (seed, cycle, tap)."""
    index = np.asarray(cycle, dtype=np.uint64) * np.uint64(taps) + np.asarray(tap, np.uint64)
    return (qrng_hash(seed ^ COIN_SALT, index) & np.uint64(1)).astype(bool)


@dataclass(frozen=True)
class ChannelConfig:
    """Run-time configuration of one channel (``rtl.ground.tdc.TdcChannel`` registers)."""

    channel: int = 0
    dead_cycles: int = TDC_DEAD_CYCLES
    stuck_cycles: int = TDC_STUCK_CYCLES
    epoch: int = 0
    cal_period: int = TDC_CAL_PERIOD


@dataclass
class ChannelResult:
    """Raw hits (``coarse`` ps of the sampling edge, ``fine`` ones count, edge ``cycle``,
    ``calibration`` flag) and the channel's counters and sticky flags after the run."""

    coarse: np.ndarray
    fine: np.ndarray
    cycle: np.ndarray
    calibration: np.ndarray
    lost_calibration: int
    lost_dead: int
    lost_pileup: int
    coverage_errors: int
    stuck_events: int
    coverage_flag: bool
    stuck_flag: bool


def run_channel(codes: np.ndarray, cfg: ChannelConfig = ChannelConfig(),
                cycle: np.ndarray | None = None, cycles: int | None = None,
                skipped: np.ndarray | None = None) -> ChannelResult:
    """Bit-exact model of the TDC channel on sampled codes ``[cycles, taps]``, or on the
    run-length coded codes of :meth:`DelayLine.sparse_codes` (``cycle`` the first cycle of
    each row, ``cycles`` the run's length). ``skipped``: the calibration slots (numbers ``k``,
    slot ``k`` starting at cycle ``k * cal_period``) that the sync channel's strobe guard
    skipped (:mod:`models.ground.strobe_guard`): their cycles are ordinary detector time."""
    codes = np.asarray(codes, dtype=bool)
    taps = codes.shape[1]
    if cycle is None:
        cycle = np.arange(len(codes))
        cycles = len(codes)
    cycle = np.asarray(cycle, dtype=np.int64)
    tap0 = codes[:, 0]
    prev = np.concatenate(([False], tap0[:-1]))
    edge_rows = np.flatnonzero(tap0 & ~prev)
    edge_cycles = cycle[edge_rows]
    ones = codes[edge_rows].sum(axis=1)
    top = codes[edge_rows, -1]
    check_cal_period(cfg.cal_period)
    keep, lost_dead, blank, cover, pileup = [], 0, 0, 0, 0
    last = None
    # a skipped slot's cycles take phase 0 (no slot in them)
    edge_phase = np.where(slot_skipped(edge_cycles, cfg.cal_period, skipped), 0,
                          edge_cycles % cfg.cal_period)
    for i, (c, phase, n, t) in enumerate(zip(edge_cycles.tolist(), edge_phase.tolist(),
                                             ones.tolist(), top.tolist(), strict=True)):
        if last is not None and c - last <= cfg.dead_cycles and not _cal_phase(phase):
            lost_dead += 1
        elif phase in (1, TDC_CAL_SLOT_CYCLES + 1):
            blank += 1
        elif n == taps:
            cover += 1
        elif t:
            pileup += 1
        else:
            keep.append(i)
            last = c
    stuck = _stuck_events(tap0, np.diff(np.append(cycle, cycles)), cfg.stuck_cycles)
    kept = np.asarray(keep, dtype=np.int64)
    cyc = edge_cycles[kept]
    coarse = np.array([(cfg.epoch + c * FABRIC_CLOCK_PS) & MASK64 for c in cyc.tolist()],
                      dtype=np.uint64)
    mask = (1 << COUNTER_BITS) - 1
    phase = edge_phase[kept]
    return ChannelResult(coarse=coarse, fine=ones[kept].astype(np.int64), cycle=cyc,
                         calibration=_cal_phase(phase),
                         lost_calibration=blank & mask, lost_dead=lost_dead & mask,
                         lost_pileup=pileup & mask,
                         coverage_errors=cover & mask,
                         stuck_events=stuck & mask, coverage_flag=cover > 0,
                         stuck_flag=stuck > 0)


def slot_skipped(cycle: np.ndarray, cal_period: int, skipped: np.ndarray | None) -> np.ndarray:
    """Whether the calibration slot that cycles ``cycle`` belong to (slot ``cycle //
    cal_period``) is among ``skipped`` (slot numbers; None: none)."""
    cycle = np.asarray(cycle, dtype=np.int64)
    if skipped is None or not len(skipped):
        return np.zeros(cycle.shape, dtype=bool)
    return np.isin(cycle // cal_period, np.asarray(skipped, dtype=np.int64))


def _cal_phase(phase: np.ndarray | int) -> np.ndarray | bool:
    """Whether a hit sampled at ``phase`` (cycle modulo ``cal_period``) is a calibration hit."""
    return (phase >= 2) & (phase <= TDC_CAL_SLOT_CYCLES)


def check_cal_period(cal_period: int) -> int:
    """``cal_period`` if it is a valid calibration period, else a ``ValueError`` naming it."""
    if cal_period < 2 * (TDC_CAL_SLOT_CYCLES + 1) or cal_period & (cal_period - 1):
        raise ValueError(f"TDC cal_period {cal_period} must be a power of two of at least "
                         f"{2 * (TDC_CAL_SLOT_CYCLES + 1)} cycles (slot of "
                         f"{TDC_CAL_SLOT_CYCLES} cycles plus the blanked cycle)")
    return cal_period


def cal_rises(seed: int, channel: int, slots: np.ndarray, cal_period: int) -> np.ndarray:
    """Rise times (ps) of the calibration oscillator's pulses in the slots numbered ``slots``
    (slot ``k`` starts at cycle ``s = k * cal_period``): uniform in
    ``[(s + 1) T + d, (s + 2) T + d)`` (``d`` = :data:`TDC_MUX_DELAY_PS`), a pure function of
    (seed, channel, slot), so a run cut into pieces draws the same phases."""
    h = qrng_hash(seed ^ (channel << 56), np.asarray(slots, dtype=np.uint64))
    u = (h >> np.uint64(11)).astype(np.float64) / float(1 << 53)
    first = np.asarray(slots, dtype=np.float64) * cal_period + 1.0
    return (first + u) * FABRIC_CLOCK_PS + TDC_MUX_DELAY_PS


def channel_input(detector_rises: np.ndarray, widths: np.ndarray, first_cycle: int,
                  cycles: int, cal_period: int = TDC_CAL_PERIOD, seed: int = TDC_CAL_SEED,
                  channel: int = 0, skip: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """The pulses at a channel's line input behind the calibration mux (``rises``, ``widths``,
    sorted by rise), for detector pulses rising at ``detector_rises`` (ps, cycle ``c``'s
    sampling edge at ``c * FABRIC_CLOCK_PS``) with ``widths``, over cycles
    ``[first_cycle, first_cycle + cycles)``.

    The mux switches :data:`TDC_MUX_DELAY_PS` after a clock edge; during each slot, from
    ``s T + d`` to ``(s + TDC_CAL_SLOT_CYCLES) T + d`` (``s % cal_period == 0``, ``T`` the clock
    period, ``d`` the mux delay), the line sees only the oscillator: one pulse of
    :data:`TDC_PULSE_PS` rising uniformly over the period after the first (:func:`cal_rises`),
    so tap 0 is low at the edge before it and its window holds no detector pulse. A detector
    pulse is cut at the slot's start; one still high at the slot's end reappears there as a
    phantom rise; one inside the slot vanishes. The channel blanks the hits sampled at the
    first cycle of a slot (a detector edge just before the switch) and at the cycle after it
    (the phantom).

    ``skip``: slot numbers ``k`` (slot ``k`` starts at cycle ``k * cal_period``) in which the
    mux stays on the detector (the sync channel's strobe guard, :mod:`models.ground.
    strobe_guard`): no cut, no oscillator pulse."""
    check_cal_period(cal_period)
    rises = np.asarray(detector_rises, dtype=np.float64)
    ends = rises + np.broadcast_to(np.asarray(widths, dtype=np.float64), rises.shape)
    period = cal_period * float(FABRIC_CLOCK_PS)
    slot_ps = TDC_CAL_SLOT_CYCLES * float(FABRIC_CLOCK_PS)
    # cut every pulse into one piece per calibration period it overlaps (periods shifted by
    # the mux delay; a stuck input is cut up to one period past the run), then remove the slot
    # from each piece
    horizon = (first_cycle + cycles) * float(FABRIC_CLOCK_PS) + period
    rises, ends = rises - TDC_MUX_DELAY_PS, ends - TDC_MUX_DELAY_PS
    k0 = np.floor(rises / period).astype(np.int64)
    k1 = np.maximum(np.ceil(np.minimum(ends, horizon) / period).astype(np.int64) - 1, k0)
    counts = k1 - k0 + 1
    pulse = np.repeat(np.arange(len(rises)), counts)
    k = k0[pulse] + np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    skipped = np.isin(k, skip) if skip is not None else np.zeros(len(k), dtype=bool)
    piece_r = np.maximum(rises[pulse], k * period + np.where(skipped, 0.0, slot_ps))
    last = k == k1[pulse]
    piece_e = np.where(last, ends[pulse], np.minimum(ends[pulse], (k + 1) * period))
    # a piece that starts in a skipped slot continues the one before it (one pulse, one jitter)
    new = (k == k0[pulse]) | ~skipped
    heads = np.flatnonzero(new)
    tails = np.append(heads[1:] - 1, len(k) - 1) if len(k) else heads
    piece_r, piece_e = piece_r[heads], piece_e[tails]
    keep = piece_r < piece_e
    piece_r, piece_e = piece_r + TDC_MUX_DELAY_PS, piece_e + TDC_MUX_DELAY_PS
    lo = -(-first_cycle // cal_period)
    hi = -(-(first_cycle + cycles) // cal_period)
    slots = np.arange(lo, hi)
    if skip is not None:
        slots = slots[~np.isin(slots, skip)]
    cal = cal_rises(seed, channel, slots, cal_period)
    out_r = np.concatenate([piece_r[keep], cal])
    out_w = np.concatenate([piece_e[keep] - piece_r[keep], np.full(len(cal), float(TDC_PULSE_PS))])
    order = np.argsort(out_r, kind="stable")
    return out_r[order], out_w[order]


def _stuck_events(tap0: np.ndarray, durations: np.ndarray, stuck_cycles: int) -> int:
    """Runs of tap 0 high (rows lasting ``durations`` cycles) that reach ``stuck_cycles``
    cycles (one event per run); ``stuck_cycles`` 0 turns the check off (the RTL's compare of
    the run length plus one never meets it)."""
    if stuck_cycles == 0:
        return 0
    padded = np.concatenate(([False], tap0, [False])).astype(np.int8)
    d = np.diff(padded)
    ends = np.concatenate(([0], np.cumsum(durations)))
    lengths = ends[np.flatnonzero(d == -1)] - ends[np.flatnonzero(d == 1)]
    return int((lengths >= stuck_cycles).sum())


def fine_ps(line: DelayLine, fine: np.ndarray) -> np.ndarray:
    """Time from the hit to its sampling edge for fine codes, from the line's true delays at
    zero drift (the ideal calibration, for tests of the physics; the RTL's calibration comes
    from code density)."""
    edges = np.concatenate(([0.0], np.sort(line.delays()), [np.inf]))
    k = np.minimum(np.asarray(fine), line.taps - 1)
    return (edges[k] + edges[k + 1]) / 2.0


def default_pulses(rises: np.ndarray) -> np.ndarray:
    """Widths of detector pulses rising at ``rises`` (all :data:`TDC_PULSE_PS`)."""
    return np.full(np.shape(rises), float(TDC_PULSE_PS))
