"""The e2e testbench's view of a clock made inside the simulator: which cycle it is, and timers
that wake Python on a falling edge of that clock, never by waiting on the clock's signal (no
Python on any edge).

A :class:`TbClock` follows the same :class:`models.clocks.ClockSchedule` as the simulator's
generator (rising edge ``k`` at ``R_k = floor(T_k / 10^6)`` ps, falling edge half way to the
next), so a timer computed from it lands exactly on an edge of that clock however far the
clocks of the top drift apart.
"""

from __future__ import annotations

import bisect

import numpy as np
from cocotb.triggers import Timer
from cocotb.utils import get_sim_time

from models.clocks import AS_PER_PS, ClockSchedule


def sim_ps() -> int:
    return int(get_sim_time(unit="ps"))


class TbClock:
    """Cycles of one clock (``spec``: :func:`sim.e2e_clocks.schedule_spec`)."""

    def __init__(self, spec: dict) -> None:
        self.schedule = ClockSchedule(tuple(spec["periods_as"]), spec["segment_cycles"],
                                      spec["phase_as"])
        periods = np.asarray(self.schedule.periods_as, dtype=np.int64)
        self.seg = self.schedule.segment_cycles
        self.periods = periods
        # attoseconds at the start of each segment
        self.starts = self.schedule.phase_as + np.concatenate(
            ([0], np.cumsum(periods[:-1] * self.seg)))
        self.constant = len(periods) == 1
        self._starts = [int(x) for x in self.starts]
        self._periods = [int(x) for x in periods]

    def rise_ps(self, k: np.ndarray | int) -> np.ndarray:
        """Rising edge of cycle ``k`` (0 is the first), ps."""
        k = np.asarray(k, dtype=np.int64)
        s = np.minimum(k // self.seg, len(self.periods) - 1)
        return (self.starts[s] + (k - s * self.seg) * self.periods[s]) // AS_PER_PS

    def _rise(self, k: int) -> int:
        """:meth:`rise_ps` of one cycle, in Python integers (a wake asks for a few)."""
        s = min(k // self.seg, len(self._periods) - 1)
        return (self._starts[s] + (k - s * self.seg) * self._periods[s]) // AS_PER_PS

    def fall_ps(self, k: int) -> int:
        rise = self._rise(k)
        return rise + (self._rise(k + 1) - rise) // 2

    def edges_before(self, t_ps: np.ndarray) -> np.ndarray:
        """Rising edges strictly before each ``t_ps`` (int64 array)."""
        t = np.asarray(t_ps, dtype=np.int64)
        if self.constant:
            period, phase = int(self.periods[0]), int(self.starts[0])
            return np.maximum(0, -((phase - t * AS_PER_PS) // period))
        return np.asarray([self._search(int(x)) for x in np.atleast_1d(t)]).reshape(t.shape)

    def _search(self, t_ps: int) -> int:
        # the segment by its start, then the cycle inside it by division, then a step or two
        s = max(0, bisect.bisect_right(self._starts, t_ps * AS_PER_PS) - 1)
        k = s * self.seg + max(0, (t_ps * AS_PER_PS - self._starts[s]) // self._periods[s] - 1)
        while k > 0 and self._rise(k - 1) >= t_ps:
            k -= 1
        while self._rise(k) < t_ps:  # the first k with R_k >= t_ps
            k += 1
        return k

    def now(self) -> int:
        """Rising edges so far: the top's cycle counter of this clock between two edges."""
        return int(self.edges_before(sim_ps() + 1))

    async def to_fall(self, k: int) -> None:
        """Wake at the falling edge of cycle ``k`` (at once if that is now)."""
        wait = self.fall_ps(k) - sim_ps()
        if wait < 0:
            raise RuntimeError(f"falling edge of cycle {k} is {-wait} ps in the past")
        if wait:
            await Timer(wait, unit="ps")

    def next_fall(self) -> int:
        """The cycle whose falling edge is now or next."""
        k = max(0, self.now() - 1)
        return k if self.fall_ps(k) >= sim_ps() else k + 1

    async def cycles(self, n: int) -> None:
        """Wake ``n`` cycles on, at a falling edge (from a falling edge or time 0, the counter
        then reads ``now() + n``)."""
        await self.to_fall(max(self.now() - 1 + n, self.next_fall()))

    async def until(self, cycle: int) -> None:
        """Wake at the falling edge after which the counter reads ``cycle`` (or the next
        falling edge, if that is past)."""
        await self.to_fall(max(cycle - 1, self.next_fall()))
