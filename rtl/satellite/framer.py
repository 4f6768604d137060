r"""Sync framer (SPEC 2 and 3.4): the downlink frame of each 2**16 pulses, with its sync word.

Overview
--------
The downlink sends one bit per four pulses; a frame of ``2**16`` pulses is 512 words of 32 bits
(layout in :mod:`models.framing`): a 64-bit marker, the 48-bit frame counter ``k`` with its
CRC-16, then 508 payload slots filled from ``payload`` or with the idle word. Frame ``k`` starts
at link word ``512 k``, i.e. with pulse ``k * 2**16``: the alignment of sync word and pulse is
structural (fixed frame length, both counted from reset), so the framer needs no pulse input.
A payload word is taken only in a payload slot; the framer never waits for payload.

``o.payload.kind`` labels each word for monitors; the serializer sends only ``o.payload.data``,
MSB first.

Latency, throughput
-------------------
One register stage, one word per cycle when ``o`` is always ready (the real link takes one word
every 32 fabric cycles at 4 lanes, so the framer is never the bottleneck)::

    clk       _/‾\_/‾\_/‾\_/‾\_/‾\_/‾\_
    o.kind      MRK MRK CNT CNT DAT IDL
    o.data      hi  lo  k   k|c p0  0
"""


from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from models.framing import (
    COUNTER_BITS,
    FRAME_WORDS,
    HEADER_WORDS,
    IDLE_WORD,
    SYNC_MARKER,
    WORD_BITS,
)
from rtl.common.crc import crc_msb_first
from rtl.satellite.layouts import DownlinkWord, WordKind


class SyncFramer(wiring.Component):
    """Downlink frames: sync marker, frame counter with CRC-16, payload slots.

    Latency one register stage, one word per cycle when ``o`` is ready; a payload word is taken
    only in a payload slot.

    Members
    -------
    payload : In(stream.Signature(WORD_BITS))
        Link payload words (idle words fill empty slots).
    o : Out(stream.Signature(DownlinkWord))
        Downlink words with their ``kind`` label.
    frame : Out(COUNTER_BITS)
        The frame counter ``k`` of the next word to load into ``o``: it steps when the last
        payload word of frame ``k`` is loaded, so while that word waits on ``o`` it already
        reads ``k + 1``.
    """

    payload: In(stream.Signature(WORD_BITS))
    o: Out(stream.Signature(DownlinkWord))
    frame: Out(COUNTER_BITS)

    def elaborate(self, platform):
        m = Module()
        position = Signal(range(FRAME_WORDS))
        counter_crc = crc_msb_first(self.frame, poly=0x1021, width=16, init=0xFFFF)

        can_load = ~self.o.valid | self.o.ready
        in_header = position < HEADER_WORDS
        m.d.comb += self.payload.ready.eq(can_load & ~in_header)

        with m.If(self.o.valid & self.o.ready):
            m.d.sync += self.o.valid.eq(0)
        with m.If(can_load):
            m.d.sync += [
                self.o.valid.eq(1),
                position.eq(Mux(position == FRAME_WORDS - 1, 0, position + 1)),
            ]
            with m.If(position == FRAME_WORDS - 1):
                m.d.sync += self.frame.eq(self.frame + 1)
            out = self.o.payload
            with m.Switch(position):
                with m.Case(0):
                    m.d.sync += [out.data.eq(SYNC_MARKER >> 32), out.kind.eq(WordKind.MARKER)]
                with m.Case(1):
                    m.d.sync += [
                        out.data.eq(SYNC_MARKER & 0xFFFF_FFFF), out.kind.eq(WordKind.MARKER)
                    ]
                with m.Case(2):
                    m.d.sync += [out.data.eq(self.frame[16:]), out.kind.eq(WordKind.COUNTER)]
                with m.Case(3):
                    m.d.sync += [
                        out.data.eq(counter_crc | (self.frame[:16] << 16)),
                        out.kind.eq(WordKind.COUNTER),
                    ]
                with m.Default():
                    with m.If(self.payload.valid):
                        m.d.sync += [out.data.eq(self.payload.payload), out.kind.eq(WordKind.DATA)]
                    with m.Else():
                        m.d.sync += [out.data.eq(IDLE_WORD), out.kind.eq(WordKind.IDLE)]
        return m
