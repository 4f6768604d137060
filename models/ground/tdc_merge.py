"""Golden model of the time-ordered merge (:class:`rtl.ground.tdc_merge.TimeOrderedMerge`).

The merge takes N tag streams (the four detector channels and the joined sync stream) and gives
one stream in non-decreasing time, ties in input order, for the pulse indexer, which processes
strictly in input order. The model works on the tags with the cycles at which they arrive and
reproduces the RTL cycle for cycle, so that it predicts every output tag *and* every dropped one.

Rules (the RTL's, see its docstring for the pipeline):

* Times are 64-bit picoseconds compared modulo 2**64 (``a`` is before ``b`` when ``a - b`` is
  negative as a signed 64-bit number), so the coarse counter may wrap; tags compared with each
  other or with ``now`` must lie within 2**63 ps (106 days).
* **Late**: a tag arriving at cycle ``a`` with ``now(a) - time > max_lag_ps[i]`` breaks its
  input's contract; so does a tag before the latest tag of its input that was in order (late by
  lag or overflowing ones included: the order check runs apart from the others, so every kept
  tag is at least every kept tag before it). Both are dropped and counted in ``late[i]``, at
  arrival: the decision depends on the arrival cycle only, never on backpressure, and every
  accepted tag obeys the bound that the release rule relies on.
* **Overflow**: a tag that is not late and finds its input's FIFO (``depth`` entries) full is
  dropped and counted in ``overflow[i]``. Inputs never wait: a TDC channel cannot.
* **Release**: the tag with the smallest key ``(time, input)`` among the FIFO heads leaves when it
  is also smaller than ``(now - max_lag_ps[j], j)`` of every *empty* input ``j`` (no later tag of
  ``j`` can come before it). One decision per round of ``round_cycles(N)`` cycles.

Cycle accounting (cycle 0 = the first cycle after reset): a tag arriving at ``a`` is compared at
``a + 1``, counted as late or checked against the FIFO level at ``a + 2``, and is in its FIFO
from ``a + 3``.
Rounds start at the multiples ``s`` of ``round_cycles(N)``; the snapshot at ``s`` sees the FIFO
heads and the bounds ``now(s - 2) - max_lag_ps[j]``; the decision at
``d = s + round_cycles(N) - 2`` grants the winner if it is a real tag and the output register is
free (empty, or read at ``d``); the grant pops the FIFO at ``d + 1`` (the level seen by the
arrivals written up to ``d + 1`` still counts the tag) and the tag is valid on the output from
``d + 2``.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

MASK64 = (1 << 64) - 1
SIGN64 = 1 << 63


class MergeConfigError(ValueError):
    """A merge configuration or stimulus that the RTL cannot represent."""


def signed64(x: int) -> int:
    """``x`` modulo 2**64 as a signed 64-bit number."""
    x &= MASK64
    return x - (1 << 64) if x & SIGN64 else x


@dataclass(frozen=True)
class Coarse:
    """The coarse time ``now_ps`` as a function of the cycle: piecewise linear, non-decreasing,
    not wrapped (the RTL sees the value modulo 2**64).

    ``cycles[k] <= c < cycles[k + 1]``: ``now(c) = values[k] + (c - cycles[k]) * steps[k]``.
    :meth:`linear` is the TDC's counter; a step function (``steps`` zero) is a test's register.
    """

    cycles: tuple[int, ...]
    values: tuple[int, ...]
    steps: tuple[int, ...]

    def __post_init__(self) -> None:
        if not (len(self.cycles) == len(self.values) == len(self.steps) >= 1):
            raise MergeConfigError("Coarse needs equal, non-empty cycles, values and steps")
        if self.cycles[0] > -1 or list(self.cycles) != sorted(set(self.cycles)):
            raise MergeConfigError("Coarse cycles must increase and start at or before -1")
        if min(self.steps) < 0:
            raise MergeConfigError("Coarse must not decrease")
        for k in range(1, len(self.cycles)):
            if self.values[k] < self.at(self.cycles[k] - 1):
                raise MergeConfigError(f"Coarse decreases at cycle {self.cycles[k]}")

    @classmethod
    def linear(cls, epoch: int, period: int) -> Coarse:
        """``now(c) = epoch + c * period`` (cycle -1, in reset, included)."""
        return cls((-1,), (epoch - period,), (period,))

    @classmethod
    def steps_at(cls, cycles: Sequence[int], values: Sequence[int]) -> Coarse:
        """A register set to ``values[k]`` from cycle ``cycles[k]`` (the first at -1 or before)."""
        return cls(tuple(cycles), tuple(values), (0,) * len(cycles))

    def at(self, c: int) -> int:
        k = bisect.bisect_right(self.cycles, c) - 1
        return self.values[k] + (c - self.cycles[k]) * self.steps[k]

    def first_at_least(self, x: int, start: int) -> int | None:
        """The first cycle ``c >= start`` with ``now(c) >= x``; ``None`` if never."""
        if self.at(start) >= x:
            return start
        k0 = bisect.bisect_right(self.cycles, start) - 1
        for k in range(k0, len(self.cycles)):
            lo = max(start, self.cycles[k])
            if self.values[k] + (lo - self.cycles[k]) * self.steps[k] >= x:
                return lo
            end = self.cycles[k + 1] if k + 1 < len(self.cycles) else None
            if self.steps[k] > 0:
                c = self.cycles[k] + -(-(x - self.values[k]) // self.steps[k])
                if end is None or c < end:
                    return max(c, lo)
        return None


def round_cycles(inputs: int) -> int:
    """Cycles per release decision of an ``inputs``-way merge: snapshot, one per comparison level
    of the tournament, decision, pop."""
    return max(1, (inputs - 1).bit_length()) + 3


@dataclass
class MergeInput:
    """One input's tags in arrival order: ``time`` (64-bit ps), the arrival ``cycle`` (strictly
    increasing: one tag per cycle), and the ``channel`` and ``frame`` fields carried along."""

    time: np.ndarray
    cycle: np.ndarray
    channel: np.ndarray
    frame: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.time)
        self.time = np.asarray(self.time, dtype=np.uint64)
        self.cycle = np.asarray(self.cycle, dtype=np.int64)
        self.channel = np.broadcast_to(np.asarray(self.channel, dtype=np.int64), (n,))
        frame = np.zeros(n, np.int64) if self.frame is None else self.frame
        self.frame = np.broadcast_to(np.asarray(frame, dtype=np.int64), (n,))
        if len(self.cycle) != n:
            raise MergeConfigError("MergeInput: time and cycle differ in length")
        if n and (self.cycle[0] < 0 or np.any(np.diff(self.cycle) <= 0)):
            raise MergeConfigError("MergeInput: arrival cycles must be >= 0 and increase")


@dataclass
class MergeResult:
    """Output tags in order (``time`` uint64, ``channel``, ``frame``, the ``input`` they came
    from, ``cycle`` from which each is valid on the output) and the per-input counters."""

    time: np.ndarray
    channel: np.ndarray
    frame: np.ndarray
    input: np.ndarray
    cycle: np.ndarray
    late: list[int] = field(default_factory=list)
    overflow: list[int] = field(default_factory=list)


def _earlier(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Key order ``(time, input)`` with times compared modulo 2**64."""
    d = signed64(a[0] - b[0])
    return d < 0 or (d == 0 and a[1] < b[1])


