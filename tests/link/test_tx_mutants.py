"""PhyTx's stream contract while its output register is empty: a sync request offered in the
first cycle is taken in that cycle (ready = output empty or being taken)."""

from amaranth.sim import Simulator

from rtl.link.tx import PhyTx


def test_sync_offered_to_an_empty_output_is_taken_at_once() -> None:
    dut = PhyTx()
    seen = []

    async def bench(ctx):
        ctx.set(dut.o.ready, 1)
        ctx.set(dut.sync.valid, 1)
        ctx.set(dut.sync.payload.counter, 5)
        seen.append((ctx.get(dut.o.valid), ctx.get(dut.sync.ready)))
        await ctx.tick()
        ctx.set(dut.sync.valid, 0)
        seen.append(ctx.get(dut.o.valid))

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert seen == [(0, 1), 1]
