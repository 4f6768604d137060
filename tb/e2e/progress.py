"""Progress bar of a long co-simulation: frames done of the window, pulses per second, ETA and
the running mismatch count, on the terminal.

It is updated from the batch poll that the testbench already does (every few hundred cycles),
never per cycle, and redraws at most twice a second, so it costs nothing measurable. The runner
(:mod:`sim.e2e`) turns it on only when its standard error is a terminal and ``CI`` is not set.
"""

from __future__ import annotations

import sys
import time
from typing import Protocol

from tqdm import tqdm

from models.constants import FRAME_PULSES


class Counts(Protocol):
    @property
    def mismatches(self) -> int: ...


class Progress:
    """A tqdm bar over the window's sync frames (pulses simulated / 2**16)."""

    def __init__(self, frames: float, lanes: int, counts: Counts, label: str = "co-simulation"
                 ) -> None:
        self.lanes, self.counts = lanes, counts
        tqdm.monitor_interval = 0  # no monitor thread in the simulator process: we redraw
        self.bar = tqdm(total=frames, desc=label, unit="frame", file=sys.stderr,
                        mininterval=0.5, dynamic_ncols=True, leave=True,
                        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} frames "
                                   "[{elapsed}<{remaining}{postfix}]")
        self.start = time.perf_counter()
        self.last_draw = 0.0

    def update(self, cycles: int) -> None:
        now = time.perf_counter()
        if now - self.last_draw < 0.5:
            return
        self.last_draw = now
        pulses = cycles * self.lanes
        rate = pulses / max(now - self.start, 1e-9)
        self.bar.n = min(pulses / FRAME_PULSES, self.bar.total)
        self.bar.set_postfix_str(f"{rate / 1e6:.2f} M pulses/s, "
                                 f"{self.counts.mismatches} mismatches", refresh=False)
        self.bar.refresh()

    def close(self, cycles: int) -> None:
        self.last_draw = 0.0
        self.update(cycles)
        self.bar.close()