def run_merge(inputs: Sequence[MergeInput], now: Coarse, max_lag_ps: Sequence[int],
              depth: int, cycles: int | None = None,
              ready: Callable[[int], bool] | None = None,
              frame_inputs: Sequence[int] | None = None) -> MergeResult:
    """Every output tag and counter of the merge for tags arriving at the given cycles.

    ``cycles``: the run ends there (no decision at or after it; counters as read after its last
    cycle); ``ready``: the consumer's ``ready`` per cycle (default: always ready);
    ``frame_inputs``: the inputs whose frame the RTL stores (the others leave with frame 0)."""
    n = len(inputs)
    if n < 2 or len(max_lag_ps) != n:
        raise MergeConfigError(f"merge of {n} inputs with {len(max_lag_ps)} max lags")
    if depth < 1:
        raise MergeConfigError(f"merge FIFO depth {depth} must be >= 1")
    rounds = round_cycles(n)
    arrivals = sorted((int(c), i, k) for i, inp in enumerate(inputs)
                      for k, c in enumerate(inp.cycle.tolist()))
    fifo: list[deque] = [deque() for _ in range(n)]
    last: list[int | None] = [None] * n
    late = [0] * n
    overflow = [0] * n
    out: list[tuple[int, int, int, int]] = []
    ai = 0
    busy_from: int | None = None  # first cycle at which the loaded output tag may be read

    def check_until(cycle: int) -> None:
        """Check every arrival whose write cycle ``a + 2`` is at most ``cycle``."""
        nonlocal ai
        while ai < len(arrivals) and arrivals[ai][0] + 2 <= cycle:
            a, i, k = arrivals[ai]
            ai += 1
            t = int(inputs[i].time[k])
            lag = signed64(now.at(a) - t)
            order = last[i] is not None and signed64(t - last[i]) < 0
            if not order:
                last[i] = t
            if lag > max_lag_ps[i] or order:
                late[i] += 1
            elif len(fifo[i]) >= depth:
                overflow[i] += 1
            else:
                # Unwrapped time (relative to the arrival's now) for the searches below.
                fifo[i].append((now.at(a) - lag, t, k))

    def output_free(d: int) -> bool:
        nonlocal busy_from
        if ready is None or busy_from is None:
            return True
        if any(ready(c) for c in range(busy_from, d + 1)):
            busy_from = None
            return True
        busy_from = d + 1
        return False

    s = 0
    while cycles is None or s + rounds - 1 < cycles:
        d = s + rounds - 2
        check_until(s - 1)
        keys = [(fifo[i][0][1], i) if fifo[i] else ((now.at(s - 2) - max_lag_ps[i]) & MASK64, i)
                for i in range(n)]
        win = min(range(n), key=lambda i: _Key(keys[i]))
        real = bool(fifo[win])
        check_until(d + 1)
        if real:
            if output_free(d):
                _u, t, k = fifo[win].popleft()
                inp = inputs[win]
                frame = int(inp.frame[k]) if frame_inputs is None or win in frame_inputs else 0
                out.append((t, int(inp.channel[k]), frame, win, d + 2))
                busy_from = d + 2
            s += rounds
            continue
        s = _next_snapshot(s, rounds, fifo, arrivals, ai, now, max_lag_ps)
        if s is None:
            break
    check_until(cycles - 1 if cycles is not None else (1 << 62))
    # A tag whose late count falls at a + 2 = cycles is not counted: the run ended before.
    cols = list(zip(*out, strict=True)) if out else [[]] * 5
    return MergeResult(np.array(cols[0], dtype=np.uint64), np.array(cols[1], dtype=np.int64),
                       np.array(cols[2], dtype=np.int64), np.array(cols[3], dtype=np.int64),
                       np.array(cols[4], dtype=np.int64), late, overflow)


