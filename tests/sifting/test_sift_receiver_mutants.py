"""SiftReceiver on a "frame missing" message, directed: when the frame's records are all through
(the ground's next frame has closed, ``closed >= ack + 2``) and how records that disagree with
the message's frame are counted (``mismatch``, one per record)."""

from amaranth.hdl import Value

from models.sifting.entries import SiftCode
from models.sifting.messages import encode_sift
from rtl.sifting.sift_receiver import SiftReceiver
from tb import pysim
from tb.sifting.stimulus import message_beats, report_values

P = 64


def _records(frame: int, count: int) -> list[int]:
    pulse = [frame * P + 3 * k for k in range(count)]
    return report_values(pulse, 1, 1, 0)


def _run(steps) -> tuple[list[int], list[int], dict[str, list[int]]]:
    """Run ``steps(ctx, dut, probe)`` with ``record`` and ``entry`` always taken; ``probe(name)``
    records the output ``name`` at that moment."""
    dut = SiftReceiver(frame_pulses=P, window=4, slot_words=4)
    records: list[int] = []
    entries: list[int] = []
    probes: dict[str, list[int]] = {}

    async def driver(ctx):
        def probe(name):
            probes.setdefault(name, []).append(ctx.get(getattr(dut, name)))

        await steps(ctx, dut, probe)

    def sink(port, out):
        async def bench(ctx):
            while True:
                out.append(await pysim.stream_get(ctx, port))
        return bench

    pysim.run(dut, driver, background=[sink(dut.record, records), sink(dut.entry, entries)],
              max_cycles=2000)
    return records, entries, probes


async def _send(ctx, dut, words) -> None:
    for beat in message_beats([words]):
        ctx.set(dut.i.valid, 1)
        ctx.set(Value.cast(dut.i.payload), beat)
        await ctx.tick()
    ctx.set(dut.i.valid, 0)


async def _put_slowly(ctx, dut, records, gap: int) -> None:
    for record in records:
        await pysim.stream_put(ctx, dut.record_in, record)
        await ctx.tick().repeat(gap)


def test_missing_frame_waits_for_its_records_until_the_next_frame_closes():
    """Frame 0 missing while only frame 0 has closed: its records arrive with long gaps and
    every one becomes a missing entry; the message ends once frame 1 has closed too."""
    want = _records(0, 3)

    async def steps(ctx, dut, probe):
        ctx.set(dut.closed, 1)
        await _send(ctx, dut, encode_sift(0, None))
        await _put_slowly(ctx, dut, want, gap=30)
        probe("ack")  # frame 1 still open: more records of frame 0 may come
        ctx.set(dut.closed, 2)
        await ctx.tick().repeat(20)
        probe("ack")
        probe("mismatch")

    records, entries, probes = _run(steps)
    assert records == want and entries == [int(SiftCode.MISSING)] * len(want)
    assert probes == {"ack": [0, 1], "mismatch": [0]}


def test_each_record_of_another_frame_under_a_missing_message_is_a_mismatch():
    """After frame 0 (no entries), two records of frame 0 come while frame 1 is reported
    missing: both get missing entries and each counts in ``mismatch``."""
    stale = _records(0, 2)

    async def steps(ctx, dut, probe):
        ctx.set(dut.closed, 3)
        await _send(ctx, dut, encode_sift(0, []))
        await ctx.tick().repeat(10)
        probe("ack")
        # The first record waits in the receiver's input register, the second on record_in,
        # both before the message: with no record pending the message would end at once.
        await pysim.stream_put(ctx, dut.record_in, stale[0])
        ctx.set(dut.record_in.valid, 1)
        ctx.set(Value.cast(dut.record_in.payload), stale[1])
        await _send(ctx, dut, encode_sift(1, None))
        while not (await ctx.tick().sample(dut.record_in.ready))[2]:
            pass
        ctx.set(dut.record_in.valid, 0)
        await ctx.tick().repeat(30)
        probe("ack")
        probe("mismatch")

    records, entries, probes = _run(steps)
    assert records == stale and entries == [int(SiftCode.MISSING)] * 2
    assert probes == {"ack": [1, 2], "mismatch": [2]}
