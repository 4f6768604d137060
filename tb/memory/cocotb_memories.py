"""cocotb tests of :class:`rtl.memory.memories.DramMemories` on LiteDRAM and its DRAM model.

``cache_matches_model``: the transmitter's beats every cycle (with idle), lookups of random
pulses (in the window, late, expired, around the window's edges, never written) with idle, the
answers with backpressure; every answer against :func:`models.rnd_cache.cache_lookup` and the
written symbols, lookups in flight across a refresh counted and required. ``cache_answer_rate``:
lookups offered every cycle, answers always taken: the sustained rate and the worst latency.
``cache_flight_load``: the cache written at the transmitter's rate in controller cycles
(``flight_write_rate`` pulses per cycle: 625 M pulses/s at 100 MHz is 6.25, which takes
``lanes=8``) while lookups in the window come at the most the classical link can deliver
(``flight_lookup_rate``: one 32-bit report per link word, 4.9 M/s, 0.049 per cycle): no word
may be lost, every answer as the model says. ``store_fifo``: records through the DRAM store
with idle and backpressure, filled to its depth (``w_stream.ready`` drops), drained, in order;
records in the store across a refresh counted and required.
Figures go to ``memory_figures.json`` in the build directory (:mod:`sim.bench_memory` reads them).
"""

from __future__ import annotations

import json
import random
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import cocotb
from cocotb.triggers import ReadOnly, RisingEdge

from models.rnd_cache import CacheStatus, cache_lookup
from rtl.common.payload import pack, unpack
from rtl.satellite.layouts import CacheAnswer, Symbol
from tb.testbench import TB

FIGURES = "memory_figures.json"
PULSES_PER_WORD = 32


def _record_figures(updates: dict) -> None:
    path = Path(FIGURES)
    figures = json.loads(path.read_text()) if path.exists() else {}
    figures.update(updates)
    path.write_text(json.dumps(figures, indent=1, sort_keys=True))


@dataclass
class _Lookups:
    """Lookups in flight: pulse and accept cycle, in order."""

    pending: deque = field(default_factory=deque)
    latencies: list = field(default_factory=list)
    refresh_latencies: list = field(default_factory=list)
    statuses: dict = field(default_factory=dict)


def _pick_pulse(rng: random.Random, written: int, capacity: int) -> int:
    """A lookup: in the window, late (around the head), expired, at the window's floor, or a
    pulse never written."""
    kind = rng.random()
    if kind < 0.45:
        return max(0, written - rng.randrange(PULSES_PER_WORD, capacity))
    if kind < 0.6:
        return max(0, written + rng.randrange(-3 * PULSES_PER_WORD, 100))
    if kind < 0.75:
        return max(0, written - capacity - rng.randrange(0, 3 * capacity))
    if kind < 0.9:
        return max(0, written - capacity + rng.randrange(-60, 60))
    return rng.getrandbits(64)


