"""The DRAM-backed RND cache and record store in the Amaranth simulator, on the behavioural port
model (:class:`rtl.simonly.dram_port_model.DramPortModel`) through
:class:`rtl.memory.memories.DramMemories`: the unit-level counterpart of the cocotb runs of
``test_memories.py``, small enough for mutation runs.

A cache of 256 pulses (8 DRAM words) and a store of 16 records share the port model, both
streams busy at once, across refreshes: every answer against :func:`models.rnd_cache.cache_lookup`
and the written symbols, the store's records in order, the counters, a write queue that
overflows when the DRAM cannot keep up, the first answers' latency on an idle DRAM, and the
sizes taken and refused on and beyond each limit.
"""

from collections import Counter, defaultdict
from operator import attrgetter

import pytest
from amaranth.hdl import Value

from models.rnd_cache import CacheStatus, cache_lookup
from rtl.common.payload import pack, unpack
from rtl.memory.dram_cache import PULSES_PER_WORD, DramRndCache, MemoryConfigError
from rtl.memory.dram_store import DramRecordStore
from rtl.memory.layouts import WORD_BITS
from rtl.memory.memories import DramMemories
from rtl.satellite.layouts import CacheAnswer, Symbol
from rtl.simonly.dram_port_model import READ_LATENCY, REFRESH_INTERVAL
from tb.dual import PysimBench, Receive, Send, run_pysim

CAPACITY = 256
STORE_DEPTH = 16
RECORD_BITS = 40


def small_memories(lanes: int = 4, store_depth: int = STORE_DEPTH, capacity: int = CAPACITY,
                   **cache_options: int) -> DramMemories:
    return DramMemories(capacity=capacity, round_trip=capacity // 2, store_width=RECORD_BITS,
                        store_depth=store_depth, frame_records=store_depth // 2,
                        port_model=True, lanes=lanes, **cache_options)


def get_member(bench: PysimBench, member: str) -> int:
    """A member of the design as an integer; ``member`` may be dotted (``answer.valid``)."""
    return int(bench.ctx.get(Value.cast(attrgetter(member)(bench.dut))))


def set_member(bench: PysimBench, member: str, value: int) -> None:
    bench.ctx.set(Value.cast(attrgetter(member)(bench.dut)), value)


async def cycles_until(bench: PysimBench, member: str, limit: int) -> int:
    """Clock edges until ``member`` is high (0 if it is already); fails after ``limit``."""
    for cycle in range(limit):
        if get_member(bench, member):
            return cycle
        await bench.ticks(1)
    raise AssertionError(f"{member} not high within {limit} cycles")


def _beats(symbols: list[int], lanes: int) -> list[int]:
    return [sum(s << (Symbol.size * k) for k, s in enumerate(symbols[i:i + lanes]))
            for i in range(0, len(symbols), lanes)]


def expected_answer(pulse: int, head: int, symbols: bytes | list[int],
                    capacity: int = CAPACITY) -> int:
    """The answer the golden model gives to a lookup of ``pulse`` decided at ``head``."""
    status = int(cache_lookup(pulse, head, capacity))
    symbol = symbols[pulse] if status == CacheStatus.OK else 0
    return pack(CacheAnswer, {"pulse": pulse, "head": head, "status": status,
                              "symbol": unpack(Symbol, symbol)})


def check_answers(answers: list[int], queries: list[int], symbols: list[int]) -> Counter:
    """Every answer as the model says for the head it reports; heads whole words, in order,
    never past the writes. Returns the statuses seen."""
    statuses: Counter = Counter()
    last_head = 0
    assert len(answers) == len(queries)
    for value, pulse in zip(answers, queries, strict=True):
        head = unpack(CacheAnswer, value)["head"]
        assert head % PULSES_PER_WORD == 0 and last_head <= head <= len(symbols), (head, pulse)
        assert value == expected_answer(pulse, head, symbols), (pulse, head)
        last_head = head
        statuses[CacheStatus(unpack(CacheAnswer, value)["status"])] += 1
    return statuses


