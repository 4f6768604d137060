"""cocotb stream driver, monitor and in-order scoreboard for Amaranth ``lib.stream`` ports.

An Amaranth stream port ``i`` appears in the generated Verilog as ``i__valid``, ``i__ready`` and
``i__payload`` (the payload flattened LSB first). Driver and monitor follow the stream rules of
``amaranth/docs/stdlib/stream.rst``: the driver never waits for ``ready`` before raising
``valid`` and holds its payload until the transfer; idle (driver) and backpressure (monitor) come
from seeded ``random.Random`` instances, so every run is reproducible from its seed.

These wake Python on every clock edge: use them for block-level tests. Long runs use the
RTL-side generators and :mod:`rtl.simonly.batcher` instead (see ``docs/testing.md``).
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from amaranth.lib import data
from cocotb.handle import SimHandleBase
from cocotb.triggers import ReadOnly, RisingEdge

from rtl.common.payload import unpack

# A driver gives up on a beat the DUT has not accepted after this many cycles (the longest
# legitimate stall in the block tests is a few thousand cycles: a divider, a histogram clear).
MAX_STALL_CYCLES = 100_000


class _StreamPort:
    """The handles of stream port ``prefix`` (a payload-less stream has no ``__payload``)."""

    def __init__(self, dut: SimHandleBase, prefix: str, rng: random.Random) -> None:
        self.clk = dut.clk
        self.valid = getattr(dut, f"{prefix}__valid")
        self.ready = getattr(dut, f"{prefix}__ready")
        self.payload = getattr(dut, f"{prefix}__payload", None)
        self.rng = rng


class StreamDriver(_StreamPort):
    """Sends payload integers on stream port ``prefix`` with a random idle probability."""

    def __init__(
        self, dut: SimHandleBase, prefix: str, rng: random.Random, idle: float = 0.0,
        max_stall_cycles: int = MAX_STALL_CYCLES,
    ) -> None:
        super().__init__(dut, prefix, rng)
        self.prefix = prefix
        self.idle = idle
        self.max_stall_cycles = max_stall_cycles
        self.valid.value = 0
        self.sent = 0

    async def send(self, payloads: Iterable[int]) -> None:
        """Send every payload; call right after a clock edge, returns right after one."""
        for item in payloads:
            while self.idle and self.rng.random() < self.idle:
                self.valid.value = 0
                await RisingEdge(self.clk)
            if self.payload is not None:
                self.payload.value = item
            self.valid.value = 1
            await ReadOnly()
            for _ in range(self.max_stall_cycles):
                if self.ready.value:
                    break
                await RisingEdge(self.clk)
                await ReadOnly()
            else:
                raise AssertionError(f"{self.prefix}: ready low for {self.max_stall_cycles} "
                                     f"cycles, beat {self.sent} never accepted")
            await RisingEdge(self.clk)
            self.sent += 1
        self.valid.value = 0


class StreamMonitor(_StreamPort):
    """Accepts beats on stream port ``prefix`` with random backpressure; collects or forwards."""

    def __init__(
        self,
        dut: SimHandleBase,
        prefix: str,
        rng: random.Random,
        stall: float = 0.0,
        callback: Callable[[int], None] | None = None,
    ) -> None:
        super().__init__(dut, prefix, rng)
        self.stall = stall
        self.callback = callback
        self.received: list[int] = []
        self.task: Any = None
        self.ready.value = 0

    async def run(self) -> None:
        """Run forever (start with ``cocotb.start_soon``); a beat counts when it transfers."""
        while True:
            await RisingEdge(self.clk)
            ready = not (self.stall and self.rng.random() < self.stall)
            self.ready.value = int(ready)
            await ReadOnly()
            if ready and self.valid.value:
                value = int(self.payload.value) if self.payload is not None else 0
                if self.callback is not None:
                    self.callback(value)
                else:
                    self.received.append(value)

    def stop(self) -> None:
        """Cancel the task running :meth:`run` (if :class:`tb.testbench.TB` started it) and
        drop ``ready``."""
        if self.task is not None:
            self.task.cancel()
            self.task = None
        self.ready.value = 0


class InOrderScoreboard:
    """Compares actual items with expected ones, in order; counts and logs mismatches.

    With ``layout``, items are flat payload integers and a mismatch is logged field by field
    (:func:`rtl.common.payload.unpack`)."""

    def __init__(self, name: str, log: Any, max_logged: int = 10,
                 layout: data.Layout | None = None) -> None:
        self.name = name
        self.log = log
        self.layout = layout
        self.expected: deque[Any] = deque()
        self.matched = 0
        self.mismatches = 0
        self.unexpected = 0
        self._max_logged = max_logged

    def expect(self, items: Iterable[Any]) -> None:
        self.expected.extend(items)

    def actual(self, item: Any) -> None:
        if not self.expected:
            self.unexpected += 1
            self._report(f"{self.name}: unexpected item {item!r}")
            return
        want = self.expected.popleft()
        if want == item:
            self.matched += 1
        else:
            self.mismatches += 1
            self._report(f"{self.name}: item {self.matched + self.mismatches}: "
                         f"expected {self._show(want)}, got {self._show(item)}")

    def _show(self, item: Any) -> str:
        if self.layout is None or not isinstance(item, int):
            return repr(item)
        return f"{item:#x} {unpack(self.layout, item)}"

    def _report(self, text: str) -> None:
        if self.mismatches + self.unexpected <= self._max_logged:
            self.log.error(text)

    @property
    def errors(self) -> int:
        return self.mismatches + self.unexpected

    def check_done(self) -> None:
        """Raise if anything mismatched, or expected items never arrived."""
        assert self.errors == 0, f"{self.name}: {self.errors} mismatches ({self.matched} ok)"
        assert not self.expected, f"{self.name}: {len(self.expected)} expected items missing"
