"""Clock schedules of the co-simulation: local oscillators with a ppm offset and recovered
link clocks that follow a pass's range rate, edge for edge as the simulator makes them.

A :class:`ClockSchedule` fixes every edge in integer attoseconds, so the golden model and the
simulation-only clock generator (:func:`rtl.simonly.clock_gen.clock_generator`) agree exactly:

* cycle ``k`` rises at ``R_k = floor(T_k / 10^6)`` ps with ``T_0 = phase_as`` and
  ``T_(k+1) = T_k + periods_as[min(k // segment_cycles, len(periods_as) - 1)]``;
* it falls at ``R_k + floor((R_(k+1) - R_k) / 2)``.

Attoseconds carry a ppm offset (1 ppm of 6400 ps is 6,400 as; a period is exact to 1e-10 of
itself) and a Doppler factor, and the rounding to the simulator's 1 ps step never accumulates.
The sum ``T_k`` is a signed 64-bit integer: schedules cover up to 9.2 s of simulated time.

A recovered clock is the transmitter's clock seen through the changing light time: a period of
the receiver's clock is the transmitter's period times ``1 + v_r / c`` (``v_r`` the range rate,
positive receding; the first-order Doppler factor, exact to ``(v_r / c)^2`` ~ 6e-10 at
7.5 km/s), one value per segment at the segment's middle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

AS_PER_PS = 1_000_000
SPEED_OF_LIGHT_M_S = 299_792_458.0
#: Largest period a schedule holds (1 ms; a 64-bit sum of attoseconds lasts 9.2 s).
MAX_PERIOD_AS = 10**15


class ClockScheduleError(ValueError):
    """A clock schedule that no simulator clock can follow."""


@dataclass(frozen=True)
class ClockSchedule:
    """Periods in attoseconds per segment of ``segment_cycles`` cycles, and the phase of the
    first rising edge (module docstring)."""

    periods_as: tuple[int, ...]
    segment_cycles: int
    phase_as: int

    def __post_init__(self) -> None:
        if not self.periods_as:
            raise ClockScheduleError("clock schedule: no period")
        low, high = min(self.periods_as), max(self.periods_as)
        if low < 2 * AS_PER_PS or high > MAX_PERIOD_AS:
            raise ClockScheduleError(
                f"clock schedule: periods {low}..{high} as outside 2 ps..1 ms "
                f"(the simulator steps 1 ps and each half period needs one)")
        if self.segment_cycles < 1:
            raise ClockScheduleError(
                f"clock schedule: segment of {self.segment_cycles} cycles (at least 1)")
        if self.phase_as < 0:
            raise ClockScheduleError(f"clock schedule: negative phase {self.phase_as} as")

    def period_of_cycle(self, cycles: np.ndarray) -> np.ndarray:
        index = np.minimum(np.asarray(cycles) // self.segment_cycles, len(self.periods_as) - 1)
        return np.asarray(self.periods_as, dtype=np.int64)[index]


def period_as(period_ps: float, offset_ppm: float = 0.0) -> int:
    """A nominal period with an oscillator's frequency offset (positive ppm: faster clock)."""
    return round(period_ps * AS_PER_PS / (1.0 + offset_ppm * 1e-6))


def constant_clock(period_ps: float, offset_ppm: float = 0.0,
                   phase_ps: float | None = None) -> ClockSchedule:
    """A free-running local oscillator; first rising edge at half a period unless given."""
    period = period_as(period_ps, offset_ppm)
    phase = period // 2 if phase_ps is None else round(phase_ps * AS_PER_PS)
    return ClockSchedule((period,), 1, phase)


def recovered_clock(period_ps: float, offset_ppm: float,
                    range_rate_m_s: Callable[[np.ndarray], np.ndarray], start_s: float,
                    cycles: int, segment_cycles: int = 4096,
                    phase_ps: float | None = None) -> ClockSchedule:
    """The transmitter's clock (nominal ``period_ps``, its oscillator ``offset_ppm``) as a
    receiver's clock recovery follows it from ``start_s`` on: one period per segment, scaled
    by the Doppler factor at the segment's middle. ``range_rate_m_s(t)`` maps pass times in
    seconds to range rates in m/s (vectorised, e.g. ``numpy.interp`` over the pass geometry)."""
    if cycles < 1:
        raise ClockScheduleError(f"recovered clock: {cycles} cycles (at least 1)")
    if segment_cycles < 1:
        raise ClockScheduleError(f"recovered clock: segment of {segment_cycles} cycles")
    base = period_as(period_ps, offset_ppm)
    segments = -(-cycles // segment_cycles)
    middle = start_s + (np.arange(segments) + 0.5) * segment_cycles * base * 1e-18
    factor = 1.0 + np.asarray(range_rate_m_s(middle), dtype=float) / SPEED_OF_LIGHT_M_S
    periods = tuple(int(p) for p in np.rint(base * factor).astype(np.int64))
    phase = base // 2 if phase_ps is None else round(phase_ps * AS_PER_PS)
    return ClockSchedule(periods, segment_cycles, phase)


def rising_edges_ps(schedule: ClockSchedule, cycles: int) -> np.ndarray:
    """``R_0 .. R_cycles`` (one more than ``cycles``: the end of the last cycle), int64 ps."""
    steps = schedule.period_of_cycle(np.arange(cycles))
    total = np.concatenate(([schedule.phase_as], schedule.phase_as + np.cumsum(steps)))
    return total // AS_PER_PS


def falling_edges_ps(schedule: ClockSchedule, cycles: int) -> np.ndarray:
    """Falling edge of each of the first ``cycles`` cycles, int64 ps."""
    rise = rising_edges_ps(schedule, cycles)
    return rise[:-1] + (rise[1:] - rise[:-1]) // 2


def cycles_before(schedule: ClockSchedule, time_ps: int, max_cycles: int) -> int:
    """Rising edges strictly before ``time_ps`` (searching the first ``max_cycles``)."""
    return int(np.searchsorted(rising_edges_ps(schedule, max_cycles), time_ps, side="left"))