async def _busy_body(bench: PysimBench) -> None:
    """Cache writes with idle, lookups around the window, answers and records with
    backpressure, the store filled to its depth first; then counters and the drained state."""
    rng, lanes = bench.rng, 4
    await bench.reset()
    # The store alone first: filled to its depth, it refuses the next record.
    records = [rng.getrandbits(RECORD_BITS) for _ in range(3 * STORE_DEPTH + 5)]
    await bench.transfer({"w_stream": Send(records[:STORE_DEPTH])}, {})
    await bench.ticks(80)
    assert get_member(bench, "level") == STORE_DEPTH
    assert get_member(bench, "w_stream.ready") == 0
    symbols = [rng.randrange(16) for _ in range(lanes * 1000)]
    queries = []
    for _ in range(120):
        kind = rng.random()
        if kind < 0.1:
            queries.append(rng.getrandbits(64))
        elif kind < 0.2:
            queries.append(rng.randrange(CAPACITY - 40, CAPACITY + 40))
        else:
            queries.append(rng.randrange(len(symbols) + 64))
    got = await bench.transfer(
        {"write": Send(_beats(symbols, lanes), idle=0.1), "query": Send(queries, idle=0.7),
         "w_stream": Send(records[STORE_DEPTH:], idle=0.3)},
        {"answer": Receive(len(queries), stall=0.3, settle=5),
         "r_stream": Receive(len(records), stall=0.3, settle=5)}, max_cycles=20_000)
    statuses = check_answers(got["answer"], queries, symbols)
    assert all(statuses[s] > 0 for s in CacheStatus), statuses
    assert got["r_stream"] == records
    await bench.ticks(120)  # the write queue drains
    assert get_member(bench, "head") == len(symbols) // PULSES_PER_WORD * PULSES_PER_WORD
    assert get_member(bench, "expired_count") == statuses[CacheStatus.EXPIRED]
    assert get_member(bench, "pending_count") == statuses[CacheStatus.PENDING]
    assert get_member(bench, "write_overflow") == 0
    assert get_member(bench, "level") == 0


def test_cache_and_store_share_the_port_model_across_refreshes():
    run_pysim(small_memories(), _busy_body, {"seed": 3})


async def _overflow_body(bench: PysimBench) -> None:
    """A word per cycle (32 lanes) into a 2-word write queue while the port serves two ports:
    words are lost, each counted once, and the head covers the rest."""
    rng = bench.rng
    await bench.reset()
    words = 300
    symbols = [rng.randrange(16) for _ in range(words * PULSES_PER_WORD)]
    await bench.transfer({"write": Send(_beats(symbols, PULSES_PER_WORD))}, {})
    await bench.ticks(80)
    lost = get_member(bench, "write_overflow")
    assert lost > 0
    assert get_member(bench, "head") // PULSES_PER_WORD + lost == words


def test_full_write_queue_counts_each_lost_word():
    run_pysim(small_memories(lanes=PULSES_PER_WORD, write_depth=2), _overflow_body, {"seed": 4})


async def _latency_body(bench: PysimBench) -> None:
    """On an idle DRAM: a filled cache, then one lookup at a time in the window: each answer
    comes a fixed number of cycles after its query (the port model's read latency plus the
    queues), and EXPIRED / PENDING ones without a DRAM read."""
    rng, lanes = bench.rng, 4
    await bench.reset()
    symbols = [rng.randrange(16) for _ in range(2 * CAPACITY)]
    await bench.transfer({"write": Send(_beats(symbols, lanes))}, {})
    await bench.ticks(40)
    assert get_member(bench, "head") == len(symbols)
    latencies = defaultdict(list)
    for pulse in (len(symbols) - 1, len(symbols) - CAPACITY, len(symbols) - CAPACITY - 1,
                  len(symbols)):
        set_member(bench, "query.payload", pulse)
        set_member(bench, "query.valid", 1)
        set_member(bench, "answer.ready", 1)
        await bench.ticks(1)
        set_member(bench, "query.valid", 0)
        cycle = 1 + await cycles_until(bench, "answer.valid", 4 * READ_LATENCY)
        answer = get_member(bench, "answer.payload")
        assert answer == expected_answer(pulse, len(symbols), symbols)
        latencies[CacheStatus(unpack(CacheAnswer, answer)["status"])].append(cycle)
        await bench.ticks(2)
        set_member(bench, "answer.ready", 0)
    assert set(latencies[CacheStatus.OK]) <= {OK_LATENCY - 1, OK_LATENCY}, latencies
    assert latencies[CacheStatus.EXPIRED] == latencies[CacheStatus.PENDING] == [FAST_LATENCY]


