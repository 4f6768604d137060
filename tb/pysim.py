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


async def _wait_for(ctx: Any, condition: Any, *sampled: Any) -> tuple[int, ...]:
    """Wait for a clock edge at which ``condition`` holds; return ``sampled`` at that edge.

    Same as ``ctx.tick().sample(*sampled).until(condition)``, written as a plain loop because
    ``until`` leaves an async generator that raises in its finaliser when a background bench is
    abandoned mid-wait; the exception surfaces later from an unrelated ``ast.parse`` as
    "AST constructor recursion depth mismatch" (CPython 3.11).
    """
    while True:
        _clk, _rst, *values, done = await ctx.tick().sample(*sampled, condition)
        if done:
            return tuple(values)


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
) -> None:
    """Simulate ``dut`` until all ``testbenches`` return (``background`` ones may run forever).

    Pass ``domain=ClockDomain("sync")`` to drive its ``rst`` from a testbench (reset mid-stream).
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
        sim.run()
    else:
        sim.run_until(deadline_cycles * CLOCK_PERIOD)
