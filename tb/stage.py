"""The handshake of a one-register stream stage, checked cycle by cycle in the Amaranth simulator.

A stage that loads its output register whenever it is empty or being read has
``i.ready = ~o.valid | o.ready``: full rate when the consumer keeps up, no beat lost or doubled
when it stalls. Scoreboard tests with random idle and backpressure see only the data, so a
handshake that drops rate (ready low with an empty output) passes them. This check drives the
input's valid and the output's ready from seeded patterns (idle input cycles let the output
register run empty), compares ``i.ready`` with the equation after every edge and counts that
every accepted beat comes out.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from amaranth.hdl import Value
from amaranth.lib import wiring

from tb import pysim


def check_register_stage(dut: wiring.Component, i: Any, o: Any, payload: int | Mapping, *,
                         cycles: int = 300, idle: float = 0.3, stall: float = 0.3, seed: int = 1,
                         inputs: Mapping[Any, int] | None = None) -> int:
    """Run ``dut`` for ``cycles`` with ``i.valid`` low with probability ``idle`` (payload
    ``payload``) and ``o.ready`` low with probability ``stall``; assert
    ``i.ready == ~o.valid | o.ready`` on every cycle and that beats out equal beats in (minus the
    one still held). ``inputs`` sets other ports first. Returns the number of beats accepted."""
    rng = random.Random(seed)
    counts = {"in": 0, "out": 0}

    async def bench(ctx: Any) -> None:
        for port, value in (inputs or {}).items():
            ctx.set(port, value)
        ctx.set(Value.cast(i.payload) if isinstance(payload, int) else i.payload, payload)
        for cycle in range(cycles):
            ctx.set(i.valid, int(rng.random() >= idle))
            ctx.set(o.ready, int(rng.random() >= stall))
            valid, ready, taken = ctx.get(o.valid), ctx.get(o.ready), ctx.get(i.ready)
            assert taken == int((not valid) or ready), (
                f"cycle {cycle}: i.ready={taken} with o.valid={valid}, o.ready={ready}")
            counts["in"] += taken and ctx.get(i.valid)
            counts["out"] += valid and ready
            await ctx.tick()
        held = ctx.get(o.valid)
        assert counts["out"] + held == counts["in"], (
            f"{counts['in']} beats accepted, {counts['out']} delivered, {held} held")

    pysim.run(dut, bench)
    return counts["in"]
