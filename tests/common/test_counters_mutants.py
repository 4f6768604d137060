"""rtl.common.counters: event counters and sticky flags, cycle by cycle (count, hold, clear,
clear winning over an event in its cycle, the wrap at the counter's width), two of each so that
every pair of a list is handled."""

from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.sim import Simulator

from rtl.common.counters import count_events, latch_events
from tb.pysim import CLOCK_PERIOD


class _Counters(wiring.Component):
    """Two 2-bit counters and two flags on the events ``ev[0]`` and ``ev[1]``."""

    ev: In(2)
    clear: In(1)
    count0: Out(2)
    count1: Out(2)
    flag0: Out(1)
    flag1: Out(1)

    def elaborate(self, platform: object) -> Module:
        m = Module()
        count_events(m, self.clear, [(self.count0, self.ev[0]), (self.count1, self.ev[1])])
        latch_events(m, self.clear, [(self.flag0, self.ev[0]), (self.flag1, self.ev[1])])
        return m


# (ev, clear) per cycle and the (count0, count1, flag0, flag1) seen after that cycle's edge.
_STEPS = [
    ((0b00, 0), (0, 0, 0, 0)),  # idle: nothing moves
    ((0b01, 0), (1, 0, 1, 0)),  # an event on 0 only
    ((0b11, 0), (2, 1, 1, 1)),
    ((0b00, 0), (2, 1, 1, 1)),  # no event: counts hold, flags stay
    ((0b01, 0), (3, 1, 1, 1)),
    ((0b01, 0), (0, 1, 1, 1)),  # 2-bit counter wraps 3 -> 0
    ((0b10, 1), (0, 0, 0, 0)),  # clear wins over an event in its cycle
    ((0b10, 0), (0, 1, 0, 1)),
    ((0b00, 1), (0, 0, 0, 0)),  # clear without events
]


def test_counters_count_hold_wrap_and_clear_wins():
    dut = _Counters()
    sim = Simulator(dut)
    sim.add_clock(CLOCK_PERIOD)
    got = []

    async def bench(ctx):
        for (ev, clear), _ in _STEPS:
            ctx.set(dut.ev, ev)
            ctx.set(dut.clear, clear)
            await ctx.tick()
            got.append((ctx.get(dut.count0), ctx.get(dut.count1), ctx.get(dut.flag0),
                        ctx.get(dut.flag1)))

    sim.add_testbench(bench)
    sim.run()
    assert got == [want for _, want in _STEPS]


def test_signals_start_at_their_init():
    """Counters and flags keep their ``init`` until the first event (nothing drives them
    combinationally)."""
    count, flag = Signal(4, init=5), Signal(init=1)
    m = Module()
    count_events(m, Signal(), [(count, Signal())])
    latch_events(m, Signal(), [(flag, Signal())])
    sim = Simulator(m)
    sim.add_clock(CLOCK_PERIOD)
    got = []

    async def bench(ctx):
        await ctx.tick().repeat(3)
        got.append((ctx.get(count), ctx.get(flag)))

    sim.add_testbench(bench)
    sim.run()
    assert got == [(5, 1)]
