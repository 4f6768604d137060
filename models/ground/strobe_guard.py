"""Strobe guard of the sync channel: the calibration slots of TDC channel 4 make way for the
sync strobe (golden model of :class:`rtl.ground.strobe_guard.StrobeGuard`).

Why
---
A sync frame is ``FRAME_PULSES / LANES`` = 16384 fabric cycles, a multiple of the calibration
period (1024), so the strobe keeps its phase to the slots from frame to frame, drifting only by
the clock offset and the Doppler shift (at most 2.5e-5 x 16384 = 0.41 cycles per frame at the
7.5 km/s of a 500 km orbit, 0.016 per ppm of clock offset). A strobe that falls into a slot's
blanked window stays there for hundreds of frames, and the sync join finds no strobe for them.

What
----
The guard learns the strobe's phase from the channel's own code: a rising edge of tap 0 at
cycle ``x`` (outside the cycles 1..9 of a slot that runs, where the edges are the oscillator's
or the mux's) sets the deadline ``x + frame_cycles + margin`` (the predicted next strobe plus
the margin). A deadline that passes without an edge is a missing strobe: the deadline moves on
by ``frame_cycles`` (the prediction runs free). ``lead`` cycles before each slot the guard
decides whether the slot runs: it is skipped (the mux stays on the strobe, the channel treats
its cycles as ordinary time) when the predicted strobe cycle ``p`` lies within ``margin`` of
the slot's blanked window, ``p`` in ``[s + 1 - margin, s + 9 + margin]`` (``s`` the slot's
first cycle; the channel loses an edge sampled at ``s + 1`` .. ``s + 9``), and, after the
first missing strobe, every slot until the next deadline (a search frame: a strobe that jumped
into a running slot cannot be seen there, the search frame shows it wherever it is). Before the
first edge the guard is not locked: the slots run, except in one frame of every
``acquire_frames`` (16) counted from reset, a search frame that finds a strobe that sits in a
slot from the start (without it, such a strobe would stay hidden until the drift moves it out,
up to 550 frames at 1 ppm); with no strobe at all, it costs 1/16 of the channel's slots.

Margin: a strobe's sampled cycle moves by at most ``ceil(d)`` cycles per frame when its time
drifts by ``d`` cycles per frame; :data:`GUARD_MARGIN` = 3 covers ``d`` up to 3 cycles per
frame, 183 ppm of clock offset plus Doppler (the stimulus accepts 100 ppm + 25 ppm). Cost: a
slot is skipped while the strobe is within ``9 + 2 margin`` = 15 cycles of it, one of the 16
slots of a frame in that case, ``15 / 1024`` of the frames on average.

Cycle-exact contract (the RTL's registers)
------------------------------------------
State ``locked``, ``deadline`` (``frame_cycles - 1`` at reset), ``misses`` (0, 1 =
searching, 2 = free-running), ``acquire`` (deadlines passed while not locked, modulo
``acquire_frames``; the search frame is the one where it is ``acquire_frames - 1``). An edge of
the code of cycle ``x`` acts at cycle ``x + 1`` (seen from ``x + 2``); a deadline ``D`` with no
edge acting at ``D`` expires at ``D`` (seen from ``D + 1``); the decision for slot ``k``
(``s = k cal_period``) is taken at cycle ``s - lead`` from the state seen there, and holds
until the next decision (slot 0 runs: there is no decision before it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.constants import (
    FRAME_PULSES,
    LANES,
    TDC_CAL_PERIOD,
    TDC_CAL_SEED,
    TDC_CAL_SLOT_CYCLES,
    TDC_CHANNELS,
)
from models.ground.tdc import DelayLine, channel_input, check_cal_period

FRAME_CYCLES = FRAME_PULSES // LANES
"""Fabric cycles per sync frame (16384): the strobe period."""
GUARD_MARGIN = 3
"""Cycles by which the guard's window extends the blanked window on each side (module
docstring: covers a drift of up to 3 cycles per frame)."""
GUARD_LEAD = 16
"""Cycles from the guard's decision to the slot's first cycle (the mux select is computed 2
cycles ahead; the decision holds until ``lead`` cycles before the next slot)."""
ACQUIRE_FRAMES = 16
"""While not locked, one frame in this many is a search frame (every slot skipped); 0: none."""
WINDOW_CYCLES = TDC_CAL_SLOT_CYCLES + 1
"""Blanked window of a running slot: the edges sampled at its cycles 1 .. 9."""
SEARCHING, FREE_RUNNING = 1, 2
MAX_PASSES = 64


class GuardConfigError(ValueError):
    """A strobe guard configuration that cannot work (named with its numbers)."""


@dataclass(frozen=True)
class GuardConfig:
    """Parameters of the strobe guard (see the module docstring)."""

    frame_cycles: int = FRAME_CYCLES
    margin: int = GUARD_MARGIN
    lead: int = GUARD_LEAD
    acquire_frames: int = ACQUIRE_FRAMES

    def check(self, cal_period: int) -> GuardConfig:
        """This configuration, if it works with ``cal_period``; else a :class:`GuardConfigError`."""
        check_cal_period(cal_period)
        if self.acquire_frames < 0:
            raise GuardConfigError(f"strobe guard: acquire_frames {self.acquire_frames} must "
                                   "be >= 0")
        if self.margin < 0 or self.lead < 2:
            raise GuardConfigError(f"strobe guard: margin {self.margin} must be >= 0 and lead "
                                   f"{self.lead} >= 2 (the mux select is computed 2 cycles "
                                   "ahead)")
        if self.lead + WINDOW_CYCLES >= cal_period:
            raise GuardConfigError(f"strobe guard: lead {self.lead} + {WINDOW_CYCLES} must be "
                                   f"below cal_period {cal_period} (a decision must hold over "
                                   "its slot's window)")
        if self.frame_cycles <= self.window[1]:
            raise GuardConfigError(f"strobe guard: frame_cycles {self.frame_cycles} must exceed "
                                   f"the guard window ({self.window[1]} cycles)")
        return self

    @property
    def window(self) -> tuple[int, int]:
        """Deadline minus decision cycle for which the slot is skipped (inclusive bounds)."""
        return self.lead + 1, self.lead + WINDOW_CYCLES + 2 * self.margin


GUARD_DEFAULTS = GuardConfig()


@dataclass
class GuardResult:
    """Per slot ``k`` (slot ``k`` starts at cycle ``k * cal_period``, ``k < len(skip)``):
    ``skip[k]`` the guard's decision; ``skipped`` the slot numbers skipped; ``locked`` per slot,
    the guard was locked at the decision; ``strobes`` the edge cycles the guard learned from."""

    skip: np.ndarray
    locked: np.ndarray
    strobes: np.ndarray

    @property
    def skipped(self) -> np.ndarray:
        return np.flatnonzero(self.skip)


def tap0_edges(tap0: np.ndarray, cycle: np.ndarray | None = None) -> np.ndarray:
    """Cycles of the rising edges of tap 0 (``tap0`` per cycle from cycle 0, or per row of a
    run-length coded code, rows starting at ``cycle``); tap 0 is low before cycle 0."""
    tap0 = np.asarray(tap0, dtype=bool)
    rise = tap0 & ~np.concatenate(([False], tap0[:-1]))
    rows = np.flatnonzero(rise)
    return rows if cycle is None else np.asarray(cycle, dtype=np.int64)[rows]


def run_guard(edges: np.ndarray, cycles: int, cal_period: int = TDC_CAL_PERIOD,
              cfg: GuardConfig = GUARD_DEFAULTS) -> GuardResult:
    """The guard's decisions for the slots whose decision falls in ``[0, cycles)``, from every
    rising edge of tap 0 of the channel's code (``edges``, sorted cycles; the guard itself
    ignores those in a running slot's window)."""
    cfg.check(cal_period)
    edges = np.asarray(edges, dtype=np.int64)
    slots = (cycles - 1 + cfg.lead) // cal_period + 1
    skip = np.zeros(slots, dtype=bool)
    locked_at = np.zeros(slots, dtype=bool)
    learned = []
    # not locked, the deadline counts frames from reset (acquisition search frames)
    locked, deadline, misses, acquire = False, cfg.frame_cycles - 1, 0, 0
    lo, hi = cfg.window
    i = 0
    for k in range(1, slots):
        decide = k * cal_period - cfg.lead
        # events seen at the decision: edges acting before it, deadlines expiring before it
        while True:
            act = int(edges[i]) + 1 if i < len(edges) else decide
            if deadline < min(act, decide):
                deadline += cfg.frame_cycles
                if locked:
                    misses = min(misses + 1, FREE_RUNNING)
                else:
                    acquire = (acquire + 1) % max(cfg.acquire_frames, 1)
                continue
            if act >= decide:
                break
            x = act - 1
            i += 1
            phase = x % cal_period
            if 1 <= phase <= WINDOW_CYCLES and not skip[x // cal_period]:
                continue
            locked, deadline, misses = True, x + cfg.frame_cycles + cfg.margin, 0
            learned.append(x)
        locked_at[k] = locked
        if locked:
            skip[k] = misses == SEARCHING or lo <= deadline - decide <= hi
        else:
            skip[k] = acquire == cfg.acquire_frames - 1
    return GuardResult(skip, locked_at, np.asarray(learned, dtype=np.int64))


@dataclass
class GuardedInput:
    """The sync channel's line input behind its guarded mux (``rises``, ``widths`` as
    :func:`models.ground.tdc.channel_input`), the guard's decisions, and the line's run-length
    coded codes of the run (``cycle``, ``codes``: :meth:`DelayLine.sparse_codes`)."""

    rises: np.ndarray
    widths: np.ndarray
    guard: GuardResult
    cycle: np.ndarray
    codes: np.ndarray


def guarded_input(strobe_rises: np.ndarray, widths: np.ndarray, first_cycle: int, cycles: int,
                  line: DelayLine, cal_period: int = TDC_CAL_PERIOD, seed: int = TDC_CAL_SEED,
                  channel: int = TDC_CHANNELS - 1, cfg: GuardConfig = GUARD_DEFAULTS
                  ) -> GuardedInput:
    """:func:`models.ground.tdc.channel_input` for the sync channel with its strobe guard, over
    cycles ``[0, first_cycle + cycles)`` (slots muxed from ``first_cycle`` on, as there).

    The guard reads the code the line makes of the mux's output, which depends on the guard:
    the decisions are found by iteration (mux with the decisions so far -> codes -> guard),
    which agrees with the hardware's cycle by cycle once it stops changing; every pass fixes at
    least the first decision that differed, and a pass that changes nothing is reached in a
    few (the first skips a strobe the previous pass had not seen)."""
    total = first_cycle + cycles
    skipped = np.zeros(0, dtype=np.int64)
    for _ in range(MAX_PASSES):
        rises, w = channel_input(strobe_rises, widths, first_cycle, cycles, cal_period, seed,
                                 channel, skip=skipped)
        rows, codes = line.sparse_codes(rises, w, total)
        guard = run_guard(tap0_edges(codes[:, 0], rows), total, cal_period, cfg)
        if np.array_equal(guard.skipped, skipped):
            return GuardedInput(rises, w, guard, rows, codes)
        skipped = guard.skipped
    raise RuntimeError(f"strobe guard: the decisions did not settle in {MAX_PASSES} passes")
