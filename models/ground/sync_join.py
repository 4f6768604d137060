"""Golden model of the sync-strobe join (:class:`rtl.ground.sync_join.SyncJoin`).

The sync detector gives frame events (frame counter ``k``) some fixed time after the frame's
strobe; the TDC's sync channel gives the strobe's precise time ``t_k`` without ``k``. The join
pairs them into the channel-4 tag ``(k, t_k)`` that the pulse indexer needs. The model works on
events and strobes with their arrival cycles and reproduces the RTL cycle for cycle, including
every count.

Rules:

* An event accepted at cycle ``e`` is stamped ``now(e)``; its window is
  ``[now(e) + offset_ps - tolerance_ps, now(e) + offset_ps + tolerance_ps]`` (both ends
  included). Windows of successive events must not overlap (tolerance below half a frame).
* The event's window closes when a strobe later than the window arrives, or when
  ``now > now(e) + offset_ps + tolerance_ps + strobe_lag_ps`` with no strobe waiting (a strobe
  arrives at most ``strobe_lag_ps`` after its time, so none can still fall in the window).
* At closing: exactly one strobe in the window -> the joined tag ``(time t, channel 4, frame k)``;
  none -> ``missing``; two or more -> ``ambiguous`` (a duplicated strobe: which one is right is
  unknown, so none is joined and the indexer sees a frame gap instead of a wrong ``t_k``).
* A strobe before the window of the event at hand, or (no event waiting) before
  ``now(c - 1) + offset_ps - tolerance_ps`` (the earliest window a later event can have), belongs
  to no event: ``extra``. A strobe that arrives later than ``strobe_lag_ps`` after its time, or
  falls after its event's window, therefore ends as ``missing`` + ``extra``, never joined.
* Strobes and events wait in FIFOs of ``depth`` entries; one arriving at a full FIFO is dropped
  and counted in ``overflow``.

Times compare modulo 2**64 as in :mod:`models.ground.tdc_merge`.

Cycle accounting (cycle 0 = first after reset): a strobe arriving at ``a`` is in its FIFO from
``a + 1``; an event arriving at ``a`` is stamped ``now(a)`` and in its FIFO from ``a + 2``; a
FIFO's level at the start of the cycle of the write decides overflow. The RTL takes one action
per two cycles: the state at an even cycle ``c`` decides, in this order of priority: with an open
event, take the first strobe (extra, candidate, or close the event), or close on the timeout;
else open the next event; else drop an unclaimable strobe; the action happens at ``c + 1`` (a
FIFO read at its end). A joined tag is valid on the output from ``c + 2``.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from models.constants import TDC_CHANNELS
from models.ground.tdc_merge import MASK64, Coarse, signed64

SYNC_CHANNEL = TDC_CHANNELS - 1
"""The TDC channel of the sync strobe; joined tags carry it."""


class JoinConfigError(ValueError):
    """A join configuration the RTL cannot hold."""


@dataclass(frozen=True)
class JoinConfig:
    """Registers of the join (ps) and its FIFO depth."""

    offset_ps: int = 0
    tolerance_ps: int = 100_000
    strobe_lag_ps: int = 102_400
    depth: int = 4

    def __post_init__(self) -> None:
        if not -(1 << 31) <= self.offset_ps < 1 << 31:
            raise JoinConfigError(f"offset_ps {self.offset_ps} does not fit 32 signed bits")
        for name in ("tolerance_ps", "strobe_lag_ps"):
            if not 0 <= getattr(self, name) < 1 << 32:
                raise JoinConfigError(f"{name} {getattr(self, name)} does not fit 32 bits")
        if self.depth < 2 or self.depth & (self.depth - 1):
            raise JoinConfigError(f"join FIFO depth {self.depth} must be a power of two >= 2")


@dataclass
class JoinResult:
    """Joined tags in order (``time`` uint64, ``frame``, the ``cycle`` each is valid on the
    output) and the counters."""

    time: np.ndarray
    frame: np.ndarray
    cycle: np.ndarray
    missing: int
    ambiguous: int
    extra: int
    overflow: int


def run_join(event_frames: Sequence[int], event_cycles: Sequence[int],
             strobe_times: Sequence[int], strobe_cycles: Sequence[int], now: Coarse,
             cfg: JoinConfig = JoinConfig(), cycles: int | None = None) -> JoinResult:
    """Every joined tag and counter for events (frame counters, arrival cycles) and strobes
    (64-bit times, arrival cycles), arrival cycles increasing per stream; ``cycles``: the run
    ends there."""
    ev = list(zip([int(c) for c in event_cycles], [int(k) for k in event_frames], strict=True))
    st = list(zip([int(c) for c in strobe_cycles], [int(t) for t in strobe_times], strict=True))
    for name, seq in (("event", ev), ("strobe", st)):
        if any(b[0] <= a[0] for a, b in itertools.pairwise(seq)) or (seq and seq[0][0] < 0):
            raise JoinConfigError(f"{name} arrival cycles must be >= 0 and increase")
    off_lo = cfg.offset_ps - cfg.tolerance_ps
    off_hi = cfg.offset_ps + cfg.tolerance_ps
    off_dl = off_hi + cfg.strobe_lag_ps
    sfifo: deque[int] = deque()  # unwrapped strobe times
    efifo: deque[tuple[int, int]] = deque()  # (frame, unwrapped stamp)
    cur: list | None = None  # [frame, lo, hi, deadline, n, t]
    out: list[tuple[int, int, int]] = []
    counts = {"missing": 0, "ambiguous": 0, "extra": 0, "overflow": 0}
    si = ei = 0
    end = cycles if cycles is not None else 1 << 62

    def decide(c: int) -> tuple | None:
        """The action the state at the even cycle ``c`` calls for (taken at ``c + 1``)."""
        if cur is not None:
            if sfifo:
                t = sfifo[0]
                return ("extra",) if t < cur[1] else ("cand",) if t <= cur[2] else ("close",)
            return ("close",) if now.at(c) > cur[3] else None
        if efifo:
            return ("load",)
        if sfifo and sfifo[0] < now.at(c - 1) + off_lo:
            return ("extra",)
        return None

    def apply(action: tuple, c: int) -> None:
        nonlocal cur
        if action[0] == "extra":
            sfifo.popleft()
            counts["extra"] += 1
        elif action[0] == "cand":
            cur[4] = min(cur[4] + 1, 2)
            cur[5] = sfifo.popleft()
        elif action[0] == "load":
            k, stamp = efifo.popleft()
            cur = [k, stamp + off_lo, stamp + off_hi, stamp + off_dl, 0, 0]
        else:
            if cur[4] == 1:
                out.append((cur[5] & MASK64, cur[0], c + 1))
            else:
                counts["missing" if cur[4] == 0 else "ambiguous"] += 1
            cur = None

    def writes(c: int) -> bool:
        """The FIFO writes at the end of cycle ``c``, against the levels at its start."""
        nonlocal si, ei
        wrote = False
        if si < len(st) and st[si][0] == c:
            a, t = st[si]
            si += 1
            wrote = True
            if len(sfifo) < cfg.depth:
                sfifo.append(now.at(a) - signed64(now.at(a) - t))
            else:
                counts["overflow"] += 1
        if ei < len(ev) and ev[ei][0] + 1 == c:
            a, k = ev[ei]
            ei += 1
            wrote = True
            if len(efifo) < cfg.depth:
                efifo.append((k, now.at(a)))
            else:
                counts["overflow"] += 1
        return wrote

    def wake(c: int) -> int | None:
        """The next even cycle after the idle one ``c`` at which something can happen."""
        down = []  # cycles of writes: the pair that holds them
        up = []  # cycles from which a decision changes
        if si < len(st):
            down.append(st[si][0])
        if ei < len(ev):
            down.append(ev[ei][0] + 1)
        if cur is not None and not sfifo:
            up.append(now.first_at_least(cur[3] + 1, c + 1))
        if cur is None and not efifo and sfifo:
            x = now.first_at_least(sfifo[0] - off_lo + 1, c)
            up.append(None if x is None else x + 1)
        cands = [x - x % 2 for x in down] + [x + x % 2 for x in up if x is not None]
        return max(min(cands), c + 2) if cands else None

    c = 0
    while c < end:
        action = decide(c)
        wrote = writes(c)
        if c + 1 < end:
            wrote |= writes(c + 1)
            if action is not None:
                apply(action, c + 1)
        if action is not None or wrote:
            c += 2
            continue
        nxt = wake(c)
        if nxt is None:
            break
        c = nxt
    cols = list(zip(*out, strict=True)) if out else [[]] * 3
    return JoinResult(np.array(cols[0], dtype=np.uint64), np.array(cols[1], dtype=np.int64),
                      np.array(cols[2], dtype=np.int64), **counts)
