"""One test body on two back ends: Amaranth's simulator and cocotb on the generated Verilog.

A block test that drives streams, sets and reads registers and checks what came out is written
once, as an ``async def body(bench: Bench)``, against the small :class:`Bench` interface (the
pattern of coreblocks' regression tests, ``test/regression/common.py``: one body, one back end
per simulator). :func:`run_pysim` runs it in Amaranth's simulator; :func:`run_cocotb_body` builds
the component to Verilog and runs the same body through cocotb (:mod:`tb.dual_cocotb`, on top of
:class:`tb.testbench.TB`) in Verilator or Icarus. :func:`run_body` picks one by name, so that one
parametrised pytest covers the three::

    async def mapper_body(bench: Bench) -> None:
        p = bench.params
        bench.set("thresholds", pack(MapperConfig, {...}))
        got = await bench.transfer({"i": Send(words, idle=p["idle"])},
                                   {"o": Receive(len(words), stall=p["stall"])})
        bench.compare("mapper", got["o"], want, layout=symbol_beat(p["lanes"]))

    @pytest.mark.parametrize("backend", BACKENDS)
    def test_mapper(backend):
        run_body(backend, SymbolMapper(4), mapper_body, case="mapper_l4", params={...})

Payloads are flat integers on both back ends (build them with :mod:`rtl.common.payload`).
Stream transfers follow ``amaranth/docs/stdlib/stream.rst`` on both: a sender raises ``valid``
without waiting for ``ready`` and holds its payload until the transfer, idle and backpressure
are drawn from :attr:`Bench.rng`; the draws differ between the back ends, the data may not.

Values that :meth:`Bench.get` reads are settled after :meth:`Bench.ticks` (on cocotb they may
be one edge old right after an edge): read registers after a few idle cycles.
"""

from __future__ import annotations

import importlib
import logging
import random
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from amaranth.hdl import ClockDomain, Module, Value
from amaranth.lib import data, wiring
from amaranth.sim import Simulator

from tb import pysim
from tb.pysim import CLOCK_PERIOD
from tb.stream import InOrderScoreboard

BACKENDS = ("pysim", "verilator", "icarus")
"""Back ends of :func:`run_body`: Amaranth's simulator, then the simulators of :mod:`tb.runner`."""

COCOTB_MODULE = "tb.dual_cocotb"


class TransferTimeoutError(AssertionError):
    """A transfer did not finish within its cycle budget."""


@dataclass(frozen=True)
class Send:
    """Payloads to send on a stream input: flat integers, in order.

    ``background``: the transfer does not wait for the last one; whatever is left when the
    transfer ends is not sent (a source that runs on, as a payload feeder)."""

    items: Sequence[int]
    idle: float = 0.0
    background: bool = False


@dataclass(frozen=True)
class Receive:
    """Accept ``count`` beats from a stream output, then ``settle`` more cycles; beats that
    come before the transfer ends are returned too, so that an equality check catches extras.
    The transfer ends ``max(settle)`` cycles after all counts are met."""

    count: int
    stall: float = 0.0
    settle: int = 0


class Bench(ABC):
    """What a test body may do with the design under test, on either back end.

    ``params``: the test's parameters (``run_body``'s ``params``); ``rng``: seeded from
    ``params["seed"]`` (0 without one) for idle and backpressure."""

    def __init__(self, params: Mapping[str, Any]) -> None:
        self.params: dict[str, Any] = dict(params)
        self.rng = random.Random(self.params.get("seed", 0))

    @abstractmethod
    async def reset(self, cycles: int = 2) -> None:
        """Hold the synchronous reset for ``cycles`` cycles; stream inputs idle meanwhile."""

    @abstractmethod
    def set(self, name: str, value: int) -> None:
        """Drive top-level input ``name`` with the flat integer ``value`` (from the next edge)."""

    @abstractmethod
    def get(self, name: str) -> int:
        """Top-level signal ``name`` as a flat unsigned integer."""

    @abstractmethod
    async def ticks(self, cycles: int) -> None:
        """Let ``cycles`` clock cycles pass."""

    @abstractmethod
    async def transfer(self, send: Mapping[str, Send], receive: Mapping[str, Receive],
                       max_cycles: int = 200_000) -> dict[str, list[int]]:
        """Run senders and receivers concurrently until every foreground sender is done and
        every receiver has its count; returns the beats received per port."""

    def compare(self, name: str, got: Sequence[Any], want: Sequence[Any],
                layout: data.Layout | None = None) -> None:
        """Assert ``got == want`` in order; a mismatch is logged (field by field through
        ``layout``) and raised with the counts."""
        board = InOrderScoreboard(name, logging.getLogger(f"tb.dual.{name}"), layout=layout)
        board.expect(want.tolist() if isinstance(want, np.ndarray) else want)
        for item in got:
            board.actual(item)
        board.check_done()


