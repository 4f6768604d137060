r"""Satellite uplink receiver (SPEC 5): report frame copies in, each frame's reports once, in order.

Overview
--------
``i`` carries the received copies of uplink report frames (:mod:`models.sifting.messages`), one
32-bit word per beat, ``last`` on the CRC word. A copy is buffered whole and judged on its last
word, as :meth:`models.sifting.link._Satellite.receive` does:

* corrupted (CRC, tag, count inconsistent with the length, or longer than a buffer bank):
  dropped, counted in ``corrupted``;
* sequence number below the next expected one (a repeat or a stale duplicate): dropped, counted
  in ``duplicates``; its ack still counts;
* otherwise the frames skipped by the sequence gap are declared missing, one ``frame`` beat each
  (``missing=1``, ``count=0``), then the frame itself gets a ``frame`` beat (``seq``, ``count``)
  and its ``count`` reports leave on ``report`` (pulse ``seq * P + offset``), ascending.

``ack`` is the highest acknowledgement carried by a good copy (the next sift message the ground
needs); it drives the satellite's sift-message retransmission
(:class:`~rtl.sifting.sift_sender.SiftSender`). ``frame`` tells the sift-message builder which
message to build next and how many sift entries it takes from
:class:`~rtl.sifting.satellite_sift.SatelliteSift`, whose ``report`` input is ``report``.

Design
------
Two banks of ``depth`` words: a copy is written into one bank while the other bank's accepted
frame is read out, so the link is only stalled when a whole copy arrives before the previous
frame's reports have left (a copy of ``c`` reports takes ``32 (c + 4)`` cycles on the 156 Mbit/s
link, the read-out ``c`` cycles). The CRC is updated per word with
:func:`rtl.sifting.crc_append.crc_update`, the header words are kept in registers.

Stream contract, latency, throughput
------------------------------------
``i``: one word per cycle, stalled only while a judged copy waits for the read-out bank
(``report`` or ``frame`` stalling). ``frame`` and ``report`` may stall for any time. The missing
declarations and the frame beat leave one per cycle from two cycles after the CRC word; the
first report two cycles after the frame beat, then one per cycle::

    clk        _/‾\_/‾\_/‾\_/‾\_/‾\_/‾\_/‾\_
    i.data       hdr seq ack r0  r1  crc*
    frame.valid  ________________________/‾‾\______    (frame j, no gap)
    report.valid ________________________________/‾‾‾‾‾‾‾\
"""

from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import data, memory, stream, wiring
from amaranth.lib.wiring import In, Out

from models.sifting.link import SiftConfig
from models.sifting.messages import (
    COUNT_BITS,
    CRC_INIT,
    CRC_XOROUT,
    MAX_OFFSET_BITS,
    UPLINK_HEADER_WORDS,
    UPLINK_TAG,
)
from rtl.sifting.crc_append import MessageWord, crc_update
from rtl.sifting.layouts import COUNTER_BITS, Report, check_sizes

FrameBeat = data.StructLayout({"seq": 32, "count": COUNT_BITS, "missing": 1})


