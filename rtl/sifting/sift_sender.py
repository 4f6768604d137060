r"""Satellite sift-message sender (SPEC 5): sift messages built, kept and resent until acknowledged.

Overview
--------
For every ``frame`` beat of :class:`~rtl.sifting.uplink_receiver.UplinkReceiver` (in sequence
order, no gaps) the builder writes sift message ``seq`` in the format of
:func:`models.sifting.messages.encode_sift` into a ring of 32-bit words: ``0x5C << 24 | count``,
``seq``, then ``count`` sift entries from ``entry``
(:class:`~rtl.sifting.satellite_sift.SatelliteSift`), 8 per word, entry 0 in bits 31..28; a
missing frame gives ``0x5D << 24``, ``seq``. The sender sends every message from the oldest
unacknowledged one (``ack``: the next message the ground needs, from the uplink receiver) to the
newest, then starts again from the oldest unacknowledged one, for as long as any is; each copy
gets its CRC word from :class:`~rtl.sifting.crc_append.CrcAppender`. So every message is repeated
until the ground has it, as the model's satellite endpoint does (it cycles once per frame period,
this block back to back; the ground drops the surplus copies by sequence number).

Design
------
The ring (a :class:`~rtl.sifting.message_ring.MessageRing` of ``depth`` words) keeps the words
of every message from the oldest one still needed (the older of ``ack`` and the message being
sent) to the newest. A ``window``-entry descriptor table (start and last word index of message
``seq % window``) locates them; it is read asynchronously (LUT RAM) into a register. Timing
(156.25 MHz on ECP5, ``docs/timing.md``): the sender's decision on message ``cur`` (is it in
``[acked, built)``?) is two 32-bit compares, registered together with the descriptor in a
``check`` cycle and acted on in the next, during which ``acked`` holds still; the ring is read
two words ahead, into its look-ahead register ``ahead`` right behind the block RAM. The builder
stalls ``entry`` and ``frame`` while the ring or the table is full, which in turn stalls the
satellite sifting and the uplink receiver (upstream, uplink copies are then lost and recovered
by their repetitions); ``docs/sifting.md`` sizes both for 50 ms of downlink loss.

Stream contract, latency, throughput
------------------------------------
``frame`` and ``entry``: one entry per cycle, one cycle per message header word. ``o``: one word
per cycle while ready; between two messages the CRC word and two idle cycles (the sender's
registered check of the next message, then its descriptor latch), four when the sender starts
again from the oldest unacknowledged message. All streams may stall for any time. A message's
header is on ``o`` 5 or 6 cycles after ``built`` counts it (``o`` ready; an idle sender checks
every other cycle)::

    clk       _/‾\_/‾\_/‾\_/‾\_/‾\_/‾\_/‾\_/‾\_/‾\_
    o.data      hdr seq e0-7 crc         hdr ...   (message j, 8 entries; then the next one)
    o.last      ____________/‾‾\___________________
"""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import data, enum, memory, stream, wiring
from amaranth.lib.wiring import In, Out

from models.sifting.messages import (
    COUNT_BITS,
    ENTRIES_PER_WORD,
    ENTRY_BITS,
    MISSING_TAG,
    SIFT_TAG,
)
from rtl.sifting.crc_append import MessageWord
from rtl.sifting.layouts import SiftEntry, check_sizes
from rtl.sifting.message_ring import add_message_ring, below, ring_pointer_bits
from rtl.sifting.uplink_receiver import FrameBeat


class _Build(enum.Enum, shape=2):
    IDLE = 0
    SEQ = 1
    ENTRIES = 2
    CLOSE = 3


