"""Stream helpers: the output-register idiom every block with a registered ``valid``/``payload``
uses, and a register slice that cuts every combinational path through a stream connection."""

from typing import Any

from amaranth.hdl import Module, Shape, ShapeLike, Signal, Value
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out


def output_register(m: Module, port: Any) -> Value:
    """Let ``port.valid`` (a register) fall when its beat is taken; returns ``~valid | ready``.

    The returned value is high when the output register may be loaded this cycle (empty, or
    its beat is being taken). Statements that load it must come after this call, so that a load
    wins over the clear in the same cycle.
    """
    with m.If(port.valid & port.ready):
        m.d.sync += port.valid.eq(0)
    return ~port.valid | port.ready


class RegisterSlice(wiring.Component):
    """Two-entry skid buffer between two streams of ``shape``: ``i.ready`` is a flip-flop and
    ``o.valid``/``o.payload`` are flip-flops, so no combinational path runs from ``i`` to ``o``
    or from ``o.ready`` back to ``i.ready``; a long ready chain (a FIFO's level behind a merge
    behind a consumer's state) is cut in two.

    Latency 1 cycle (a beat taken at cycle ``c`` is offered from ``c + 1``), throughput one beat
    per cycle. Stream contract: ``amaranth.lib.stream`` on both sides; beats leave in the order
    they came, none lost or repeated; ``o.valid`` stays high and ``o.payload`` unchanged until
    the beat is taken. When ``o.ready`` falls with ``o`` full, the beat ``i`` delivers in that
    cycle goes to the skid entry and ``i.ready`` falls one cycle later; the skid drains first.

    ::

        cycle     0   1   2   3   4   5
        i.valid   1   1   1   1   0   0
        i.payload A   B   C   C
        i.ready   1   1   0   1   1   1      (register: low while the skid holds a beat)
        o.ready   1   0   1   1   1   1
        o.valid   0   1   1   1   1   0
        o.payload     A   A   B   C          (B waits in the skid in cycle 2)

    Members
    -------
    i : In(stream.Signature(shape))
    o : Out(stream.Signature(shape))
    """

    def __init__(self, shape: ShapeLike) -> None:
        self._shape = shape
        super().__init__({"i": In(stream.Signature(shape)), "o": Out(stream.Signature(shape))})

    def elaborate(self, platform):
        m = Module()
        empty = Signal(init=1)  # the skid entry is free; drives i.ready
        skid = Signal(Shape.cast(self._shape).width)
        m.d.comb += self.i.ready.eq(empty)
        with m.If(~self.o.valid | self.o.ready):
            with m.If(empty):
                m.d.sync += [self.o.valid.eq(self.i.valid), self.o.payload.eq(self.i.payload)]
            with m.Else():
                m.d.sync += [self.o.valid.eq(1), self.o.payload.eq(skid), empty.eq(1)]
        with m.Elif(self.i.valid & empty):
            m.d.sync += empty.eq(0)
        # The skid entry follows the input while it is free, so its enable is a flop and
        # ``o.ready`` (the consumer's state) reaches only ``empty`` and ``o``.
        with m.If(empty):
            m.d.sync += skid.eq(self.i.payload)
        return m
