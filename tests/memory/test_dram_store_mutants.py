"""The DRAM record store in the Amaranth simulator on the behavioural port model (through
:class:`rtl.memory.memories.DramMemories`, the cache idle): the first record's latency through an
empty store, the prefetch queue's one record per cycle, ``w_stream.ready`` and ``level`` at the
depth, and records in order through many wraps of the slots with idle and backpressure."""

from rtl.simonly.dram_port_model import READ_LATENCY
from tb.dual import PysimBench, Receive, Send, run_pysim
from tests.memory.test_dram_cache_mutants import (
    RECORD_BITS,
    cycles_until,
    get_member,
    set_member,
    small_memories,
)

#: Cycles from a record's transfer into an empty store to its ``r_stream.valid`` on the idle
#: port model: input queue, write command, the port's turn, read command, READ_LATENCY, output
#: queue.
FIRST_RECORD_LATENCY = READ_LATENCY + 9
#: The store's prefetch queue (DramRecordStore's default).
PREFETCH = 16
#: Twice the prefetch queue: the reads stop at PREFETCH with records still in the DRAM.
DEPTH = 2 * PREFETCH


async def _latency_body(bench: PysimBench) -> None:
    await bench.reset()
    await bench.ticks(5)
    assert get_member(bench, "level") == 0 and get_member(bench, "w_stream.ready") == 1
    set_member(bench, "w_stream.payload", 0x5A5A)
    set_member(bench, "w_stream.valid", 1)
    await bench.ticks(1)
    set_member(bench, "w_stream.valid", 0)
    cycle = 1 + await cycles_until(bench, "r_stream.valid", 4 * READ_LATENCY)
    assert cycle in (FIRST_RECORD_LATENCY - 1, FIRST_RECORD_LATENCY), cycle
    assert get_member(bench, "r_stream.payload") == 0x5A5A and get_member(bench, "level") == 1


def test_first_record_through_an_empty_store():
    run_pysim(small_memories(), _latency_body, {"seed": 1})


async def _depth_body(bench: PysimBench) -> None:
    rng = bench.rng
    await bench.reset()
    records = [rng.getrandbits(RECORD_BITS) for _ in range(DEPTH)]
    await bench.transfer({"w_stream": Send(records)}, {})
    await bench.ticks(DEPTH * 4 + 3 * READ_LATENCY)  # written (a command per 2 cycles), read
    # Full: no more records taken; the prefetch queue holds the oldest ones and no more reads
    # go out (LiteDRAM's read data cannot wait: a read beyond the queue's room would be lost).
    assert get_member(bench, "level") == DEPTH and get_member(bench, "w_stream.ready") == 0
    set_member(bench, "r_stream.ready", 1)
    got = []
    for _ in range(PREFETCH):  # one record per cycle from the prefetch queue
        assert get_member(bench, "r_stream.valid") == 1
        got.append(get_member(bench, "r_stream.payload"))
        await bench.ticks(1)
    set_member(bench, "r_stream.ready", 0)
    assert got == records[:PREFETCH]
    await bench.ticks(2)
    assert get_member(bench, "level") == DEPTH - PREFETCH
    assert get_member(bench, "w_stream.ready") == 1
    # Many wraps of the slots, records in order.
    more = [rng.getrandbits(RECORD_BITS) for _ in range(5 * DEPTH + 3)]
    out = await bench.transfer({"w_stream": Send(more, idle=0.2)},
                               {"r_stream": Receive(len(more) + DEPTH - PREFETCH,
                                                    stall=0.4, settle=20)}, max_cycles=20_000)
    assert out["r_stream"] == records[PREFETCH:] + more
    assert get_member(bench, "level") == 0


def test_store_full_at_its_depth_prefetch_and_order():
    run_pysim(small_memories(store_depth=DEPTH), _depth_body, {"seed": 2})
