"""rtl.common.forward: every kind of member reaches through the wrapper in the right direction
(a stream both ways, a plain input, a plain output, a member renamed on the outer side)."""

from amaranth.hdl import Module
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out
from amaranth.sim import Simulator

from rtl.common.forward import forward_member


class _Inner(wiring.Component):
    """``o`` = ``i`` + ``add`` (combinational, ready passed back); ``seen`` = ``add`` ^ 0x5."""

    i: In(stream.Signature(8))
    o: Out(stream.Signature(8))
    add: In(8)
    seen: Out(8)

    def elaborate(self, platform: object) -> Module:
        m = Module()
        m.d.comb += [self.o.payload.eq(self.i.payload + self.add), self.o.valid.eq(self.i.valid),
                     self.i.ready.eq(self.o.ready), self.seen.eq(self.add ^ 0x5)]
        return m


class _Outer(wiring.Component):
    """:class:`_Inner` behind :func:`forward_member`, ``seen`` renamed ``echo``."""

    i: In(stream.Signature(8))
    o: Out(stream.Signature(8))
    add: In(8)
    echo: Out(8)

    def elaborate(self, platform: object) -> Module:
        m = Module()
        m.submodules.inner = inner = _Inner()
        for name in ("i", "o", "add"):
            forward_member(m, self, inner, name)
        forward_member(m, self, inner, "seen", "echo")
        return m


def test_streams_inputs_outputs_and_renamed_members_are_forwarded():
    dut = _Outer()
    sim = Simulator(dut)
    got = []

    async def bench(ctx):
        for payload, add, ready in [(3, 4, 1), (200, 10, 0), (0x7F, 0x81, 1)]:
            ctx.set(dut.i.payload, payload)
            ctx.set(dut.i.valid, 1)
            ctx.set(dut.o.ready, ready)
            ctx.set(dut.add, add)
            got.append((ctx.get(dut.o.payload), ctx.get(dut.o.valid), ctx.get(dut.i.ready),
                        ctx.get(dut.echo)))
            ctx.set(dut.i.valid, 0)
            got.append((ctx.get(dut.o.valid),))

    sim.add_testbench(bench)
    sim.run()
    assert got == [(7, 1, 1, 4 ^ 5), (0,), (210, 1, 0, 10 ^ 5), (0,), (0, 1, 1, 0x81 ^ 5), (0,)]

