r"""Satellite uplink receiver (SPEC 5): report frame copies in, each frame's reports once, in order.

Overview
--------
``i`` carries the received copies of uplink report frames (:mod:`models.sifting.messages`), one
32-bit word per beat, ``last`` on the CRC word. A copy is buffered whole and judged on its last
word, as :meth:`models.sifting.classical_link._Satellite.receive` does:

* corrupted (CRC, tag, count inconsistent with the length, or longer than a buffer bank):
  dropped, counted in ``corrupted``;
* sequence number below the next expected one: dropped, counted in ``stale`` if the frame was
  declared missing (its sequence number lies above the last accepted frame's), otherwise in
  ``duplicates`` (a repeat of an accepted frame); its ack still counts;
* otherwise the frames skipped by the sequence gap are declared missing, one ``frame`` beat each
  (``missing=1``, ``count=0``), then the frame itself gets a ``frame`` beat (``seq``, ``count``)
  and its ``count`` reports leave on ``report`` (pulse ``seq * P + offset``), ascending.

Expiry (``cache_pulses`` given): the next expected frame ``k`` is declared missing on the
satellite's own clock once ``head`` (the RND cache's write head: pulses transmitted) reaches
:func:`models.sifting.classical_link.missing_deadline` ``(k+1) P + cache_pulses``: every pulse of
the frame has left the cache, so no uplink copy could be sifted any more. Progress then never waits
for an uplink frame to arrive. Each such declaration also counts in ``timeouts``. A copy is judged
against the head of the cycle its CRC word arrived (``stamp``): the frames whose deadline that head
had reached are declared first, exactly as :meth:`models.sifting.classical_link._Satellite.receive`
applies ``advance(head)`` before the copy; while no copy waits, the live ``head`` is used.
``cache_pulses=None`` (and ``head`` left at 0) turns expiry off.

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
link, the read-out ``c`` cycles). The banks, the header registers, the body counter and the
running CRC check are a :class:`~rtl.sifting.message_intake.MessageIntake` (bank ``wbank`` its
region).

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
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from models.sifting.classical_link import SiftConfig
from models.sifting.messages import (
    COUNT_BITS,
    MAX_OFFSET_BITS,
    UPLINK_HEADER_WORDS,
    UPLINK_TAG,
)
from rtl.sifting.crc_append import MessageWord
from rtl.sifting.layouts import COUNTER_BITS, Report, check_sizes
from rtl.sifting.message_intake import MessageIntake

FrameBeat = data.StructLayout({"seq": 32, "count": COUNT_BITS, "missing": 1})


class UplinkReceiver(wiring.Component):
    """Takes uplink frame copies through a :class:`~rtl.sifting.message_intake.MessageIntake`
    and releases each frame once, in order (see the module docstring).

    Latency, throughput: ``i`` one word per cycle, stalled only while a judged copy waits for the
    read-out bank; frame beats from two cycles after the CRC word, the first report two cycles
    after its frame beat, then one per cycle.

    Members
    -------
    i : In(stream.Signature(MessageWord))
        Received uplink copies, ``last`` on the CRC word.
    frame : Out(stream.Signature(FrameBeat))
        One beat per frame in sequence order: accepted (``count`` reports) or declared missing.
    report : Out(stream.Signature(Report))
        The accepted frames' reports, ascending.
    head : In(64)
        The RND cache's write head, for the expiry of frames never received.
    ack : Out(32)
        Highest acknowledgement carried by a good copy.
    corrupted, duplicates, missing, timeouts, stale : Out(COUNTER_BITS)
        Copy and frame counters (module docstring).
    """

    i: In(stream.Signature(MessageWord))
    frame: Out(stream.Signature(FrameBeat))
    report: Out(stream.Signature(Report))
    head: In(64)
    ack: Out(32)
    corrupted: Out(COUNTER_BITS)
    duplicates: Out(COUNTER_BITS)
    missing: Out(COUNTER_BITS)
    timeouts: Out(COUNTER_BITS)
    stale: Out(COUNTER_BITS)

    def __init__(self, frame_pulses: int = SiftConfig.frame_pulses, depth: int = 4096,
                 cache_pulses: int | None = None) -> None:
        check_sizes("UplinkReceiver", frame_pulses=(frame_pulses, 2, 1 << MAX_OFFSET_BITS),
                    depth=(depth, 2, 1 << (COUNT_BITS - 1)))
        if cache_pulses is not None and not 1 <= cache_pulses <= 1 << 48:
            raise ValueError(f"UplinkReceiver: cache_pulses={cache_pulses} is outside 1..2**48")
        self._p = frame_pulses
        self._depth = depth
        self._cache_pulses = cache_pulses
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        abits = (self._depth - 1).bit_length()
        offset_bits = (self._p - 1).bit_length()

        # Receiving: header words, body length and running CRC of the copy coming in, its body
        # into bank `wbank`.
        m.submodules.intake = intake = MessageIntake(UPLINK_HEADER_WORDS, self._depth, 2)
        wbank = Signal()
        # A judged copy waiting for the decision (and for the read-out bank).
        judged = Signal()
        good, seq, frame_ack = Signal(), Signal(32), Signal(32)
        count = Signal(COUNT_BITS)
        take = self.i.valid & self.i.ready
        m.d.comb += [
            self.i.ready.eq(~judged),
            intake.take.eq(take),
            intake.word.eq(self.i.payload),
            intake.keep.eq(1),
            intake.region.eq(wbank),
        ]
        stamp = Signal(64)  # the cache head when the judged copy's CRC word arrived
        with m.If(take & self.i.payload.last):
            head0 = intake.head[0]
            header_count = head0[:COUNT_BITS]
            m.d.sync += [
                judged.eq(1),
                stamp.eq(self.head),
                good.eq(intake.crc_ok & intake.in_body
                        & (head0[COUNT_BITS:] == UPLINK_TAG)
                        & (header_count == intake.body) & ~intake.overflow),
                seq.eq(intake.head[1]),
                frame_ack.eq(intake.head[2]),
                count.eq(header_count),
            ]

        # Read-out of the accepted frame from bank ~wbank.
        busy = Signal()
        out_seq = Signal(32)
        out_count = Signal(COUNT_BITS)
        out_index = Signal(COUNT_BITS)
        fetched = Signal()  # the read port holds the word at out_index
        advance = ~self.report.valid | self.report.ready
        rd_word = intake.rdata
        # The read address depends on registers only: without `advance` (the port reads only
        # with it), no path runs from `report.ready` through the index adder to the block RAM.
        m.d.comb += [
            intake.raddr.eq(Cat(Mux(fetched, out_index + 1, out_index)[:abits], ~wbank)),
            intake.ren.eq(advance),
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

        # Decision on a judged copy: drop, or declare the gap missing, then the frame; with no
        # copy waiting, the expiry of the next expected frame.
        next_seq = Signal(32)
        accepted_end = Signal(32)  # one past the last accepted frame
        # `expired`: the reference head (the judged copy's stamp, else the live head) has
        # reached the next frame's deadline. Registered (a 64-bit compare must not reach the
        # decision's enables); one cycle stale after `deadline` moves, hence `settled`. In the
        # cycle a copy becomes judged it was computed from the live head of its CRC word's
        # cycle, which is the stamp.
        expired, settled = Signal(), Signal()
        timing = self._cache_pulses is not None
        if timing:
            deadline = Signal(64, init=self._p + self._cache_pulses)
            m.d.sync += [expired.eq(Mux(judged, stamp, self.head) >= deadline), settled.eq(1)]

        def step() -> list:
            return [next_seq.eq(next_seq + 1), *([deadline.eq(deadline + self._p),
                                                  settled.eq(0)] if timing else [])]

        def declare_missing() -> list:
            return [
                self.frame.valid.eq(1),
                self.frame.payload.seq.eq(next_seq),
                self.frame.payload.count.eq(0),
                self.frame.payload.missing.eq(1),
                self.missing.eq(self.missing + 1),
                *step(),
            ]

        # The sequence compares. With expiry on they are registered (no carry chain in front of
        # the decision's enables) and exact whenever used: the cycle after `next_seq` or
        # `accepted_end` moves is skipped (`settled`), and a new copy's sequence number is
        # compared from the header register in its CRC word's cycle.
        seq_lt, seq_ne, seq_stale = Signal(), Signal(), Signal()
        seq_d = Mux(take & self.i.payload.last, intake.head[1], seq) if timing else seq
        compares = [seq_lt.eq(seq_d < next_seq), seq_ne.eq(seq_d != next_seq),
                    seq_stale.eq(seq_d >= accepted_end)]
        if timing:
            m.d.sync += compares
        else:
            m.d.comb += compares

        frame_free = ~self.frame.valid | self.frame.ready
        with m.If(self.frame.valid & self.frame.ready):
            m.d.sync += self.frame.valid.eq(0)
        # The ack of a good copy counts at once: a stalled frame decision (sift-message table
        # full for want of acks) must not hold back the ack that frees it.
        with m.If(judged & good & (frame_ack > self.ack)):
            m.d.sync += self.ack.eq(frame_ack)
        with m.If(judged & frame_free):
            with m.If(~good):
                m.d.sync += [judged.eq(0), self.corrupted.eq(self.corrupted + 1)]
            with m.Elif(~settled if timing else 0):
                pass  # `next_seq` just moved: `expired` is a cycle old
            with m.Elif(expired):
                m.d.sync += [*declare_missing(), self.timeouts.eq(self.timeouts + 1)]
            with m.Elif(seq_lt):
                m.d.sync += judged.eq(0)
                with m.If(seq_stale):
                    m.d.sync += self.stale.eq(self.stale + 1)
                with m.Else():
                    m.d.sync += self.duplicates.eq(self.duplicates + 1)
            with m.Elif(seq_ne):
                m.d.sync += declare_missing()
            with m.Elif(~busy):
                m.d.sync += [
                    self.frame.valid.eq(1),
                    self.frame.payload.seq.eq(seq),
                    self.frame.payload.count.eq(count),
                    self.frame.payload.missing.eq(0),
                    *step(),
                    accepted_end.eq(seq + 1),
                    judged.eq(0),
                    wbank.eq(~wbank),
                    busy.eq(count != 0),
                    out_seq.eq(seq),
                    out_count.eq(count),
                    out_index.eq(0),
                    fetched.eq(0),
                ]
        with m.Elif(frame_free & settled & expired):
            m.d.sync += [*declare_missing(), self.timeouts.eq(self.timeouts + 1)]
        return m