#: Cycles from a lookup's query to its answer on the idle port model: the port model's
#: READ_LATENCY plus the query queue, the decision register, the command register and its
#: slice, the port's turn (one cycle less when the cache's port has it) and the symbol queue;
#: EXPIRED and PENDING through the query queue, the decision register and the tag queue only.
OK_LATENCY = READ_LATENCY + 8
FAST_LATENCY = 5


@pytest.mark.parametrize("seed", [5])
def test_lookup_latency_on_an_idle_dram(seed):
    assert REFRESH_INTERVAL > 4 * 4 * READ_LATENCY + CAPACITY  # no refresh in this window
    run_pysim(small_memories(), _latency_body, {"seed": seed})


def _cache(**kwargs: int) -> DramRndCache:
    return DramRndCache(**({"capacity": 512, "round_trip": 512, "addr_bits": 4} | kwargs))


def _store(**kwargs: int) -> DramRecordStore:
    return DramRecordStore(**({"width": WORD_BITS, "depth": 16, "frame_records": 16,
                               "addr_bits": 4} | kwargs))


@pytest.mark.parametrize(("make", "kwargs", "error"), [
    # on each limit (taken), one beyond it (refused)
    (_cache, {}, None),
    (_cache, {"base": 1}, "16 words from word 1 exceed the DRAM's 16 words"),
    (_cache, {"capacity": 256, "round_trip": 256, "base": 8}, None),
    (_cache, {"round_trip": 513}, "cache life 512 pulses is shorter than the link round trip 513"),
    (_cache, {"capacity": 32, "round_trip": 32}, None),
    (_cache, {"capacity": 16, "round_trip": 16}, "capacity 16 pulses must be a power of two >= 32"),
    (_cache, {"capacity": 384, "round_trip": 384}, "capacity 384 pulses must be a power of two"),
    (_cache, {"lanes": 32}, None),
    (_cache, {"lanes": 1}, None),
    (_cache, {"lanes": 64}, "lanes=64 must be a power of two <= 32"),
    (_cache, {"lanes": 6}, "lanes=6 must be a power of two <= 32"),
    (_store, {}, None),
    (_store, {"base": 1}, "16 records from word 1 exceed the DRAM's 16 words"),
    (_store, {"depth": 15}, "15 records cannot hold one frame period's 16 records"),
    (_store, {"width": WORD_BITS + 1}, "records of 129 bits exceed a 128-bit DRAM word"),
])
def test_sizes_on_and_beyond_each_limit(make, kwargs, error):
    if error is None:
        make(**kwargs)
    else:
        with pytest.raises(MemoryConfigError, match=error):
            make(**kwargs)


async def _one_word_cache_body(bench: PysimBench) -> None:
    """A one-word cache and a full store: the port model holds both (17 words) without one
    overwriting the other."""
    rng = bench.rng
    await bench.reset()
    symbols = [rng.randrange(16) for _ in range(PULSES_PER_WORD)]
    records = [rng.getrandbits(RECORD_BITS) for _ in range(STORE_DEPTH)]
    await bench.transfer({"write": Send(_beats(symbols, 4)), "w_stream": Send(records)}, {})
    await bench.ticks(4 * STORE_DEPTH + 2 * READ_LATENCY)
    queries = list(range(PULSES_PER_WORD))
    got = await bench.transfer({"query": Send(queries)}, {"answer": Receive(len(queries)),
                                                          "r_stream": Receive(STORE_DEPTH)})
    assert got["r_stream"] == records
    assert got["answer"] == [expected_answer(p, PULSES_PER_WORD, symbols, PULSES_PER_WORD)
                             for p in queries]


def test_one_word_cache_and_full_store_share_the_port_model():
    run_pysim(small_memories(capacity=PULSES_PER_WORD), _one_word_cache_body, {"seed": 6})