class UplinkReceiver(wiring.Component):
    i: In(stream.Signature(MessageWord))
    frame: Out(stream.Signature(FrameBeat))
    report: Out(stream.Signature(Report))
    ack: Out(32)
    corrupted: Out(COUNTER_BITS)
    duplicates: Out(COUNTER_BITS)
    missing: Out(COUNTER_BITS)

    def __init__(self, frame_pulses: int = SiftConfig.frame_pulses, depth: int = 4096) -> None:
        check_sizes("UplinkReceiver", frame_pulses=(frame_pulses, 2, 1 << MAX_OFFSET_BITS),
                    depth=(depth, 2, 1 << (COUNT_BITS - 1)))
        self._p = frame_pulses
        self._depth = depth
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        abits = (self._depth - 1).bit_length()
        offset_bits = (self._p - 1).bit_length()
        m.submodules.buf = buf = memory.Memory(shape=32, depth=2 * self._depth, init=[])
        wr = buf.write_port()
        rd = buf.read_port()

        # Receiving: word index, running CRC and header of the copy coming in, into bank wbank.
        # The body length is a counter and a flag kept up to date word by word, so neither the
        # block RAM write enable nor the verdict waits for a subtract and a compare of `index`.
        wbank = Signal()
        index = Signal(range(UPLINK_HEADER_WORDS + 1))  # header word, or the body
        body = Signal(COUNT_BITS + 1)  # body words so far
        in_room = Signal(init=1)  # body < depth: the next body word has a place
        crc = Signal(32, init=CRC_INIT)
        head0, head1, head2 = Signal(32), Signal(32), Signal(32)
        too_long = Signal()
        # A judged copy waiting for the decision (and for the read-out bank).
        judged = Signal()
        good, seq, frame_ack = Signal(), Signal(32), Signal(32)
        count = Signal(COUNT_BITS)

        word = self.i.payload.data
        take = self.i.valid & self.i.ready
        in_body = index == UPLINK_HEADER_WORDS
        m.d.comb += [
            self.i.ready.eq(~judged),
            wr.addr.eq(Cat(body[:abits], wbank)),
            wr.data.eq(word),
            wr.en.eq(take & ~self.i.payload.last & in_body & in_room),
        ]
        with m.If(take):
            with m.If(self.i.payload.last):
                header_count = head0[:COUNT_BITS]
                m.d.sync += [
                    judged.eq(1),
                    good.eq((word == (crc ^ CRC_XOROUT)) & in_body
                            & (head0[COUNT_BITS:] == UPLINK_TAG)
                            & (header_count == body) & ~too_long),
                    seq.eq(head1),
                    frame_ack.eq(head2),
                    count.eq(header_count),
                    index.eq(0),
                    body.eq(0),
                    in_room.eq(1),
                    crc.eq(CRC_INIT),
                    too_long.eq(0),
                ]
            with m.Else():
                m.d.sync += crc.eq(crc_update(word, crc))
                with m.If(~in_body):
                    m.d.sync += index.eq(index + 1)
                with m.Switch(index):
                    with m.Case(0):
                        m.d.sync += head0.eq(word)
                    with m.Case(1):
                        m.d.sync += head1.eq(word)
                    with m.Case(2):
                        m.d.sync += head2.eq(word)
                with m.If(in_body & in_room):
                    m.d.sync += [body.eq(body + 1), in_room.eq(body != self._depth - 1)]
                with m.If(in_body & ~in_room):
                    m.d.sync += too_long.eq(1)

        # Read-out of the accepted frame from bank ~wbank.
        busy = Signal()
        out_seq = Signal(32)
        out_count = Signal(COUNT_BITS)
        out_index = Signal(COUNT_BITS)
        fetched = Signal()  # the read port holds the word at out_index
        advance = ~self.report.valid | self.report.ready
        rd_word = rd.data
        m.d.comb += [
            rd.addr.eq(Cat(Mux(fetched & advance, out_index + 1, out_index)[:abits], ~wbank)),
            rd.en.eq(advance),
        ]
        with m.If(self.report.valid & self.report.ready):
            m.d.sync += self.report.valid.eq(0)
        with m.If(busy & advance):
            with m.If(~fetched):
                m.d.sync += fetched.eq(1)
            with m.Else():
                last_one = out_index == out_count - 1
                m.d.sync += [
                    self.report.valid.eq(1),
                    self.report.payload.pulse.eq(
                        (out_seq << offset_bits) | rd_word[3:3 + offset_bits]),
                    self.report.payload.basis.eq(rd_word[2]),
                    self.report.payload.sampled.eq(rd_word[1]),
                    self.report.payload.bit.eq(rd_word[0]),
                    out_index.eq(out_index + 1),
                ]
                with m.If(last_one):
                    m.d.sync += [busy.eq(0), fetched.eq(0)]

        # Decision on a judged copy: drop, or declare the gap missing, then the frame.
        next_seq = Signal(32)
        frame_free = ~self.frame.valid | self.frame.ready
        with m.If(self.frame.valid & self.frame.ready):
            m.d.sync += self.frame.valid.eq(0)
        with m.If(judged & frame_free):
            with m.If(~good):
                m.d.sync += [judged.eq(0), self.corrupted.eq(self.corrupted + 1)]
            with m.Else():
                with m.If(frame_ack > self.ack):
                    m.d.sync += self.ack.eq(frame_ack)
                with m.If(seq < next_seq):
                    m.d.sync += [judged.eq(0), self.duplicates.eq(self.duplicates + 1)]
                with m.Elif(seq != next_seq):
                    m.d.sync += [
                        self.frame.valid.eq(1),
                        self.frame.payload.seq.eq(next_seq),
                        self.frame.payload.count.eq(0),
                        self.frame.payload.missing.eq(1),
                        next_seq.eq(next_seq + 1),
                        self.missing.eq(self.missing + 1),
                    ]
                with m.Elif(~busy):
                    m.d.sync += [
                        self.frame.valid.eq(1),
                        self.frame.payload.seq.eq(seq),
                        self.frame.payload.count.eq(count),
                        self.frame.payload.missing.eq(0),
                        next_seq.eq(seq + 1),
                        judged.eq(0),
                        wbank.eq(~wbank),
                        busy.eq(count != 0),
                        out_seq.eq(seq),
                        out_count.eq(count),
                        out_index.eq(0),
                        fetched.eq(0),
                    ]
        return m