class SiftSender(wiring.Component):
    """Builds sift messages into a :class:`~rtl.sifting.message_ring.MessageRing` and resends
    them until acknowledged (see the module docstring).

    Latency, throughput: one entry per cycle in; ``o`` one word per cycle with the CRC word and
    two idle cycles between messages (four when it starts again from the oldest unacknowledged
    one); a message's header is on ``o`` 5 or 6 cycles after ``built`` counts it.

    Members
    -------
    frame : In(stream.Signature(FrameBeat))
        The next message to build: sequence number, entry count, or missing.
    entry : In(stream.Signature(SiftEntry))
        The message's sift entries, 8 per ring word.
    ack : In(32)
        The next message the ground needs; older ones are freed.
    o : Out(stream.Signature(MessageWord))
        Downlink words of the messages ``[ack, built)``, over and over, each with its CRC word.
    built : Out(32)
        Messages built so far.
    """

    frame: In(stream.Signature(FrameBeat))
    entry: In(stream.Signature(SiftEntry))
    ack: In(32)
    o: Out(stream.Signature(MessageWord))
    built: Out(32)

    def __init__(self, depth: int = 8192, window: int = 64) -> None:
        check_sizes("SiftSender", depth=(depth, 2, 1 << (COUNT_BITS - 1)),
                    window=(window, 2, 1 << 16))
        self._depth = depth
        self._window = window
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        # The ring (`no_rw_check`: a read of the word being written is never used).
        ring = add_message_ring(m, self._depth, self.o)
        ptr_bits = ring_pointer_bits(self._depth)
        wbits = (self._window - 1).bit_length()
        desc_layout = data.StructLayout({"start": ptr_bits, "last": COUNT_BITS})
        m.submodules.desc = desc = memory.Memory(shape=desc_layout, depth=self._window, init=[])
        desc_wr = desc.write_port()
        desc_cur = desc.read_port(domain="comb")
        desc_keep = desc.read_port(domain="comb")

        # Messages [keep, built) are in the ring, from `tail` to `wp`. The bookkeeping is
        # registered (one to three cycles late): `acked` and `keep` never decrease, so a late
        # `tail` only holds words a little longer, never frees too early.
        built = self.built
        acked = Signal(32)
        cur = Signal(32)
        sending = Signal()
        prep = Signal()
        # The sender decides on message `cur` in two cycles: `check` registers the compares of
        # `cur` against `acked` / `built` and the descriptor, the next cycle acts on them. `acked`
        # holds still during `check`, so the registered compares are exact when used (`built`
        # only grows: a stale `cur >= built` only restarts the cycle one message early).
        checked = Signal()
        check = ~sending & ~prep & ~checked
        with m.If(~check):
            m.d.sync += acked.eq(Mux(self.ack < built, self.ack, built))
        keep = Signal(32)
        m.d.sync += keep.eq(Mux((sending | prep) & (cur < acked), cur, acked))
        m.d.comb += desc_keep.addr.eq(keep[:wbits])
        wp, room = ring.wp, ring.room
        tail = Signal(ptr_bits)
        m.d.sync += tail.eq(Mux(keep == built, wp, desc_keep.data.start))
        m.d.comb += ring.tail.eq(tail)
        # Registered with one entry of headroom, as the ring's `room`, so that no path runs from
        # the bookkeeping into `frame.ready` (the critical path of the satellite_sift top): a
        # value one cycle old is still safe because `built` grows by at most one per cycle,
        # while `keep` never moves back.
        table_room = Signal()
        table_room_next = below((built - keep)[:32], self._window - 1)
        m.d.sync += table_room.eq(table_room_next)

        # Builder.
        state = Signal(_Build)
        start = Signal(ptr_bits)
        remaining = Signal(COUNT_BITS)
        slots = Signal(data.ArrayLayout(ENTRY_BITS, ENTRIES_PER_WORD))
        filled = Signal(range(ENTRIES_PER_WORD + 1))
        # The ring write is registered (one cycle late: the builder's decisions do not reach the
        # block RAM inputs); a message's words are all in the ring by the time it is read.
        write, wdata = ring.write, ring.wdata
        # Words of the message written so far, less one: its descriptor's `last`, counted per
        # write (no `wp - start - 1` subtract in front of the table's write port).
        words_m1 = Signal(COUNT_BITS)
        with m.If(write):
            m.d.sync += words_m1.eq(words_m1 + 1)
        fb = self.frame.payload
        with m.Switch(state):
            with m.Case(_Build.IDLE), m.If(self.frame.valid & self.frame.ready):
                m.d.comb += [
                    write.eq(1),
                    wdata.eq(Mux(fb.missing, MISSING_TAG << COUNT_BITS,
                                 SIFT_TAG << COUNT_BITS | fb.count)),
                ]
                m.d.sync += [
                    start.eq(wp),
                    words_m1.eq(0),
                    remaining.eq(Mux(fb.missing, 0, fb.count)),
                    state.eq(_Build.SEQ),
                ]
            with m.Case(_Build.SEQ), m.If(room):
                m.d.comb += [write.eq(1), wdata.eq(built)]
                m.d.sync += [
                    filled.eq(0),
                    slots.eq(0),
                    state.eq(Mux(remaining == 0, _Build.CLOSE, _Build.ENTRIES)),
                ]
            with m.Case(_Build.ENTRIES):
                # A full word (or the message's last entries) is written before more come in.
                flush = (filled == ENTRIES_PER_WORD) | (remaining == 0)
                slot = (ENTRIES_PER_WORD - 1 - filled).as_unsigned()  # entry 0 in the top bits
                with m.If(flush & room):
                    m.d.comb += [write.eq(1), wdata.eq(slots)]
                    m.d.sync += [filled.eq(0), slots.eq(0)]
                    with m.If(remaining == 0):
                        m.d.sync += state.eq(_Build.CLOSE)
                with m.Elif(~flush):
                    m.d.comb += self.entry.ready.eq(1)
                    with m.If(self.entry.valid):
                        m.d.sync += [
                            slots[slot].eq(self.entry.payload),
                            filled.eq(filled + 1),
                            remaining.eq(remaining - 1),
                        ]
            with m.Case(_Build.CLOSE):
                m.d.comb += [
                    desc_wr.addr.eq(built[:wbits]),
                    desc_wr.data.start.eq(start),
                    desc_wr.data.last.eq(words_m1),
                    desc_wr.en.eq(1),
                ]
                m.d.sync += [built.eq(built + 1), state.eq(_Build.IDLE)]
        # `frame.ready` is `IDLE & room & table_room`, kept as a register of its own (from the
        # next state and the next `room` / `table_room`), so that no path runs from the builder
        # into the uplink receiver's decision (the satellite_sift critical path).
        idle_next = (((state == _Build.IDLE) & ~(self.frame.valid & self.frame.ready))
                     | (state == _Build.CLOSE))
        frame_ready = Signal()
        m.d.sync += frame_ready.eq(idle_next & ring.room_next & table_room_next)
        m.d.comb += self.frame.ready.eq(frame_ready)

        # Sender: message `cur`, word `index`, read two words ahead: the ring's read port, then
        # a register right behind the block RAM (`ring.ahead`: its clock-to-out plus the routing
        # to the CRC appender left no time for logic). The compares and the descriptor are
        # registered (`check`), so that no path runs from the sequence-number carry chains or
        # the LUT RAM to the ring; the check also loads the read address with the message's
        # start, and the decision reads the first word (the pipeline is empty then).
        index = Signal(COUNT_BITS)
        s_last = Signal(COUNT_BITS)
        # The ring read address, a register: start + index + 2 while sending, no adder between
        # `index` and the block RAM.
        raddr = Signal(ptr_bits)
        in_window = Signal()
        desc_q = Signal(desc_layout)
        advance = ring.advance
        m.d.comb += [
            desc_cur.addr.eq(cur[:wbits]),
            ring.fetch.eq(checked & in_window),
            ring.raddr.eq(raddr),
        ]
        with m.If(check):
            m.d.sync += [
                checked.eq(1),
                in_window.eq((cur >= acked) & (cur < built)),
                desc_q.eq(desc_cur.data),
                raddr.eq(desc_cur.data.start),
            ]
        with m.If(checked):
            m.d.sync += checked.eq(0)
            with m.If(in_window):
                m.d.sync += [prep.eq(1), raddr.eq(desc_q.start + 1), s_last.eq(desc_q.last)]
            with m.Else():
                m.d.sync += cur.eq(acked)
        with m.If(advance):
            with m.If(prep):
                m.d.sync += [prep.eq(0), sending.eq(1), index.eq(0), raddr.eq(raddr + 1)]
            with m.Elif(sending):
                final = index == s_last
                m.d.comb += [
                    ring.push.eq(1),
                    ring.word.data.eq(ring.ahead),
                    ring.word.last.eq(final),
                ]
                m.d.sync += [
                    index.eq(index + 1),
                    raddr.eq(raddr + 1),
                ]
                with m.If(final):
                    m.d.sync += [sending.eq(0), cur.eq(cur + 1)]
        return m