async def _run_cache(tb: TB, cycles: int, *, write_idle: float, query_idle: float,
                     stall: float, capacity: int, pulses=None) -> tuple[_Lookups, int, int]:
    """Drive writes and lookups for ``cycles`` cycles, then drain; check every answer.
    Return the lookups' record, the answers and the cycles with a refresh."""
    dut, rng = tb.dut, tb.rng
    lanes = len(dut.write__payload) // Symbol.size
    symbols = bytearray()
    look = _Lookups()
    board = tb.scoreboard("answer", layout=CacheAnswer)
    refresh_cycles, answers, cycle, query_pulse = 0, 0, 0, None
    last_refresh = -1
    while cycle < cycles or look.pending:
        await RisingEdge(tb.clk)
        cycle += 1
        beat = None
        if cycle < cycles and rng.random() >= write_idle:
            beat = [rng.randrange(16) for _ in range(lanes)]
            dut.write__payload.value = sum(s << (Symbol.size * k) for k, s in enumerate(beat))
        dut.write__valid.value = beat is not None
        if query_pulse is None and cycle < cycles and rng.random() >= query_idle:
            query_pulse = (pulses(rng, len(symbols)) if pulses
                           else _pick_pulse(rng, len(symbols), capacity))
        dut.query__valid.value = query_pulse is not None
        dut.query__payload.value = query_pulse or 0
        dut.answer__ready.value = not (stall and rng.random() < stall)
        await ReadOnly()
        if beat is not None:
            symbols.extend(beat)
        if int(dut.refresh.value):
            refresh_cycles += 1
            last_refresh = cycle
        if query_pulse is not None and int(dut.query__ready.value):
            look.pending.append((query_pulse, cycle))
            query_pulse = None
        if int(dut.answer__valid.value) and int(dut.answer__ready.value):
            value = int(dut.answer__payload.value)
            got = unpack(CacheAnswer, value)
            pulse, since = look.pending.popleft()
            head = got["head"]
            status = int(cache_lookup(pulse, head, capacity))
            symbol = symbols[pulse] if status == CacheStatus.OK else 0
            board.expect([pack(CacheAnswer, {
                "pulse": pulse, "head": head, "status": status,
                "symbol": unpack(Symbol, symbol)})])
            board.actual(value)
            # The head is what the DRAM holds: whole words, never ahead of the writes, behind
            # them by the word register and the write queue at most.
            assert head % PULSES_PER_WORD == 0 and head <= len(symbols), (head, len(symbols))
            latency = cycle - since
            look.latencies.append(latency)
            if last_refresh >= since:
                look.refresh_latencies.append(latency)
            look.statuses[status] = look.statuses.get(status, 0) + 1
            answers += 1
        if cycle > cycles + 10_000:
            raise AssertionError(f"{len(look.pending)} lookups unanswered")
    await RisingEdge(tb.clk)
    dut.write__valid.value = 0
    dut.query__valid.value = 0
    assert int(dut.write_overflow.value) == 0, "write queue overflowed"
    assert int(dut.head.value) >= len(symbols) - 20 * PULSES_PER_WORD
    return look, answers, refresh_cycles


def _start(dut) -> TB:
    tb = TB(dut)
    for name in ("write__valid", "query__valid", "answer__ready", "w_stream__valid",
                 "r_stream__ready"):
        getattr(dut, name).value = 0
    return tb


@cocotb.test()
async def cache_matches_model(dut):
    tb = _start(dut)
    p = tb.params
    await tb.reset()
    look, answers, refresh = await _run_cache(
        tb, p["cycles"], write_idle=0.1, query_idle=0.9, stall=0.3, capacity=p["capacity"])
    tb.check_done()
    for status in CacheStatus:
        assert look.statuses.get(status, 0) > 0, f"no {status.name} answer in {answers}"
    assert refresh > 0 and look.refresh_latencies, "no lookup in flight across a refresh"
    tb.log.info(f"{answers} answers {look.statuses}, {len(look.refresh_latencies)} across a "
                f"refresh, latency max {max(look.latencies)}")
    _record_figures({"model_answers": answers,
                     "model_refresh_lookups": len(look.refresh_latencies),
                     "model_latency_max": max(look.latencies)})


@cocotb.test()
async def cache_answer_rate(dut):
    """Lookups in the window offered every cycle, answers always taken."""
    tb = _start(dut)
    p = tb.params
    await tb.reset()
    capacity = p["capacity"]
    # Fill the cache first, so every lookup reads the DRAM.
    fill = capacity // (len(dut.write__payload) // Symbol.size) + 64

    def in_window(rng: random.Random, written: int) -> int:
        return written - rng.randrange(2 * PULSES_PER_WORD, capacity - 2 * PULSES_PER_WORD) \
            if written > capacity else None

    look, _, refresh = await _run_cache(
        tb, fill + p["rate_cycles"], write_idle=0.0, query_idle=0.0, stall=0.0,
        capacity=capacity, pulses=in_window)
    tb.check_done()
    ok = look.statuses.get(CacheStatus.OK, 0)
    rate = ok / p["rate_cycles"]
    tb.log.info(f"{ok} OK lookups in {p['rate_cycles']} cycles: {rate:.3f} per cycle, latency "
                f"max {max(look.latencies)}, across a refresh max "
                f"{max(look.refresh_latencies, default=0)}")
    assert ok > 0 and look.refresh_latencies
    _record_figures({
        "lookups_per_cycle": rate,
        "latency_min": min(look.latencies),
        "latency_max": max(look.latencies),
        "latency_refresh_max": max(look.refresh_latencies),
        "rate_refresh_cycles": refresh,
    })