class _Key:
    """Sort key for :func:`min` with the modulo-2**64 order of :func:`_earlier`."""

    __slots__ = ("key",)

    def __init__(self, key: tuple[int, int]) -> None:
        self.key = key

    def __lt__(self, other: _Key) -> bool:
        return _earlier(self.key, other.key)


def _next_snapshot(s: int, rounds: int, fifo: list[deque], arrivals: list, ai: int, now: Coarse,
                   max_lag_ps: Sequence[int]) -> int | None:
    """The next round start at which the decision can differ from the one at ``s`` (nothing
    released): a new tag in a FIFO, or the bounds of the empty inputs passing the smallest head."""
    targets = []
    if ai < len(arrivals):
        targets.append(arrivals[ai][0] + 3)
    heads = [(fifo[i][0][0], i) for i in range(len(fifo)) if fifo[i]]
    if heads:
        h, i = min(heads)
        need = s
        for j in range(len(fifo)):
            if not fifo[j]:
                c = now.first_at_least(h + max_lag_ps[j] + (0 if j > i else 1), s)
                if c is None:
                    need = None
                    break
                need = max(need, c + 2)
        if need is not None:
            targets.append(need)
    if not targets:
        return None
    target = max(min(targets), s + 1)
    return -(-target // rounds) * rounds
