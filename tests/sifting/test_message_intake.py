"""MessageIntake against a Python reference: header words, body count, overflow, CRC verdict,
buffered body words.

Copies of random length (empty bodies, bodies that fill the region exactly, too-long ones) come
with random idle cycles; some carry a bit error, some are not kept. On every copy's CRC word the
outputs are checked against the reference, then the kept region is read back.
"""

import random

import pytest

from models.sifting.messages import crc32_words
from rtl.sifting.message_intake import MessageIntake
from tb import pysim

HEADER, BODY, REGIONS = 3, 8, 4


def _copies(rng: random.Random, n: int) -> list[tuple[list[int], int, bool]]:
    """(words with the CRC word last, region, keep) of ``n`` copies."""
    copies = []
    for k in range(n):
        length = rng.choice([0, 1, 2, HEADER, HEADER + 1, HEADER + BODY, HEADER + BODY + 1,
                             HEADER + BODY + 3, rng.randint(0, HEADER + BODY + 4)])
        words = [rng.getrandbits(32) for _ in range(length)]
        words.append(crc32_words(words))
        if k % 5 == 2:
            words[rng.randrange(len(words))] ^= 1 << rng.randrange(32)
        copies.append((words, rng.randrange(REGIONS), rng.random() < 0.7))
    return copies


def _run(seed: int, idle: float) -> int:
    rng = random.Random(seed)
    copies = _copies(rng, 60)
    dut = MessageIntake(HEADER, BODY, REGIONS)
    checked = 0

    async def bench(ctx) -> None:
        nonlocal checked
        buffer: dict[int, int] = {}
        for words, region, keep in copies:
            ctx.set(dut.region, region)
            ctx.set(dut.keep, keep)
            for i, w in enumerate(words):
                while rng.random() < idle:
                    ctx.set(dut.take, 0)
                    await ctx.tick()
                last = i == len(words) - 1
                ctx.set(dut.take, 1)
                ctx.set(dut.word.data, w)
                ctx.set(dut.word.last, last)
                n_head = min(i, HEADER)
                n_body = max(0, i - HEADER)
                assert ctx.get(dut.index) == n_head
                assert ctx.get(dut.body) == min(n_body, BODY)
                assert ctx.get(dut.in_room) == (n_body < BODY)
                assert ctx.get(dut.overflow) == (n_body > BODY)
                assert [ctx.get(dut.head[j]) for j in range(n_head)] == words[:n_head]
                if last:
                    assert ctx.get(dut.crc_ok) == (w == crc32_words(words[:-1]))
                    checked += 1
                elif i >= HEADER and n_body < BODY and keep:
                    buffer[region * BODY + n_body] = w
                await ctx.tick()
            ctx.set(dut.take, 0)
            await ctx.tick()  # the last body word reaches the buffer
            # Read the region back (the other regions keep what they had).
            ctx.set(dut.ren, 1)
            for j in range(BODY):
                ctx.set(dut.raddr, region * BODY + j)
                await ctx.tick()
                if region * BODY + j in buffer:
                    assert ctx.get(dut.rdata) == buffer[region * BODY + j]
            ctx.set(dut.ren, 0)

    pysim.run(dut, bench)
    return checked


@pytest.mark.parametrize(("seed", "idle"), [(1, 0.0), (2, 0.4)])
def test_copies_are_counted_buffered_and_judged_like_the_reference(seed, idle):
    assert _run(seed, idle) == 60


def test_rejects_a_region_of_one_word():
    with pytest.raises(ValueError, match="body_words"):
        MessageIntake(2, 1, 4)
