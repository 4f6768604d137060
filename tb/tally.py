"""Per-stream tallies of the batch scoreboards, with a first-mismatch report an engineer can use.

A batch scoreboard compares whole batches of captured beats with the golden model at once
(numpy), so a mismatch is a ``True`` in a boolean vector. :class:`StreamTally` counts compared
beats and mismatches of one stream and keeps, for the first mismatching beat of the run, a
:class:`Mismatch`: the beat index, the simulation cycle and time it was captured at, the expected
and received payload decoded field by field through the stream's layout, and the golden model's
context for that beat (pulse index, frame, detection index ...). ``summary.json`` carries it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from models.constants import FABRIC_CLOCK_PS

MISMATCH_CYCLES_KEPT = 1000  # cycles of the first mismatches kept for the run's timeline


@dataclass
class Mismatch:
    """The first disagreement of one stream."""

    stream: str
    beat: int
    message: str
    cycle: int | None = None
    expected: dict[str, Any] | None = None
    received: dict[str, Any] | None = None
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def time_ns(self) -> float | None:
        return None if self.cycle is None else self.cycle * FABRIC_CLOCK_PS / 1000

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "time_ns": self.time_ns}

    def describe(self) -> str:
        """One line per item: where, then expected/received per field, then the context."""
        where = f"beat {self.beat}"
        if self.cycle is not None:
            where += f", cycle {self.cycle:,} ({self.time_ns / 1000:,.3f} us)"
        lines = [f"{self.stream}: {where}: {self.message}"]
        if self.expected is not None or self.received is not None:
            names = list((self.expected or self.received or {}).keys())
            for name in names:
                want = (self.expected or {}).get(name)
                got = (self.received or {}).get(name)
                mark = "  " if want == got else "!="
                lines.append(f"    {name:>12s}: expected {_show(want):>22s} {mark} "
                             f"received {_show(got)}")
        if self.context:
            lines.append("    model context: " + ", ".join(
                f"{k} {_show(v)}" for k, v in self.context.items()))
        return "\n".join(lines)


def _show(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1 << 16:
        return f"{value:,} ({value:#x})"
    return str(value)


# Builds the first mismatch of a batch from the index of the bad beat within the batch.
Detail = Callable[[int], Mismatch]


@dataclass
class StreamTally:
    """Compared beats and mismatches of one stream, and its first mismatch."""

    name: str = ""
    compared: int = 0
    mismatches: int = 0
    first: Mismatch | None = None
    mismatch_cycles: list[int] = field(default_factory=list)

    @property
    def first_mismatch(self) -> str | None:
        """``"beat N: message"`` of the first mismatch (``None`` while there is none)."""
        return None if self.first is None else f"beat {self.first.beat}: {self.first.message}"

    def record(self, bad: np.ndarray, describe: str, detail: Detail | None = None,
               cycles: np.ndarray | None = None) -> None:
        """Count a batch: ``bad[i]`` marks beat ``compared + i`` as a mismatch. ``detail``
        builds the report of the first bad beat (called once per run); ``cycles`` are the
        beats' capture cycles (kept for the timeline)."""
        bad = np.asarray(bad, dtype=bool)
        n_bad = int(np.count_nonzero(bad))
        if n_bad:
            index = int(np.argmax(bad))
            if self.first is None:
                if detail is not None:
                    self.first = detail(index)
                    self.first.beat = self.compared + index
                    self.first.stream = self.first.stream or self.name
                else:
                    self.first = Mismatch(self.name, self.compared + index, describe)
                if cycles is not None and self.first.cycle is None and index < len(cycles):
                    self.first.cycle = int(cycles[index])
            if cycles is not None and len(self.mismatch_cycles) < MISMATCH_CYCLES_KEPT:
                where = np.flatnonzero(bad[:len(cycles)])
                room = MISMATCH_CYCLES_KEPT - len(self.mismatch_cycles)
                self.mismatch_cycles.extend(int(c) for c in np.asarray(cycles)[where[:room]])
        self.compared += int(bad.size)
        self.mismatches += n_bad

    def missing(self, count: int, expected: int) -> None:
        """``count`` beats that never arrived (of ``expected``) are mismatches too."""
        self.mismatches += count
        if self.first is None:
            self.first = Mismatch(self.name, self.compared,
                                  f"only {self.compared} of {expected} beats arrived")

    def summary(self) -> dict[str, Any]:
        return {"compared": self.compared, "mismatches": self.mismatches,
                "first_mismatch": None if self.first is None else self.first.as_dict()}
