r"""Message intake of the link receivers: header words, body into a buffer, running CRC check.

Overview
--------
Both link receivers (:class:`~rtl.sifting.uplink_receiver.UplinkReceiver` on the satellite,
:class:`~rtl.sifting.sift_receiver.SiftReceiver` on the ground) take message copies one 32-bit
word per beat (``last`` on the CRC word), keep the first ``header_words`` words in registers,
write the body words into a region of a block RAM buffer and judge the copy on its CRC word.
This component is that common part; what the header means, which region a copy goes to and
whether it is kept stay in the blocks.

Design
------
Every length check is a flag or counter kept up to date word by word, so no subtract or
magnitude compare of a word index sits in front of the buffer's write enable or the verdict:
``body`` counts the body words up to ``body_words`` (``in_room``: one more fits), ``overflow``
says one more arrived. The buffer write is registered (the user's keep decision does not reach
the block RAM inputs); a body word is in the buffer one cycle after its beat, before the user
can act on the CRC word that follows it. The buffer has ``no_rw_check``: a user reads a region
only once its copy is complete and judged, so a read never meets the word being written.
"""

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import data, memory, wiring
from amaranth.lib.wiring import In, Out

from models.sifting.messages import CRC_INIT, CRC_XOROUT
from rtl.sifting.crc_append import MessageWord, crc_update


class MessageIntake(wiring.Component):
    r"""Header registers, buffered body and CRC check of the message copy coming in.

    Latency, throughput
    -------------------
    One word per cycle, no stall of its own. Every output but ``crc_ok`` is a register that
    shows a beat's effect in the next cycle; ``crc_ok`` judges the word on ``word`` in the same
    cycle. A body word is written at ``Cat(body, region)`` (``region`` of its beat) one cycle
    after its beat; a read (``ren`` high) shows ``rdata`` one cycle later::

        cycle      0     1     2     3     4
        take/word  h0    h1    b0    b1    crc*    (header_words = 2; * last)
        index      0     1     2     2     2     0
        body       0     0     0     1     2     0
        buffer                       [0]=b0 [1]=b1

    Members
    -------
    take, word : In
        A beat of the copy (:data:`~rtl.sifting.crc_append.MessageWord`) is taken this cycle.
    keep, region : In
        Write this beat's body word (if it fits) into buffer region ``region``; ``keep`` low
        drops it.
    index : Out
        Header words taken so far (``header_words``: in the body).
    head : Out(ArrayLayout(32, header_words))
        The header words taken so far.
    body : Out
        Body words taken so far, at most ``body_words``.
    in_room : Out
        ``body < body_words``: the next body word fits.
    overflow : Out
        A body word came with ``body == body_words`` (the copy is too long).
    crc_ok : Out
        ``word`` is the CRC word of the words before it (combinational).
    raddr, ren, rdata : In, In, Out
        Buffer read port (address ``Cat(word_index, region)``; ``rdata`` a cycle after ``ren``).
    """

    def __init__(self, header_words: int, body_words: int, regions: int) -> None:
        if header_words < 1 or body_words < 2 or regions < 1:
            raise ValueError(f"MessageIntake: header_words={header_words}, "
                             f"body_words={body_words}, regions={regions} out of range")
        self._header_words = header_words
        self._body_words = body_words
        self._regions = regions
        bits = (body_words - 1).bit_length() + max(1, (regions - 1).bit_length())
        super().__init__({
            "take": In(1),
            "word": In(MessageWord),
            "keep": In(1),
            "region": In(max(1, (regions - 1).bit_length())),
            "index": Out(range(header_words + 1)),
            "head": Out(data.ArrayLayout(32, header_words)),
            "body": Out(range(body_words + 1)),
            "in_room": Out(1, init=1),
            "overflow": Out(1),
            "crc_ok": Out(1),
            "raddr": In(bits),
            "ren": In(1),
            "rdata": Out(32),
        })

    @property
    def in_body(self):
        """The next word is a body word (or the CRC word)."""
        return self.index == self._header_words

    def elaborate(self, platform):
        m = Module()
        wbits = (self._body_words - 1).bit_length()
        m.submodules.buf = buf = memory.Memory(
            shape=32, depth=self._regions * self._body_words, init=[], attrs={"no_rw_check": 1})
        wr = buf.write_port()
        rd = buf.read_port()
        m.d.comb += [rd.addr.eq(self.raddr), rd.en.eq(self.ren), self.rdata.eq(rd.data)]

        crc = Signal(32, init=CRC_INIT)
        word, last = self.word.data, self.word.last
        in_body = self.in_body
        m.d.comb += self.crc_ok.eq(word == (crc ^ CRC_XOROUT))
        m.d.sync += [
            wr.addr.eq(Cat(self.body[:wbits], self.region)),
            wr.data.eq(word),
            wr.en.eq(self.take & self.keep & in_body & self.in_room & ~last),
        ]
        with m.If(self.take):
            with m.If(last):
                m.d.sync += [self.index.eq(0), self.body.eq(0), self.in_room.eq(1),
                             self.overflow.eq(0), crc.eq(CRC_INIT)]
            with m.Else():
                m.d.sync += crc.eq(crc_update(word, crc))
                with m.If(~in_body):
                    m.d.sync += [self.head[self.index].eq(word), self.index.eq(self.index + 1)]
                with m.Elif(self.in_room):
                    m.d.sync += [self.body.eq(self.body + 1),
                                 self.in_room.eq(self.body != self._body_words - 1)]
                with m.Else():
                    m.d.sync += self.overflow.eq(1)
        return m
