"""Helpers for Amaranth-simulator unit tests: seeded stream put/get with idle and backpressure.

Patterned on ``amaranth/docs/stdlib/stream.rst``: the producer never waits for ``ready`` before
raising ``valid``; both sides insert random idle cycles from a seeded ``random.Random``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

from amaranth.hdl import ClockDomain, Module, Value
from amaranth.lib import wiring
from amaranth.sim import Simulator

from models.constants import FABRIC_CLOCK_PS

CLOCK_PERIOD = FABRIC_CLOCK_PS * 1e-12
# Cycle budget of a unit-test run: about eight times the longest run of the suite (the sync
# detector's burst test, 25,765 cycles); a test that needs more says so with ``max_cycles``.
MAX_CYCLES = 200_000


class WaitTimeoutError(AssertionError):
    """A testbench waited longer than its run's cycle budget; the message names what for."""


# What each unfinished testbench waits for, by task: the watchdog's message names it.
_waiting: dict[int, str] = {}


def _what(condition: Any) -> str:
    name = getattr(condition, "name", None)
    return f"{name} high" if name else repr(condition)


async def _wait_for(ctx: Any, condition: Any, *sampled: Any) -> tuple[int, ...]:
    """Wait for a clock edge at which ``condition`` holds; return ``sampled`` at that edge.

    Same as ``ctx.tick().sample(*sampled).until(condition)``, written as a plain loop because
    ``until`` leaves an async generator that raises in its finaliser when a background bench is
    abandoned mid-wait; the exception surfaces later from an unrelated ``ast.parse`` as
    "AST constructor recursion depth mismatch" (CPython 3.11).
    """
    key = id(ctx)
    _waiting[key] = _what(condition)
    while True:
        _clk, _rst, *values, done = await ctx.tick().sample(*sampled, condition)
        if done:
            del _waiting[key]
            return tuple(values)


async def wait_until(ctx: Any, condition: Any, max_cycles: int, what: str) -> None:
    """Wait for the first clock edge at which ``condition`` (a signal or expression) holds,
    checking before the first wait too; raise :class:`WaitTimeoutError` naming ``what`` if it does
    not within ``max_cycles`` edges."""
    for _ in range(max_cycles):
        if ctx.get(condition):
            return
        await ctx.tick()
    if not ctx.get(condition):
        raise WaitTimeoutError(f"{what} not done after {max_cycles} cycles")


def add_watchdog(sim: Simulator, max_cycles: int) -> None:
    """Fail ``sim.run()`` with :class:`WaitTimeoutError` if its testbenches have not all returned
    after ``max_cycles`` cycles, naming the streams they wait on (a hang becomes an error)."""
    _waiting.clear()

    async def watchdog(ctx: Any) -> None:
        # One delay, not ``tick().repeat()``: an abandoned async generator raises later from an
        # unrelated ``ast.parse`` (see _wait_for).
        await ctx.delay(max_cycles * CLOCK_PERIOD)
        waits = "; ".join(sorted(set(_waiting.values()))) or "no stream wait (a testbench loop)"
        raise WaitTimeoutError(f"testbenches still running after {max_cycles} cycles, waiting for: "
                          f"{waits}")

    sim.add_testbench(watchdog, background=True)


async def stream_put(ctx: Any, port: Any, payload: Any) -> None:
    ctx.set(port.valid, 1)
    # Integers are the flattened payload; mappings and sequences go through the layout.
    ctx.set(Value.cast(port.payload) if isinstance(payload, int) else port.payload, payload)
    await _wait_for(ctx, port.ready)
    ctx.set(port.valid, 0)


async def stream_get(ctx: Any, port: Any) -> int:
    """One transfer from ``port``; returns the payload as an integer (flattened bits)."""
    ctx.set(port.ready, 1)
    (payload,) = await _wait_for(ctx, port.valid, Value.cast(port.payload))
    ctx.set(port.ready, 0)
    return payload


def producer(
    port: Any, items: Iterable[Any], rng: random.Random, idle: float = 0.0
) -> Callable[[Any], Coroutine[Any, Any, None]]:
    async def testbench(ctx: Any) -> None:
        for item in items:
            while rng.random() < idle:
                await ctx.tick()
            await stream_put(ctx, port, item)

    return testbench


def consumer(
    port: Any, count: int, sink: list[int], rng: random.Random, stall: float = 0.0
) -> Callable[[Any], Coroutine[Any, Any, None]]:
    async def testbench(ctx: Any) -> None:
        for _ in range(count):
            while rng.random() < stall:
                await ctx.tick()
            sink.append(await stream_get(ctx, port))

    return testbench


def run(
    dut: wiring.Component,
    *testbenches: Callable[[Any], Coroutine[Any, Any, None]],
    background: Iterable[Callable[[Any], Coroutine[Any, Any, None]]] = (),
    deadline_cycles: int | None = None,
    domain: ClockDomain | None = None,
    max_cycles: int = MAX_CYCLES,
) -> None:
    """Simulate ``dut`` until all ``testbenches`` return (``background`` ones may run forever),
    for exactly ``deadline_cycles`` cycles when given.

    Pass ``domain=ClockDomain("sync")`` to drive its ``rst`` from a testbench (reset mid-stream).
    A run that has not finished after ``max_cycles`` cycles fails with :class:`WaitTimeoutError`.
    """
    if domain is not None:
        top = Module()
        top.domains.sync = domain
        top.submodules.dut = dut
        sim = Simulator(top)
    else:
        sim = Simulator(dut)
    sim.add_clock(CLOCK_PERIOD)
    for bench in testbenches:
        sim.add_testbench(bench)
    for bench in background:
        sim.add_testbench(bench, background=True)
    if deadline_cycles is None:
        add_watchdog(sim, max_cycles)
        sim.run()
    else:
        sim.run_until(deadline_cycles * CLOCK_PERIOD)