Body = Callable[[Bench], Awaitable[None]]


def _sample_values(sampled: tuple) -> tuple:
    """The sampled values of ``ctx.tick().sample(...)`` without the domain's clock and reset."""
    return sampled[2:]


class PysimBench(Bench):
    """:class:`Bench` in Amaranth's simulator (set up by :func:`run_pysim`)."""

    def __init__(self, dut: wiring.Component, domain: ClockDomain,
                 params: Mapping[str, Any]) -> None:
        super().__init__(params)
        self.dut = dut
        self.domain = domain
        self.ctx: Any = None

    def _signal(self, name: str) -> Value:
        return Value.cast(getattr(self.dut, name))

    async def reset(self, cycles: int = 2) -> None:
        self.ctx.set(self.domain.rst, 1)
        for _ in range(cycles):  # ``repeat`` raises DomainReset while the reset is high
            await self.ctx.tick()
        self.ctx.set(self.domain.rst, 0)
        await self.ctx.tick()

    def set(self, name: str, value: int) -> None:
        self.ctx.set(self._signal(name), value)

    def get(self, name: str) -> int:
        return int(self.ctx.get(self._signal(name)))

    async def ticks(self, cycles: int) -> None:
        await self.ctx.tick().repeat(cycles)

    async def transfer(self, send: Mapping[str, Send], receive: Mapping[str, Receive],
                       max_cycles: int = 200_000) -> dict[str, list[int]]:
        ctx, rng = self.ctx, self.rng
        senders = [(getattr(self.dut, n), s, [0, False]) for n, s in send.items()]  # next, held
        receivers = [(getattr(self.dut, n), r) for n, r in receive.items()]
        got: dict[str, list[int]] = {n: [] for n in receive}
        lists = list(got.values())
        settle: int | None = None  # cycles left once every count is met
        sampled = [p.ready for p, _, _ in senders]
        for port, _ in receivers:
            sampled += [port.valid, Value.cast(port.payload)]
        for _cycle in range(max_cycles):
            for port, s, state in senders:
                if state[0] < len(s.items) and not state[1]:
                    if s.idle and rng.random() < s.idle:
                        ctx.set(port.valid, 0)
                    else:
                        state[1] = True
                        ctx.set(Value.cast(port.payload), int(s.items[state[0]]))
                        ctx.set(port.valid, 1)
            ready = [not (r.stall and rng.random() < r.stall) for _, r in receivers]
            for (port, _), on in zip(receivers, ready, strict=True):
                ctx.set(port.ready, int(on))
            values = _sample_values(await ctx.tick().sample(*sampled))
            for k, (port, _, state) in enumerate(senders):
                if state[1] and values[k]:
                    state[0] += 1
                    state[1] = False
                    ctx.set(port.valid, 0)
            rest = values[len(senders):]
            for k, on in enumerate(ready):
                if on and rest[2 * k]:
                    lists[k].append(int(rest[2 * k + 1]))
            sent = [st[0] for _, _, st in senders]
            if settle is None and _finished(send, receive, sent, lists):
                settle = max((r.settle for r in receive.values()), default=0)
            if settle is not None:
                if not settle:
                    break
                settle -= 1
        else:
            raise TransferTimeoutError(
                transfer_timeout_text(send, receive, sent, lists, max_cycles))
        for port, _, _ in senders:
            ctx.set(port.valid, 0)
        for port, _ in receivers:
            ctx.set(port.ready, 0)
        return got


