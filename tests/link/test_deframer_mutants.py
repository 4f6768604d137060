"""rtl.link.deframer: a SYNC's counter waits on ``sync`` for a consumer that is not ready, a
second SYNC meanwhile is dropped and counted, and a SYNC in the cycle the waiting one is taken
replaces it without a drop."""

from amaranth.hdl import Value
from amaranth.sim import Simulator

from models.link.line_code import HEADER_CONTROL, Control, control_body
from rtl.common.payload import pack
from rtl.link.deframer import Deframer
from rtl.link.layouts import Block
from tb.pysim import CLOCK_PERIOD


def _sync(counter: int) -> int:
    return pack(Block, {"header": HEADER_CONTROL, "body": control_body(Control.SYNC, counter)})


def test_sync_waits_for_ready_and_a_second_one_is_dropped():
    dut = Deframer()
    sim = Simulator(dut)
    sim.add_clock(CLOCK_PERIOD)
    seen = []

    async def bench(ctx):
        async def step(block: int | None, ready: int) -> None:
            ctx.set(dut.i.valid, block is not None)
            ctx.set(Value.cast(dut.i.payload), block or 0)
            ctx.set(dut.sync.ready, ready)
            await ctx.tick()
            seen.append((ctx.get(dut.sync.valid), ctx.get(dut.sync.payload.counter),
                         ctx.get(dut.sync_dropped)))

        await step(_sync(0x111), 0)  # nothing waits: taken although ready is low
        await step(None, 0)
        await step(_sync(0x222), 0)  # one waits, not taken: dropped
        await step(None, 1)  # the waiting one is taken at this edge
        await step(_sync(0x333), 0)
        await step(_sync(0x444), 1)  # 0x333 taken at this edge, 0x444 replaces it
        await step(None, 1)

    sim.add_testbench(bench)
    sim.run()
    # sync_dropped counts its registered event: one cycle after the dropped block's edge
    assert seen == [(1, 0x111, 0), (1, 0x111, 0), (1, 0x111, 0), (0, 0x111, 1),
                    (1, 0x333, 1), (1, 0x444, 1), (0, 0x444, 1)]
