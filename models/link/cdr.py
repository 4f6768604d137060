"""Clock and data recovery of the link receiver (simulation only: the CDR sits in front of the
FPGA, the receiver's fabric gets its recovered block clock, its data and its lock pin).

The model is a second-order (type-II) digital loop updated once per block of 34 line bits, in
unit intervals (UI, one line bit):

* the arriving blocks run at ``1 + d`` times the frequency of the receiver's local reference
  (``d`` from the transmitter's oscillator, the pass's Doppler factor and the receiver's own
  oscillator: :func:`relative_rate`);
* the recovered clock runs at ``1 + c`` times the reference, ``c = clip(f + kp * e / 34, +-F)``
  with ``e`` the phase detector's output and ``f`` the loop's frequency accumulator,
  ``f <- clip(f + ki * e, +-F)``: ``F`` (``pull_in_ppm``) is the oscillator's tuning range,
  so a rate beyond it cannot be followed;
* the phase of the arriving bits against the recovered clock (unwrapped, UI) moves by
  ``34 (d - c)`` per block; the detector sees it modulo one bit (``e`` in ``[-0.5, 0.5)``):
  a phase error past half a bit is a cycle slip, a line bit sampled twice or never;
* without light (``signal`` false) the detector sees noise: ``e`` is uniform in
  ``[-0.5, 0.5)`` (seeded);
* the lock pin is high after ``lock_blocks`` blocks in a row with ``|e| < lock_ui`` and the
  accumulator inside its range; one block outside drops it.

:func:`recover` gives per block the recovered clock's period, the phase, the lock pin, and which
line bit each of the 34 received bits is (:func:`sampled_bits`): the received word ``j`` is line
bits ``34 j + i + phi_0 + theta`` (``theta`` interpolated across the block), so while the phase
stays inside a bit every line bit is received once, at a constant offset from the blocks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.clocks import AS_PER_PS, SPEED_OF_LIGHT_M_S, ClockSchedule
from models.link.line_code import BLOCK_BITS


class CdrConfigError(ValueError):
    """Loop parameters out of range."""


@dataclass(frozen=True)
class CdrConfig:
    """Loop gains, tuning range and lock detector (module docstring). The defaults settle in
    about 100 blocks (damping 1.4, natural frequency 0.044 rad per block) and follow any rate
    within +-100 ppm of the reference: four times the link's worst case (Doppler 25 ppm plus
    the two oscillators' 1 ppm each)."""

    pull_in_ppm: float = 100.0
    kp: float = 1 / 8
    ki: float = 1 / 2**14
    lock_blocks: int = 64
    lock_ui: float = 0.25

    def __post_init__(self) -> None:
        if not 0 < self.pull_in_ppm <= 10_000:
            raise CdrConfigError(f"CDR: pull_in_ppm={self.pull_in_ppm} must be in (0, 10000]")
        if not (0 < self.kp < 1 and 0 < self.ki < self.kp):
            raise CdrConfigError(f"CDR: gains kp={self.kp}, ki={self.ki} need 0 < ki < kp < 1")
        if self.lock_blocks < 1 or not 0 < self.lock_ui < 0.5:
            raise CdrConfigError(f"CDR: lock_blocks={self.lock_blocks} must be >= 1 and "
                                 f"lock_ui={self.lock_ui} in (0, 0.5)")


DEFAULT_CDR = CdrConfig()


@dataclass(frozen=True)
class Recovery:
    """Per received block: ``period_ps`` of the recovered block clock, ``phase_ui`` (unwrapped
    phase of the line against it, before the block), ``locked`` (the lock pin during the
    block); ``lock_block``: the first block with the pin high (None: never)."""

    period_ps: np.ndarray
    phase_ui: np.ndarray
    locked: np.ndarray
    lock_block: int | None


def relative_rate(tx_ppm: float, rx_ppm: float, range_rate_m_s: float) -> float:
    """``d``: the arriving block rate over the receiver's reference rate, minus one, for
    oscillator offsets ``tx_ppm`` and ``rx_ppm`` (positive: fast) and a range rate (positive:
    receding, the arriving rate drops by ``v / c``)."""
    return (1 + tx_ppm * 1e-6) / (1 + rx_ppm * 1e-6) / (1 + range_rate_m_s / SPEED_OF_LIGHT_M_S) \
        - 1