@cocotb.test()
async def cache_flight_load(dut):
    tb = _start(dut)
    p = tb.params
    await tb.reset()
    capacity, lanes = p["capacity"], len(dut.write__payload) // Symbol.size
    write_idle = max(0.0, 1 - p["flight_write_rate"] / lanes)

    def in_window(rng: random.Random, written: int) -> int:
        return written - rng.randrange(2 * PULSES_PER_WORD, capacity - 2 * PULSES_PER_WORD) \
            if written > capacity else None

    look, answers, refresh = await _run_cache(
        tb, p["flight_cycles"], write_idle=write_idle, query_idle=1 - p["flight_lookup_rate"],
        stall=0.0, capacity=capacity, pulses=in_window)
    tb.check_done()
    written = int(dut.head.value)
    tb.log.info(f"flight load: {lanes} lanes, {written / p['flight_cycles']:.2f} pulses per cycle "
                f"written, {answers} lookups, latency max {max(look.latencies)}, {refresh} "
                "refresh cycles")
    assert look.statuses.get(CacheStatus.OK, 0) > 0 and refresh > 0
    _record_figures({"flight_lanes": lanes, "flight_pulses_per_cycle":
                     written / p["flight_cycles"], "flight_lookups": answers,
                     "flight_latency_max": max(look.latencies)})


