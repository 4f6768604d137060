"""MessageRing against a small Python reference of its ring, read pipeline and CRC trailer.

One testbench plays the user block: it writes messages of random length into the ring while
``room`` allows (with idle cycles), sends each complete message once or twice by steering
``raddr`` two reads ahead and pushing ``ahead`` (with bubbles, and priming the empty pipeline
with ``fetch`` while ``o`` stalls), and takes ``o`` under random backpressure. The reference
predicts ``wp``, ``room`` and the word in ``ahead`` every cycle, and the output: every sent
copy's words followed by :func:`models.sifting.messages.crc32_words` of them.
"""

import random
from collections import deque
from dataclasses import dataclass

import pytest
from amaranth.hdl import Module, Signal
from amaranth.sim import Simulator

from models.sifting.messages import crc32_words
from rtl.sifting.message_ring import MessageRing, below, ring_pointer_bits
from tb import pysim


@dataclass(frozen=True)
class _Token:
    """A ring word on its way through the read pipeline: address, message, place in it."""

    addr: int
    msg: int
    last: bool


@dataclass
class _Case:
    seed: int
    depth: int
    messages: int
    idle: float  # write and read bubbles
    stall: float  # o not ready


CASES = [
    _Case(seed=1, depth=16, messages=40, idle=0.3, stall=0.4),
    _Case(seed=2, depth=8, messages=40, idle=0.0, stall=0.0),  # full speed, ring often full
    _Case(seed=3, depth=32, messages=30, idle=0.6, stall=0.7),
    _Case(seed=4, depth=4, messages=30, idle=0.2, stall=0.2),  # one-word messages only
]


