r"""CRC-32 trailer of the sifting link messages (``models.sifting.messages``), one word per cycle.

Overview
--------
Passes the words of each message (``last`` on its final word) and appends the CRC-32/BZIP2
word after it (with ``last``): the trailer of every uplink report frame and downlink sift message.
The running CRC is updated per 32-bit word with :func:`rtl.common.crc.crc_msb_first`: for an
MSB-first CRC as wide as the word, feeding a word into register ``s`` equals feeding
``word ^ s`` into a zeroed register, so the update is ``s' = crc(word ^ s)``, one XOR network.

Latency, throughput
-------------------
One cycle; one word per cycle, plus one cycle per message for the trailer (``i.ready`` is low
while the trailer is offered)::

    clk      _/‾\_/‾\_/‾\_/‾\_/‾\_
    i          w0  w1* ..            (* last)
    o              w0  w1  crc*
"""

from amaranth.hdl import Module, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from models.sifting.messages import CRC_INIT, CRC_POLY, CRC_XOROUT
from rtl.common.crc import crc_msb_first

MessageWord = data.StructLayout({"data": 32, "last": 1})


class CrcAppender(wiring.Component):
    i: In(stream.Signature(MessageWord))
    o: Out(stream.Signature(MessageWord))

    def elaborate(self, platform):
        m = Module()
        crc = Signal(32, init=CRC_INIT)
        trailer = Signal()
        can_load = ~self.o.valid | self.o.ready
        m.d.comb += self.i.ready.eq(can_load & ~trailer)
        with m.If(self.o.valid & self.o.ready):
            m.d.sync += self.o.valid.eq(0)
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
                    crc.eq(crc_msb_first(word ^ crc, poly=CRC_POLY, width=32, init=0)),
                    trailer.eq(self.i.payload.last),
                ]
        return m
