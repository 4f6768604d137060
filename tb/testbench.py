"""The base of every cocotb testbench: clock, reset, stream drivers, monitors and scoreboards.

One :class:`TB` per test (the cocotbext-axi pattern) holds what each test used to rebuild: the
fabric clock (cocotb's C clock, or none when the runner made the clock inside the HDL with
``internal_clock_ps``), the synchronous active-high reset, one seeded ``random.Random`` for idle
and backpressure, and the scoreboards, so that :meth:`TB.check_done` can close them all::

    @cocotb.test()
    async def mapper_matches_model(dut):
        tb = TB(dut, seed=p["seed"])
        await tb.reset()
        board = tb.scoreboard("mapper", layout=symbol_beat(lanes))
        board.expect(...)
        tb.monitor("o", stall=0.3, callback=board.actual)
        await tb.driver("i", idle=0.3).send(...)
        await tb.drain(board)
        tb.check_done()

Drivers and monitors wake Python on every clock edge (:mod:`tb.stream`): block-level tests only.
Long runs use RTL-side generators and batch captures (:mod:`rtl.simonly`, :mod:`tb.capture`).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import cocotb
from amaranth.lib import data
from cocotb.clock import Clock
from cocotb.handle import SimHandleBase
from cocotb.triggers import ClockCycles, RisingEdge, Timer
from cocotb.utils import get_sim_time

from models.constants import FABRIC_CLOCK_PS
from tb.params import tb_params
from tb.stream import MAX_STALL_CYCLES, InOrderScoreboard, StreamDriver, StreamMonitor


class TB:
    """Clock, reset, seeded stream endpoints and scoreboards of one cocotb test.

    Parameters
    ----------
    dut:
        The cocotb handle of the top (an Amaranth component: ``clk``, ``rst`` and stream ports
        ``<name>__valid/__ready/__payload``).
    seed:
        Seed of :attr:`rng` (idle and backpressure); default the ``seed`` entry of
        :func:`tb.params.tb_params`, else 0.
    clock_ps:
        Period of the clock the testbench starts on ``dut.clk``; ``None`` when the HDL makes its
        own clock (:func:`tb.runner.run_cocotb`'s ``internal_clock_ps``, the fabric period).
    """

    def __init__(self, dut: SimHandleBase, seed: int | None = None,
                 clock_ps: int | None = FABRIC_CLOCK_PS) -> None:
        self.dut = dut
        self.log = dut._log
        self.params: dict[str, Any] = tb_params()
        self.seed = self.params.get("seed", 0) if seed is None else seed
        self.rng = random.Random(self.seed)
        self.period_ps = FABRIC_CLOCK_PS if clock_ps is None else clock_ps
        self.scoreboards: list[InOrderScoreboard] = []
        if clock_ps is not None:
            cocotb.start_soon(Clock(dut.clk, clock_ps, unit="ps").start())

    @property
    def clk(self) -> SimHandleBase:
        """``dut.clk``, looked up on first use: a top with the clock made inside the HDL and
        VPI access limited to a few signals may not expose it."""
        return self.dut.clk

    async def reset(self, cycles: int = 2) -> None:
        """Hold ``rst`` high for ``cycles`` clock cycles; returns right after a rising edge."""
        self.dut.rst.value = 1
        await ClockCycles(self.clk, cycles)
        self.dut.rst.value = 0
        await RisingEdge(self.clk)

    def driver(self, port: str, idle: float = 0.0,
               max_stall_cycles: int = MAX_STALL_CYCLES) -> StreamDriver:
        """A driver of stream input ``port`` that idles with probability ``idle`` per beat and
        fails when a beat is not accepted within ``max_stall_cycles``."""
        return StreamDriver(self.dut, port, self.rng, idle=idle,
                            max_stall_cycles=max_stall_cycles)

    def monitor(self, port: str, stall: float = 0.0,
                callback: Callable[[int], None] | None = None) -> StreamMonitor:
        """A running monitor of stream output ``port``, not ready with probability ``stall``."""
        monitor = StreamMonitor(self.dut, port, self.rng, stall=stall, callback=callback)
        monitor.task = cocotb.start_soon(monitor.run())
        return monitor

    def scoreboard(self, name: str, layout: data.Layout | None = None) -> InOrderScoreboard:
        """An in-order scoreboard that :meth:`check_done` closes; with ``layout``, mismatching
        payload integers are reported field by field."""
        board = InOrderScoreboard(name, self.log, layout=layout)
        self.scoreboards.append(board)
        return board

    async def drain(self, *boards: InOrderScoreboard, max_cycles: int = 10_000) -> None:
        """Wait until ``boards`` (default: all) expect nothing more, at most ``max_cycles``."""
        boards = boards or tuple(self.scoreboards)
        for _ in range(max_cycles):
            if not any(b.expected for b in boards):
                return
            await RisingEdge(self.clk)

    async def ticks(self, cycles: int) -> None:
        """Let ``cycles`` rising edges pass."""
        await ClockCycles(self.clk, cycles)

    async def wait_cycles(self, cycles: int) -> None:
        """Let ``cycles`` clock periods pass with one timer, without waking on every edge (the
        way of long runs whose clock runs inside the HDL). From time 0 or a falling edge this
        ends on a falling edge: signals are settled and inputs can be written."""
        await Timer(cycles * self.period_ps, unit="ps")

    def cycle(self) -> int:
        """Clock periods since time 0."""
        return int(get_sim_time(unit="ps")) // self.period_ps

    async def until(self, condition: Callable[[], bool], max_cycles: int, what: str) -> None:
        """Wait for the first rising edge after which ``condition()`` holds (checked before the
        first wait too); raise naming ``what`` if it does not within ``max_cycles`` edges."""
        for _ in range(max_cycles):
            if condition():
                return
            await RisingEdge(self.clk)
        if not condition():
            raise AssertionError(f"{what} not done after {max_cycles} cycles")

    def check_done(self) -> None:
        """Raise if any scoreboard mismatched or still expects items."""
        for board in self.scoreboards:
            board.check_done()