def recover(rate: np.ndarray, reference_ps: float, config: CdrConfig = DEFAULT_CDR,
            signal: np.ndarray | None = None, seed: int = 0, phase_ui: float = 0.0) -> Recovery:
    """Run the loop over ``len(rate)`` blocks from the reference's frequency and the phase
    ``phase_ui``; ``rate[j]`` is ``d`` during block ``j``, ``reference_ps`` the nominal block
    period of the receiver's reference, ``signal[j]`` whether light arrives (default always)."""
    rate = np.asarray(rate, dtype=float)
    n = len(rate)
    light = np.ones(n, dtype=bool) if signal is None else np.asarray(signal, dtype=bool)
    if light.shape != rate.shape:
        raise CdrConfigError(f"CDR: {len(light)} signal flags for {n} blocks")
    noise = np.random.default_rng(seed).random(n) - 0.5
    span = config.pull_in_ppm * 1e-6
    period = np.empty(n)
    phase = np.empty(n + 1)
    locked = np.zeros(n, dtype=bool)
    theta, f, run = phase_ui, 0.0, 0
    for j in range(n):
        e = (theta + 0.5) % 1.0 - 0.5 if light[j] else noise[j]
        c = min(max(f + config.kp * e / BLOCK_BITS, -span), span)
        inside = abs(f) < span
        run = run + 1 if abs(e) < config.lock_ui and inside and light[j] else 0
        locked[j] = run >= config.lock_blocks
        f = min(max(f + config.ki * e, -span), span)
        phase[j] = theta
        theta += BLOCK_BITS * (rate[j] - c)
        period[j] = reference_ps / (1 + c)
    phase[n] = theta
    first = np.flatnonzero(locked)
    return Recovery(period, phase, locked, int(first[0]) if len(first) else None)


def sampled_bits(recovery: Recovery, offset: int = 0, first: int = 0,
                 end: int | None = None) -> np.ndarray:
    """Line bit index of each received bit of blocks ``first`` to ``end`` (default all:
    ``34 * blocks`` of them, int64; may be negative or repeat while the loop slips): bit ``i``
    of block ``j`` samples the middle of line bit ``34 j + i + offset`` moved by the phase,
    interpolated across the block. A long run takes them a stretch at a time."""
    end = len(recovery.period_ps) if end is None else end
    i = np.arange(BLOCK_BITS)
    start = recovery.phase_ui[first:end, None]
    stop = recovery.phase_ui[first + 1:end + 1, None]
    theta = start + (stop - start) * i / BLOCK_BITS
    position = np.arange(first, end)[:, None] * BLOCK_BITS + i + offset + 0.5 + theta
    return np.floor(position).astype(np.int64).ravel()


def schedule(recovery: Recovery, segment_cycles: int, phase_ps: float) -> ClockSchedule:
    """The recovered clock as a simulator clock: one period per ``segment_cycles`` blocks (the
    mean over the segment), first rising edge at ``phase_ps``."""
    n = len(recovery.period_ps)
    segments = -(-n // segment_cycles)
    padded = np.resize(recovery.period_ps, segments * segment_cycles)
    padded[n:] = recovery.period_ps[-1]
    means = padded.reshape(segments, segment_cycles).mean(axis=1)
    return ClockSchedule(tuple(int(p) for p in np.rint(means * AS_PER_PS)), segment_cycles,
                         round(phase_ps * AS_PER_PS))


def holds_lock(rate: float, config: CdrConfig = DEFAULT_CDR, blocks: int = 4096,
               phase_ui: float = 0.0) -> bool:
    """Whether the loop, from the reference's frequency, ends a run of ``blocks`` blocks at the
    constant relative rate ``rate`` locked, with no cycle slip after its first lock."""
    recovery = recover(np.full(blocks, rate), 1.0, config, phase_ui=phase_ui)
    if recovery.lock_block is None or not recovery.locked[recovery.lock_block:].all():
        return False
    after = recovery.phase_ui[recovery.lock_block:]
    return bool(np.all(np.abs(after - after[0]) < 0.5))


def tracking_range_ppm(config: CdrConfig = DEFAULT_CDR, step_ppm: float = 1.0) -> float:
    """The largest ``|d|`` on a ``step_ppm`` grid up to twice ``pull_in_ppm`` at which the loop
    locks and holds (:func:`holds_lock`) both ways, and every smaller one does too."""
    best = 0.0
    for ppm in np.arange(step_ppm, 2 * config.pull_in_ppm + step_ppm, step_ppm):
        if not (holds_lock(ppm * 1e-6, config) and holds_lock(-ppm * 1e-6, config)):
            break
        best = float(ppm)
    return best
