r"""CRC-32 of the sifting link messages (``models.sifting.messages``), one word per cycle.

Overview
--------
:class:`CrcAppender` (sender) passes the words of each message (``last`` on its final word)
and appends the CRC-32/BZIP2 word after it (with ``last``): the trailer of every uplink report
frame and downlink sift message.
The running CRC is updated per 32-bit word with :func:`rtl.common.crc.crc_msb_first`: for an
MSB-first CRC as wide as the word, feeding a word into register ``s`` equals feeding
``word ^ s`` into a zeroed register, so the update is ``s' = crc(word ^ s)``, one XOR network.
:class:`CrcChecker` (receiver) takes whole messages, trailer included, and answers one status
beat per message (``ok``: the trailer matched; ``words``: the message length without trailer).

Latency, throughput
-------------------
One cycle; one word per cycle, plus one cycle per message for the trailer (``i.ready`` is low
while the trailer is offered)::

    clk      _/‾\_/‾\_/‾\_/‾\_/‾\_
    i          w0  w1* ..            (* last)
    o              w0  w1  crc*
"""

from amaranth.hdl import Module, Signal, Value
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from models.sifting.messages import CRC_INIT, CRC_POLY, CRC_XOROUT
from rtl.common.crc import crc_msb_first
from rtl.common.streams import output_register

MessageWord = data.StructLayout({"data": 32, "last": 1})
MessageStatus = data.StructLayout({"ok": 1, "words": 24})


def crc_update(word: Value, state: Value) -> Value:
    """The CRC register after one more 32-bit word."""
    return crc_msb_first(word ^ state, poly=CRC_POLY, width=32, init=0)


class CrcAppender(wiring.Component):
    """Passes message words and appends each message's CRC-32/BZIP2 word.

    Latency one cycle, one word per cycle plus one cycle per message for the CRC word (``i.ready``
    low while it is offered).

    Members
    -------
    i : In(stream.Signature(MessageWord))
        Message words, ``last`` on each message's final word.
    o : Out(stream.Signature(MessageWord))
        The same words (``last`` low), then the CRC word with ``last``.
    """

    i: In(stream.Signature(MessageWord))
    o: Out(stream.Signature(MessageWord))

    def elaborate(self, platform):
        m = Module()
        crc = Signal(32, init=CRC_INIT)
        trailer = Signal()
        can_load = output_register(m, self.o)
        m.d.comb += self.i.ready.eq(can_load & ~trailer)
        with m.If(can_load):
            with m.If(trailer):
                m.d.sync += [
                    self.o.valid.eq(1),
                    self.o.payload.data.eq(crc ^ CRC_XOROUT),
                    self.o.payload.last.eq(1),
                    trailer.eq(0),
                    crc.eq(CRC_INIT),
                ]
            with m.Elif(self.i.valid):
                word = self.i.payload.data
                m.d.sync += [
                    self.o.valid.eq(1),
                    self.o.payload.data.eq(word),
                    self.o.payload.last.eq(0),
                    crc.eq(crc_update(word, crc)),
                    trailer.eq(self.i.payload.last),
                ]
        return m


class CrcChecker(wiring.Component):
    """Checks each message's CRC word: one :data:`MessageStatus` per message.

    Latency: the status is on ``o`` one cycle after the message's CRC word; one word per cycle
    (``i.ready`` low only while a status waits for ``o.ready``).

    Members
    -------
    i : In(stream.Signature(MessageWord))
        Whole messages, CRC word included (``last`` on it).
    o : Out(stream.Signature(MessageStatus))
        ``ok`` (the CRC word matched) and ``words`` (length without the CRC word).
    """

    i: In(stream.Signature(MessageWord))
    o: Out(stream.Signature(MessageStatus))

    def elaborate(self, platform):
        m = Module()
        crc = Signal(32, init=CRC_INIT)
        words = Signal(24)
        can_load = output_register(m, self.o)
        m.d.comb += self.i.ready.eq(can_load)
        with m.If(self.i.valid & can_load):
            word = self.i.payload.data
            with m.If(self.i.payload.last):
                m.d.sync += [
                    self.o.valid.eq(1),
                    self.o.payload.ok.eq(word == (crc ^ CRC_XOROUT)),
                    self.o.payload.words.eq(words),
                    crc.eq(CRC_INIT),
                    words.eq(0),
                ]
            with m.Else():
                m.d.sync += [crc.eq(crc_update(word, crc)), words.eq(words + 1)]
        return m
