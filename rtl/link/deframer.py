r"""Deframer of the link PHY receiver: aligned blocks to messages and sync words, in-band.

Overview
--------
Messages are delimited by the line alone (START, data, END; :mod:`models.link.framing`). A
data word is held until the next block of its message says whether it was the last: END
delivers it with ``last``. A message cut on the line (a block with an invalid header, an unknown
control, a lost lock, or a START before its END) delivers its held word with ``last`` and
``abort`` and counts in ``aborted``; a message that had no word yet delivers nothing. Data or
END outside a message (its START was lost, or came before lock) are dropped (``stray``).
IDLE and SYNC change nothing in a message: SYNC puts its counter on ``sync``.

Design
------
The rules and counters are those of :func:`models.link.receiver.receive`. Words go through an
output FIFO of ``depth`` beats, so the consumer may stall. The line cannot wait: a data word
that finds fewer than two free places is dropped and counted (``overrun``), and so is the rest
of its message but its last beat, which keeps the last place and goes out flagged ``abort`` (a
consumer never sees a message with a hole). At the line rate (one block per 32 fabric cycles)
a consumer stalls about ``32 * depth`` cycles before that happens.

Latency, throughput
-------------------
One block per cycle. A block in cycle ``c``: a word it releases is on ``o`` from cycle ``c + 1``
(through the FIFO), a SYNC's counter is on ``sync`` in cycle ``c + 1`` (its timing is the
ground's time reference: the consumer is meant to be always ready). The counters count
registered events, one cycle after the block
(:func:`~rtl.link.aligner.registered_counters`).

Members
-------
i : In(stream.Signature(Block))
    Descrambled blocks of the locked aligner; always ready.
o : Out(stream.Signature(RxWord))
    Message words.
sync : Out(stream.Signature(SyncWord))
    Sync counters, one register: a counter that finds the previous one not yet taken is
    dropped (``sync_dropped``; a consumer that is always ready sees each at a fixed latency).
messages, aborted, stray, bad_controls, overrun, sync_dropped : Out(32)
    Messages delivered whole; messages cut; data / END blocks outside a message; unknown
    control blocks (or with an argument where none belongs); words dropped with the FIFO full;
    sync counters dropped.
"""

from amaranth.hdl import Module, Signal
from amaranth.lib import fifo, stream, wiring
from amaranth.lib.wiring import In, Out

from models.link.line_code import HEADER_CONTROL, HEADER_DATA, TYPE_BITS, Control
from rtl.link.aligner import COUNTER_WIDTH, registered_counters
from rtl.link.layouts import Block, RxWord, SyncWord

DEFRAMER_COUNTERS = ("messages", "aborted", "stray", "bad_controls", "overrun", "sync_dropped")


class Deframer(wiring.Component):
    """Message delimiting and sync words (see the module docstring)."""

    def __init__(self, depth: int = 16) -> None:
        if depth < 2:
            raise ValueError(f"Deframer: depth={depth} must be at least 2")
        self._depth = depth
        super().__init__({
            "i": In(stream.Signature(Block)),
            "o": Out(stream.Signature(RxWord)),
            "sync": Out(stream.Signature(SyncWord)),
            **{name: Out(COUNTER_WIDTH) for name in DEFRAMER_COUNTERS},
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.fifo = buf = fifo.SyncFIFO(width=RxWord.size, depth=self._depth)
        m.d.comb += [self.o.valid.eq(buf.r_rdy), self.o.payload.eq(buf.r_data),
                     buf.r_en.eq(self.o.ready)]

        events = registered_counters(m, self, DEFRAMER_COUNTERS)
        in_msg = Signal()
        held = Signal()
        held_data = Signal(32)
        broken = Signal()  # a word of the open message was dropped on a full FIFO
        word = Signal(RxWord)
        write = Signal()

        header, body = self.i.payload.header, self.i.payload.body
        kind, arg = body[:TYPE_BITS], body[TYPE_BITS:]
        known = ((kind == Control.SYNC)
                 | (((kind == Control.IDLE) | (kind == Control.START) | (kind == Control.END))
                    & (arg == 0)))

        def emit(last: int, abort: int) -> None:
            m.d.comb += [write.eq(1), word.data.eq(held_data), word.last.eq(last),
                         word.abort.eq(abort)]

        def cut() -> None:
            with m.If(in_msg):
                with m.If(held):
                    emit(1, 1)
                m.d.sync += events["aborted"].eq(1)
            m.d.sync += [in_msg.eq(0), held.eq(0)]

        m.d.comb += self.i.ready.eq(1)
        with m.If(self.sync.ready):
            m.d.sync += self.sync.valid.eq(0)
        with m.If(self.i.valid):
            with m.If(header == HEADER_DATA):
                with m.If(in_msg):
                    with m.If(held):
                        emit(0, 0)
                    m.d.sync += [held.eq(1), held_data.eq(body)]
                with m.Else():
                    m.d.sync += events["stray"].eq(1)
            with m.Elif(header != HEADER_CONTROL):
                cut()
            with m.Elif(~known):
                m.d.sync += events["bad_controls"].eq(1)
                cut()
            with m.Elif(kind == Control.SYNC):
                with m.If(self.sync.valid & ~self.sync.ready):
                    m.d.sync += events["sync_dropped"].eq(1)
                with m.Else():
                    m.d.sync += [self.sync.valid.eq(1), self.sync.payload.counter.eq(arg)]
            with m.Elif(kind == Control.START):
                cut()
                m.d.sync += in_msg.eq(1)
            with m.Elif(kind == Control.END):
                with m.If(~in_msg):
                    m.d.sync += events["stray"].eq(1)
                with m.Elif(~held):
                    cut()
                with m.Else():
                    emit(1, 0)
                    m.d.sync += [events["messages"].eq(1), in_msg.eq(0), held.eq(0)]

        # Overrun: data words need two free places, so the last beat always finds one.
        out = Signal(RxWord)
        m.d.comb += [out.data.eq(word.data), out.last.eq(word.last),
                     out.abort.eq(word.abort | (broken & word.last)), buf.w_data.eq(out)]
        with m.If(write & word.last):
            m.d.comb += buf.w_en.eq(buf.w_rdy)
            m.d.sync += broken.eq(0)
            with m.If(~buf.w_rdy):
                m.d.sync += events["overrun"].eq(1)
        with m.Elif(write):
            with m.If(~broken & (buf.level < self._depth - 1)):
                m.d.comb += buf.w_en.eq(1)
            with m.Else():
                m.d.sync += [broken.eq(1), events["overrun"].eq(1)]
        return m
