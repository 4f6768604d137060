r"""Passive taps of several streams into one capture stream (simulation only).

The e2e top watches streams that run side by side (the raw hits of the five TDC channels, their
calibrated tags) without disturbing them: each tap is a transfer (``valid & ready``) of its
stream, written into a small FIFO of its own; the output serves the FIFOs in turn, one cycle
each (time-division, input ``k`` in every cycle where ``turn == k``). Every beat keeps its
source's order; beats of different inputs interleave by capture time, and the scoreboard
separates them again by their channel field.

Latency: a beat leaves within ``n`` cycles of reaching its FIFO's head. Throughput: each input
may deliver one beat per ``n`` cycles on average, bursts up to ``depth``; a tap beat that finds
its FIFO full is lost and counted in ``overflow`` (evidence for the scoreboard). A TDC channel
delivers at most one detector hit per dead time of 5 cycles and one calibration hit per slot,
so two entries per tap never overflow with 5 taps.
``o`` expects a consumer that is always ready (a capture); ``o.valid`` does not wait for
``o.ready``.
"""

from amaranth.hdl import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.fifo import SyncFIFO
from amaranth.lib.wiring import In, Out


class TapFunnel(wiring.Component):
    """``n`` tapped streams of ``width`` bits into one stream, each in its own turn.

    Members
    -------
    taps : In(stream.Signature(width)).array(n)
        Tap ``k``: ``valid`` high for a transfer of the watched stream (its ``valid & ready``),
        ``payload`` the beat; ``ready`` is not driven back.
    o : Out(stream.Signature(width))
        The beats, each input's in its order.
    overflow : Out(32)
        Tap beats lost to a full FIFO.
    """

    def __init__(self, n: int, width: int, depth: int = 2) -> None:
        self.n, self.width, self.depth = n, width, depth
        super().__init__({
            "taps": In(stream.Signature(width)).array(n),
            "o": Out(stream.Signature(width)),
            "overflow": Out(32),
        })

    def elaborate(self, platform):
        m = Module()
        turn = Signal(range(self.n))
        m.d.sync += turn.eq(turn + 1)
        with m.If(turn == self.n - 1):
            m.d.sync += turn.eq(0)
        lost = Signal()
        for k, tap in enumerate(self.taps):
            m.submodules[f"fifo{k}"] = fifo = SyncFIFO(width=self.width, depth=self.depth)
            m.d.comb += [fifo.w_en.eq(tap.valid), fifo.w_data.eq(tap.payload)]
            with m.If(tap.valid & ~fifo.w_rdy):
                m.d.comb += lost.eq(1)
            with m.If(turn == k):
                m.d.comb += [self.o.valid.eq(fifo.r_rdy), self.o.payload.eq(fifo.r_data),
                             fifo.r_en.eq(self.o.ready)]
        with m.If(lost):
            m.d.sync += self.overflow.eq(self.overflow + 1)
        return m