@cocotb.test()
async def store_fifo(dut):
    """Records in with idle, out with backpressure, a phase with reads held until the store
    is full, in order; first-record latency and sustained rate."""
    tb = _start(dut)
    p = tb.params
    depth, width = p["store_depth"], len(dut.w_stream__payload)
    await tb.reset()
    board = tb.scoreboard("store")
    records = [tb.rng.getrandbits(width) for _ in range(p["store_records"])]
    board.expect(records)
    sent, cycle, full_seen, first, peak = 0, 0, False, None, 0
    hold = range(len(records) // 3, len(records) // 3 + 3 * depth)  # reads held: fills up
    busy_from, last_refresh = None, -1
    accepted = deque()  # accept cycle of each record in the store, in order
    across_refresh = []  # in-to-out cycles of the records that were stored across a refresh
    while board.expected:
        await RisingEdge(tb.clk)
        cycle += 1
        offer = sent < len(records) and tb.rng.random() >= 0.2
        dut.w_stream__valid.value = offer
        dut.w_stream__payload.value = records[sent] if offer else 0
        reading = cycle not in hold and tb.rng.random() >= 0.3
        dut.r_stream__ready.value = reading
        await ReadOnly()
        if int(dut.refresh.value):
            last_refresh = cycle
        if offer and int(dut.w_stream__ready.value):
            sent += 1
            busy_from = busy_from or cycle
            accepted.append(cycle)
        level = int(dut.level.value)
        peak = max(peak, level)
        full_seen = full_seen or (level == depth and not int(dut.w_stream__ready.value))
        if reading and int(dut.r_stream__valid.value):
            first = first or cycle - busy_from
            board.actual(int(dut.r_stream__payload.value))
            since = accepted.popleft()
            if last_refresh >= since:
                across_refresh.append(cycle - since)
        if cycle > 50 * len(records):
            break
    await RisingEdge(tb.clk)
    await ReadOnly()
    tb.log.info(f"store: {len(records)} records in {cycle} cycles, peak level {peak}, "
                f"{len(across_refresh)} stored across a refresh")
    tb.check_done()
    assert full_seen, f"the store never filled (peak level {peak} of {depth})"
    assert across_refresh, "no record in the store across a refresh"
    assert int(dut.level.value) == 0
    _record_figures({"store_first_latency": first, "store_cycles_per_record":
                     cycle / len(records), "store_refresh_records": len(across_refresh)})


async def _write_pulses(tb: TB, count: int, symbols: bytearray) -> None:
    """Write ``count`` pulses (whole beats, one per cycle) of random symbols; append them to
    ``symbols``."""
    dut = tb.dut
    lanes = len(dut.write__payload) // Symbol.size
    for _ in range(count // lanes):
        await RisingEdge(tb.clk)
        beat = [tb.rng.randrange(16) for _ in range(lanes)]
        dut.write__payload.value = sum(s << (Symbol.size * k) for k, s in enumerate(beat))
        dut.write__valid.value = 1
        symbols.extend(beat)
    await RisingEdge(tb.clk)
    dut.write__valid.value = 0


async def _lookup(tb: TB, pulse: int) -> dict:
    """One lookup alone in the cache: offer it until taken, return its answer."""
    dut = tb.dut
    taken = False
    for _ in range(3_000):
        await RisingEdge(tb.clk)
        dut.query__valid.value = not taken
        dut.query__payload.value = pulse
        dut.answer__ready.value = 1
        await ReadOnly()
        taken = taken or bool(int(dut.query__ready.value))
        if int(dut.answer__valid.value):
            answer = unpack(CacheAnswer, int(dut.answer__payload.value))
            await RisingEdge(tb.clk)  # the answer is taken on this edge
            dut.answer__ready.value = 0
            return answer
    raise AssertionError(f"no answer for pulse {pulse} (query taken: {taken})")


async def _wait_head(tb: TB, head: int) -> None:
    for _ in range(3_000):
        await RisingEdge(tb.clk)
        await ReadOnly()
        if int(tb.dut.head.value) == head:
            return
    raise AssertionError(f"head {int(tb.dut.head.value)} never reached {head}")


@cocotb.test()
async def cache_window_edges(dut):
    """Lookups exactly at the cache life (``capacity`` pulses old), one pulse younger and one
    older, at the newest pulse in the DRAM, at the head and one beyond it, and of a pulse
    written but still in the word register (PENDING: it is not in the DRAM yet). Each status is
    stated; :func:`models.rnd_cache.cache_lookup` must give it too; the answer carries the head
    the DRAM holds and, when OK, the written symbol."""
    tb = _start(dut)
    capacity = tb.params["capacity"]
    await tb.reset()
    symbols = bytearray()
    await _write_pulses(tb, capacity + 4 * PULSES_PER_WORD, symbols)  # whole words
    head = len(symbols)
    await _wait_head(tb, head)
    await _write_pulses(tb, PULSES_PER_WORD // 2, symbols)  # half a word: in the word register
    ok, expired, pending = CacheStatus.OK, CacheStatus.EXPIRED, CacheStatus.PENDING
    cases = [(head - capacity - 1, expired), (head - capacity, ok), (head - capacity + 1, ok),
             (head - 1, ok), (head, pending), (head + 1, pending), (len(symbols) - 1, pending)]
    for pulse, want in cases:
        assert cache_lookup(pulse, head, capacity) == want, f"model: pulse {pulse}"
        got = await _lookup(tb, pulse)
        symbol = unpack(Symbol, symbols[pulse] if want == ok else 0)
        assert got == {"pulse": pulse, "head": head, "status": int(want), "symbol": symbol}, (
            f"pulse {pulse} (head {head}): {got}, want {want.name}")
    await tb.ticks(4)
    await ReadOnly()
    counts = (int(dut.expired_count.value), int(dut.pending_count.value))
    assert counts == (1, 3), f"expired, pending counted {counts}"
