r"""Link PHY transmitter: link messages and sync requests to scrambled 34b/32b line blocks.

Overview
--------
Each block the serialiser takes (``o``) is chosen in this order: a waiting sync request (SYNC,
so its place on the line does not depend on the messages), END after a message's last word,
START in front of a message whose first word waits, the next word of the open message (DATA),
else IDLE: the line never pauses and the link layer may pause inside a message.

Design
------
The output is a register loaded whenever it is empty or taken (``~o.valid | o.ready``), which
is also the cycle a ``msg`` or ``sync`` beat is taken; the scrambler history advances with it.
A message's words are never buffered: START goes out only once the first word is offered, and
each word leaves the cycle it is taken.

Latency, throughput
-------------------
One block per cycle when the serialiser takes one per cycle (the line at 166 Mbaud takes one
per 32 fabric cycles: 156.25 Mbit/s of block bodies, 512 blocks per sync frame). A beat
taken in cycle ``c`` is on ``o`` in cycle ``c + 1``; a sync request waits at most until the
block on ``o`` is taken::

    cycle      0      1      2      3      4      5
    msg        w0     w0     w1*    -                 (* last)
    sync                            k
    o                 START  w0     w1     SYNC k END

Overhead: 2 of 34 bits per block (5.9 %), plus START and END per message.

Members
-------
msg : In(stream.Signature(MessageWord))
    Link words; ``last`` on a message's final word.
sync : In(stream.Signature(SyncWord))
    Sync requests (frame counter ``k mod 2**24``).
o : Out(stream.Signature(Block))
    Scrambled line blocks to the serialiser, bit 0 first.
"""

from amaranth.hdl import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from models.link.line_code import (
    HEADER_CONTROL,
    HEADER_DATA,
    HISTORY_BITS,
    SCRAMBLER_INIT,
    TYPE_BITS,
    Control,
)
from rtl.link.layouts import Block, SyncWord
from rtl.link.scrambler import scramble
from rtl.sifting.crc_append import MessageWord


class PhyTx(wiring.Component):
    """Transmitter of the link PHY (see the module docstring)."""

    msg: In(stream.Signature(MessageWord))
    sync: In(stream.Signature(SyncWord))
    o: Out(stream.Signature(Block))

    def elaborate(self, platform):
        m = Module()
        load = ~self.o.valid | self.o.ready
        in_msg = Signal()  # START sent, END not yet
        end_due = Signal()  # the last word went out, END next
        history = Signal(HISTORY_BITS, init=SCRAMBLER_INIT)
        header = Signal(2, init=HEADER_CONTROL)
        body = Signal(32)

        def control(kind: Control, arg=0):
            m.d.comb += [header.eq(HEADER_CONTROL), body.eq(int(kind) | arg << TYPE_BITS)]

        with m.If(self.sync.valid):
            control(Control.SYNC, self.sync.payload.counter)
            m.d.comb += self.sync.ready.eq(load)
        with m.Elif(end_due):
            control(Control.END)
            with m.If(load):
                m.d.sync += [end_due.eq(0), in_msg.eq(0)]
        with m.Elif(self.msg.valid & ~in_msg):
            control(Control.START)
            with m.If(load):
                m.d.sync += in_msg.eq(1)
        with m.Elif(self.msg.valid):
            m.d.comb += [header.eq(HEADER_DATA), body.eq(self.msg.payload.data),
                         self.msg.ready.eq(load)]
            with m.If(load):
                m.d.sync += end_due.eq(self.msg.payload.last)
        with m.Else():
            control(Control.IDLE)

        scrambled, after = scramble(body, history)
        with m.If(load):
            m.d.sync += [self.o.valid.eq(1), self.o.payload.header.eq(header),
                         self.o.payload.body.eq(scrambled), history.eq(after)]
        return m
