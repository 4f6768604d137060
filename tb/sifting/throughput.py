"""Cycle-level throughput of the sifting RTL in the Amaranth simulator (tests and bench).

Back-to-back input (no idle), outputs always ready: the cycles from the first input beat to the
last output beat give detections per cycle, i.e. detections/s at the 156.25 MHz fabric clock.
"""

from dataclasses import dataclass

import numpy as np
from amaranth.hdl import Value
from amaranth.lib import wiring

from models.constants import FABRIC_CLOCK_HZ, SAMPLE_SEED
from models.sifting.entries import make_reports
from rtl.common.payload import pack_array
from rtl.sifting.ground_report import GroundReport
from rtl.sifting.ground_sift import GroundSift
from rtl.sifting.layouts import SiftEntry
from rtl.sifting.satellite_sift import SatelliteSiftUnit
from tb import pysim
from tb.sifting.stimulus import record_values, report_values, symbol_codes, write_beats


@dataclass(frozen=True)
class Throughput:
    items: int
    cycles: int
    overflow: int = 0

    @property
    def per_cycle(self) -> float:
        return self.items / self.cycles

    @property
    def per_s(self) -> float:
        return self.per_cycle * FABRIC_CLOCK_HZ


def _measure(dut: wiring.Component, inputs: dict[str, list[int]], output: str, expected: int,
             setup: list | None = None, overflow: str | None = None,
             always_ready: tuple[str, ...] = ()) -> Throughput:
    """Stream ``inputs`` (port -> payloads) back to back; count cycles to ``expected`` outputs."""
    state = {"start": None, "end": None, "overflow": 0}
    cycle = {"now": 0}

    async def clock(ctx):
        for port in always_ready:
            ctx.set(getattr(dut, port).ready, 1)
        while True:
            await ctx.tick()
            cycle["now"] += 1

    def feeder(port, items):
        async def bench(ctx):
            for item in setup or []:
                await pysim.stream_put(ctx, getattr(dut, item[0]), item[1])
            if state["start"] is None:
                state["start"] = cycle["now"]
            for item in items:
                await pysim.stream_put(ctx, getattr(dut, port), item)
        return bench

    async def sink(ctx):
        port = getattr(dut, output)
        for _ in range(expected):
            await pysim.stream_get(ctx, port)
            ctx.set(port.ready, 1)
        state["end"] = cycle["now"]
        if overflow is not None:
            state["overflow"] = ctx.get(Value.cast(getattr(dut, overflow)))

    benches = [feeder(port, items) for port, items in inputs.items()]
    pysim.run(dut, *benches, sink, background=[clock])
    return Throughput(expected, state["end"] - state["start"], state["overflow"])


def ground_report_throughput(count: int, seed: int = 1) -> Throughput:
    rng = np.random.default_rng(seed)
    pulse = np.sort(rng.choice(1 << 40, count, replace=False)).astype(np.uint64)
    basis, bit = rng.integers(2, size=(count, 2)).T
    records = record_values(pulse, basis, bit)
    return _measure(GroundReport(), {"det": records}, "report", count, overflow="overflow")


def ground_sift_throughput(count: int, seed: int = 2) -> Throughput:
    rng = np.random.default_rng(seed)
    basis, bit = rng.integers(2, size=(count, 2)).T
    records = report_values(np.arange(count), basis, 0, bit)
    # All matched: every detection is key.
    entries = pack_array(SiftEntry, {"intensity": rng.integers(3, size=count), "match": 1,
                                     "missing": 0}).tolist()
    return _measure(GroundSift(), {"record": records, "entry": entries}, "key", count)


def satellite_sift_throughput(count: int, seed: int = 3) -> Throughput:
    lanes, rows = 4, 512
    codes = symbol_codes(seed, lanes * rows)
    writes = [("write", row) for row in write_beats(codes, lanes)]
    pulse = np.sort(np.random.default_rng(seed).choice(lanes * rows, count, replace=False))
    rep = make_reports(pulse, np.zeros(count), np.zeros(count), SAMPLE_SEED)
    reports = report_values(rep.pulse, 0, rep.sampled, 0)
    return _measure(SatelliteSiftUnit(lanes, rows), {"report": reports}, "entry", count,
                    setup=writes, always_ready=("key",))