def _run(case: _Case) -> tuple[list[int], list[list[int]], dict[str, list[int]]]:
    """Simulate; returns the ``o`` beats, the expected beats per sent copy, event cycles."""
    rng = random.Random(case.seed)
    ptr_mask = (1 << ring_pointer_bits(case.depth)) - 1
    max_len = max(1, min(6, case.depth - 3))
    msgs = [[rng.getrandbits(32) for _ in range(rng.randint(1, max_len))]
            for _ in range(case.messages)]
    dut = MessageRing(case.depth)
    out: list[int] = []
    sent: list[list[int]] = []
    events: dict[str, list[int]] = {"push": [], "beat": [], "stall": []}

    async def bench(ctx) -> None:
        mem: dict[int, int] = {}
        wp = tail = 0
        room_next = 0  # a register: low in the first cycle
        starts: list[int] = []
        written_at: list[int] = []  # cycle of each message's last write
        to_write = deque((k, w) for k, msg in enumerate(msgs) for w in msg)
        schedule: deque[_Token | None] = deque()
        copies_left = [rng.randint(1, 2) for _ in msgs]
        scheduled = 0  # messages whose copies are all in `schedule`
        pending = [0] * len(msgs)  # tokens not yet pushed, per message
        port = ahead = None
        cycle = 0
        while scheduled < len(msgs) or any(pending) or len(out) < sum(map(len, sent)):
            # Output side: random backpressure; a beat is taken at this cycle's edge.
            ready = rng.random() >= case.stall
            ctx.set(dut.o.ready, ready)
            if ready and ctx.get(dut.o.valid):
                out.append(ctx.get(dut.o.payload.data) | ctx.get(dut.o.payload.last) << 32)
                events["beat"].append(cycle)
            # Write side against the reference pointer and (registered) fill check.
            assert ctx.get(dut.wp) == wp
            room = ctx.get(dut.room)
            assert room == room_next
            write = bool(to_write) and room and rng.random() >= case.idle
            ctx.set(dut.write, write)
            if write:
                k, word = to_write.popleft()
                if len(starts) == k:
                    starts.append(wp)
                ctx.set(dut.wdata, word)
                mem[wp & (case.depth - 1)] = word
                if (wp - starts[k]) & ptr_mask == len(msgs[k]) - 1:
                    written_at.append(cycle)
            # Messages enter the send schedule once their last word is in the block RAM.
            while scheduled < len(written_at) and cycle >= written_at[scheduled] + 2:
                k = scheduled
                for _ in range(copies_left[k]):
                    schedule.extend(_Token((starts[k] + i) & ptr_mask, k, i == len(msgs[k]) - 1)
                                    for i in range(len(msgs[k])))
                    sent.append([*msgs[k], crc32_words(msgs[k])])
                pending[k] = copies_left[k] * len(msgs[k])
                scheduled += 1
            tail = next((starts[k] for k in range(len(starts)) if k >= scheduled or pending[k]),
                        wp)
            ctx.set(dut.tail, tail)
            room_next = int(((wp - tail) & ptr_mask) <= case.depth - 2)
            assert ctx.get(dut.room_next) == room_next
            wp = (wp + write) & ptr_mask
            # Read side: the reference pipeline port -> ahead.
            if ahead is not None:
                assert ctx.get(dut.ahead) == mem[ahead.addr & (case.depth - 1)]
            advance = ctx.get(dut.advance)
            issue = schedule.popleft() if schedule and rng.random() >= case.idle else None
            ctx.set(dut.push, 0)
            ctx.set(dut.fetch, 0)
            if advance:
                if ahead is not None:
                    ctx.set(dut.push, 1)
                    ctx.set(dut.word.data, ctx.get(dut.ahead))
                    ctx.set(dut.word.last, ahead.last)
                    pending[ahead.msg] -= 1
                    events["push"].append(cycle)
                ahead, port = port, issue
            elif port is None and issue is not None and rng.random() < 0.5:
                ctx.set(dut.fetch, 1)
                port = issue
            else:
                if issue is not None:
                    schedule.appendleft(issue)
                issue = None
                events["stall"].append(cycle)
            ctx.set(dut.raddr, issue.addr if issue is not None else rng.getrandbits(8) & ptr_mask)
            await ctx.tick()
            cycle += 1
            assert cycle < 200 * case.messages, "no progress"

    pysim.run(dut, bench)
    return out, sent, events


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"seed{c.seed}-depth{c.depth}")
def test_sends_every_copy_with_its_crc_word(case):
    out, sent, _ = _run(case)
    want = [w | (i == len(copy) - 1) << 32 for copy in sent for i, w in enumerate(copy)]
    assert out == want
    assert len(sent) > case.messages  # some messages went out twice


def test_one_word_per_cycle_plus_the_crc_word_two_cycles_after_the_push():
    out, sent, events = _run(CASES[1])
    assert out and not CASES[1].stall
    # With `o` always ready a word is on `o` two cycles after its push, unless the CRC word of
    # the message before it is still going out (one cycle behind that then); the CRC word
    # follows its message's last word in the next cycle.
    want: list[int] = []
    word = 0
    for copy in sent:
        for _ in copy[:-1]:
            want.append(events["push"][word] + 2 if not want else
                        max(events["push"][word] + 2, want[-1] + 1))
            word += 1
        want.append(want[-1] + 1)
    assert events["beat"] == want
    assert [beat >> 32 for beat in out] == [int(i == len(c) - 1) for c in sent
                                             for i in range(len(c))]


def test_rejects_a_ring_of_one_word():
    with pytest.raises(ValueError, match="depth"):
        MessageRing(1)


def test_below_matches_the_compare_for_every_value():
    m = Module()
    value = Signal(6)
    bounds = (1, 3, 7, 31, 63, 5, 10)  # 2**k - 1 and others
    outs = [Signal(name=f"below_{b}") for b in bounds]
    m.d.comb += [o.eq(below(value, b)) for o, b in zip(outs, bounds, strict=True)]
    sim = Simulator(m)
    seen = []

    async def bench(ctx) -> None:
        for x in range(64):
            ctx.set(value, x)
            seen.append([ctx.get(o) for o in outs])

    sim.add_testbench(bench)
    sim.run()
    assert seen == [[int(x < b) for b in bounds] for x in range(64)]