def _finished(send: Mapping[str, Send], receive: Mapping[str, Receive], sent: Sequence[int],
              got: Sequence[list[int]]) -> bool:
    return (all(s.background or n >= len(s.items)
                for s, n in zip(send.values(), sent, strict=True))
            and all(len(g) >= r.count for g, r in zip(got, receive.values(), strict=True)))


def transfer_timeout_text(send: Mapping[str, Send], receive: Mapping[str, Receive],
                          sent: Sequence[int], got: Sequence[list[int]], max_cycles: int) -> str:
    """What a transfer still waited for when it ran out of cycles."""
    parts = [f"{name} sent {n} of {len(s.items)}"
             for (name, s), n in zip(send.items(), sent, strict=True) if not s.background]
    parts += [f"{name} received {len(g)} of {r.count}"
              for (name, r), g in zip(receive.items(), got, strict=True)]
    return f"transfer not done after {max_cycles} cycles: " + ", ".join(parts)


def run_pysim(dut: wiring.Component, body: Body, params: Mapping[str, Any],
              max_cycles: int = pysim.MAX_CYCLES) -> None:
    """Run ``body`` on ``dut`` in Amaranth's simulator (the fabric clock)."""
    top = Module()
    top.domains.sync = domain = ClockDomain("sync")
    top.submodules.dut = dut
    bench = PysimBench(dut, domain, params)

    async def main(ctx: Any) -> None:
        bench.ctx = ctx
        await body(bench)

    sim = Simulator(top)
    sim.add_clock(CLOCK_PERIOD)
    sim.add_testbench(main)
    pysim.add_watchdog(sim, max_cycles)
    sim.run()


def stream_ports(component: wiring.Component) -> dict[str, list[str]]:
    """Names of the stream inputs and outputs of ``component`` (``{"in": [...], "out": [...]}``):
    the cocotb back end idles them before the body runs."""
    ports: dict[str, list[str]] = {"in": [], "out": []}
    for name, member in component.signature.members.items():
        if member.is_signature and {"valid", "ready", "payload"} <= set(member.signature.members):
            ports["in" if member.flow == wiring.In else "out"].append(name)
    return ports


def body_name(body: Body) -> str:
    """``module:qualname`` of a module-level body, as :func:`resolve_body` takes it."""
    if "<" in body.__qualname__:
        raise ValueError(f"body {body.__qualname__} must be a module-level function to run "
                         "through cocotb")
    return f"{body.__module__}:{body.__qualname__}"


def resolve_body(name: str) -> Body:
    module, _, qualname = name.partition(":")
    return getattr(importlib.import_module(module), qualname)


def run_cocotb_body(component: wiring.Component, body: Body, simulator: str, *, case: str,
                    params: Mapping[str, Any], **options: Any) -> None:
    """Build ``component`` and run ``body`` through cocotb in ``simulator``
    (:func:`tb.runner.run_cocotb`'s ``options``)."""
    from tb.runner import run_cocotb

    params = {**params, "dual_body": body_name(body), "dual_ports": stream_ports(component)}
    run_cocotb(component, COCOTB_MODULE, simulator, case=case, params=params, **options)


def backend_params(slow_cocotb: bool = False) -> list:
    """:data:`BACKENDS` for ``pytest.mark.parametrize``, the cocotb ones marked ``cocotb`` (and
    ``slow`` with ``slow_cocotb``: when another cocotb test covers the block already)."""
    import pytest

    cocotb_marks = (pytest.mark.cocotb, pytest.mark.slow) if slow_cocotb else (pytest.mark.cocotb,)
    return [pytest.param(b, marks=() if b == "pysim" else cocotb_marks) for b in BACKENDS]


def run_body(backend: str, component: wiring.Component, body: Body, *, case: str,
             params: Mapping[str, Any], **options: Any) -> None:
    """Run ``body`` on ``component`` in back end ``backend`` (one of :data:`BACKENDS`)."""
    if backend == "pysim":
        run_pysim(component, body, params)
    elif backend in BACKENDS:
        run_cocotb_body(component, body, backend, case=case, params=params, **options)
    else:
        raise ValueError(f"unknown back end {backend!r}; choose one of {BACKENDS}")
