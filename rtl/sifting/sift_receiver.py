r"""Ground sift-message receiver (SPEC 5): reorder buffer, acknowledgement, entries to the sifter.

Overview
--------
``i`` carries the received copies of downlink sift messages (:mod:`models.sifting.messages`), one
32-bit word per beat, ``last`` on the CRC word. As the model's ground endpoint
(``models.sifting.classical_link._Ground.receive``) does, a copy is kept if it is good (CRC, tag,
length consistent with the count) and its sequence number lies in ``[ack, ack + window)`` with no
copy of it kept yet; the others are counted (``corrupted``, ``duplicates``: already sifted or
already buffered, ``outside``: beyond the window) and forgotten. Messages are sifted strictly in
sequence order: message ``ack`` as soon as it is buffered, then ``ack`` moves on. ``ack`` (the next
message needed) goes into every uplink frame copy
(:class:`~rtl.sifting.uplink_framer.UplinkFramer`).

Sifting a message pairs each of its entries with the ground's next record (``record_in``: the
ground's reports in the order they were framed, ``UplinkFramer.record`` through the ground's record
store) and offers both, in step, on ``record`` and ``entry``
(:class:`~rtl.sifting.ground_sift.GroundSift`). A "missing" message (the satellite never got the
frame) turns every record of its frame (pulse in ``[seq P, (seq+1) P)``) into a ``missing`` entry;
it ends at the first record of a later frame or, with no record waiting, once the frame after it has
closed too (``closed``: ``UplinkFramer.closed``; left at 0 it waits for a record). A record whose
frame is not the message's (the two sides disagree: a bug, never a link fault) counts in
``mismatch``.

Design
------
The reorder buffer has ``window`` slots of ``slot_words`` words (message ``seq`` in slot
``seq % window``; a message of up to ``8 slot_words`` entries fits). A copy is written into
its slot while it arrives, the slot is marked full on a good last word; a bad copy leaves the slot
empty, so its words are never used. The slot being sifted is full, so no copy is ever written
into it. Entries are read one word per 8 entries. The buffer, the header registers, the body
counter and the running CRC check are a :class:`~rtl.sifting.message_intake.MessageIntake` (the
slot its region).

Stream contract, latency, throughput
------------------------------------
``i`` is always ready (the downlink cannot be stalled). ``record_in``, ``record`` and ``entry``
may stall for any time; ``record`` and ``entry`` offer their beats together and each transfers
on its own handshake. Sifting: 8 entries per 11 cycles at most (a word read per 8 entries, three
cycles: read, the block RAM's output register ``raw``, ``entries``); the downlink brings 8
entries per 32 cycles. The first entry of message ``ack`` leaves six cycles after its CRC word::

    clk        _/‾\_/‾\_/‾\_/‾\_/‾\_/‾\_/‾\_/‾\_/‾\_/‾\_
    i.data       hdr seq e0-7 crc*
    entry.valid  ________________________________/‾‾‾‾‾‾‾   (entries 0, 1, ...)
    ack          j   j   j    j    j    j+1 ...             (after the message's last entry)
"""

from amaranth.hdl import Array, Cat, Module, Mux, Signal
from amaranth.lib import data, enum, stream, wiring
from amaranth.lib.wiring import In, Out

from models.sifting.classical_link import SiftConfig
from models.sifting.entries import SiftCode
from models.sifting.messages import (
    COUNT_BITS,
    ENTRIES_PER_WORD,
    ENTRY_BITS,
    MAX_OFFSET_BITS,
    MISSING_TAG,
    SIFT_HEADER_WORDS,
    SIFT_TAG,
)
from rtl.sifting.crc_append import MessageWord
from rtl.sifting.layouts import COUNTER_BITS, Report, SiftEntry, check_sizes
from rtl.sifting.message_intake import MessageIntake


class _Sift(enum.Enum, shape=3):
    WAIT = 0
    FETCH = 1
    LOAD = 2
    EMIT = 3
    PIPE = 4


class _Copy(enum.Enum, shape=2):
    OLD = 0  # already sifted or already buffered (also the state before the sequence word)
    OUTSIDE = 1
    KEEP = 2


class SiftReceiver(wiring.Component):
    """Takes sift message copies through a :class:`~rtl.sifting.message_intake.MessageIntake`
    into a reorder buffer and sifts the messages in order (see the module docstring).

    Latency, throughput: ``i`` always ready, one word per cycle; up to 8 entries per 11 cycles
    leave; the first entry of message ``ack`` six cycles after its CRC word.

    Members
    -------
    i : In(stream.Signature(MessageWord))
        Received downlink copies, ``last`` on the CRC word.
    record_in : In(stream.Signature(Report))
        The ground's reports in framing order (record store).
    record, entry : Out(stream.Signature(Report)), Out(stream.Signature(SiftEntry))
        Each record with its sift entry, offered together.
    closed : In(32)
        Frames closed by the uplink framer (ends a missing message with no record waiting).
    ack : Out(32)
        The next message needed.
    corrupted, duplicates, outside, mismatch : Out(COUNTER_BITS)
        Copy counters and records whose frame disagrees with the message.
    """

    i: In(stream.Signature(MessageWord))
    record_in: In(stream.Signature(Report))
    record: Out(stream.Signature(Report))
    entry: Out(stream.Signature(SiftEntry))
    closed: In(32)
    ack: Out(32)
    corrupted: Out(COUNTER_BITS)
    duplicates: Out(COUNTER_BITS)
    outside: Out(COUNTER_BITS)
    mismatch: Out(COUNTER_BITS)

    def __init__(self, frame_pulses: int = SiftConfig.frame_pulses, window: int = 8,
                 slot_words: int = 512) -> None:
        check_sizes("SiftReceiver", frame_pulses=(frame_pulses, 2, 1 << MAX_OFFSET_BITS),
                    window=(window, 2, 1 << 16), slot_words=(slot_words, 4, 1 << 16))
        self._p = frame_pulses
        self._window = window
        self._slot_words = slot_words
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        sbits = (self._window - 1).bit_length()
        wbits = (self._slot_words - 1).bit_length()
        offset_bits = (self._p - 1).bit_length()
        # The buffer's `no_rw_check` holds: a slot is read only once its copy is complete and
        # judged.
        m.submodules.intake = intake = MessageIntake(SIFT_HEADER_WORDS, self._slot_words,
                                                     self._window)
        full = Signal(self._window)
        counts = Array(Signal(COUNT_BITS, name=f"count{k}") for k in range(self._window))
        missing = Signal(self._window)
        nxt = self.ack

        # Reception of a copy: header word, sequence number (decides its slot), entry words.
        # Every length check is a flag or counter kept up to date word by word (in the intake;
        # no subtract or magnitude compare on the last word), and the verdict on the last word
        # is registered and acted on one cycle later (`dec_*`): the next copy's sequence word
        # comes two cycles after it at the earliest and sees the slot already marked full.
        head0 = intake.head[0]
        count_words = Signal(COUNT_BITS + 1)  # entry words the header's count needs
        verdict = Signal(_Copy)
        slot = Signal(sbits)
        # One above the window's last sequence number, kept in step with `ack`.
        window_end = Signal(33, init=self._window)
        word = self.i.payload.data
        take = self.i.valid
        m.d.comb += [
            self.i.ready.eq(1),
            intake.take.eq(take),
            intake.word.eq(self.i.payload),
            intake.keep.eq(verdict == _Copy.KEEP),
            intake.region.eq(slot),
        ]
        tag, count = head0[COUNT_BITS:], head0[:COUNT_BITS]
        word_count = word[:COUNT_BITS]
        dec_valid, dec_good, dec_lost = Signal(), Signal(), Signal()
        dec_verdict, dec_slot, dec_count = Signal(_Copy), Signal(sbits), Signal(COUNT_BITS)
        m.d.sync += dec_valid.eq(take & self.i.payload.last)
        with m.If(take):
            with m.If(self.i.payload.last):
                body = intake.body
                sifted = (tag == SIFT_TAG) & (count_words == body) & ~intake.overflow
                lost = (tag == MISSING_TAG) & (count == 0) & (body == 0)
                m.d.sync += [
                    dec_good.eq(intake.crc_ok & intake.in_body & (sifted | lost)),
                    dec_lost.eq(lost),
                    dec_verdict.eq(verdict),
                    dec_slot.eq(slot),
                    dec_count.eq(count),
                    verdict.eq(_Copy.OLD),
                ]
            with m.Elif(intake.index == 0):
                m.d.sync += count_words.eq((word_count + ENTRIES_PER_WORD - 1)
                                           >> (ENTRIES_PER_WORD.bit_length() - 1))
            with m.Elif(intake.index == 1):
                # The sequence number decides once whether the copy is kept, and where.
                m.d.sync += slot.eq(word[:sbits])
                with m.If(word < nxt):
                    m.d.sync += verdict.eq(_Copy.OLD)
                with m.Elif(word >= window_end):
                    m.d.sync += verdict.eq(_Copy.OUTSIDE)
                with m.Elif(full.bit_select(word[:sbits], 1)):
                    m.d.sync += verdict.eq(_Copy.OLD)
                with m.Else():
                    m.d.sync += verdict.eq(_Copy.KEEP)
        with m.If(dec_valid):
            with m.If(~dec_good):
                m.d.sync += self.corrupted.eq(self.corrupted + 1)
            with m.Elif(dec_verdict == _Copy.KEEP):
                m.d.sync += [
                    full.bit_select(dec_slot, 1).eq(1),
                    missing.bit_select(dec_slot, 1).eq(dec_lost),
                    counts[dec_slot].eq(dec_count),
                ]
            with m.Elif(dec_verdict == _Copy.OUTSIDE):
                m.d.sync += self.outside.eq(self.outside + 1)
            with m.Else():
                m.d.sync += self.duplicates.eq(self.duplicates + 1)

        # Sifting of message `ack` from slot ack % window.
        cur = nxt[:sbits]
        state = Signal(_Sift)
        sent = Signal(COUNT_BITS)  # entries of the message already offered
        entries = Signal(data.ArrayLayout(ENTRY_BITS, ENTRIES_PER_WORD))
        in_word = Signal(range(ENTRIES_PER_WORD + 1))
        # `record_in` enters a register first: the record store is a block RAM (4.3 ns
        # clock-to-out), and the frame compares below must not start from its outputs.
        rec_valid = Signal()
        rec = Signal(Report)
        rec_frame = rec.pulse[offset_bits:]
        out_free = ~self.record.valid & ~self.entry.valid
        with m.If(self.record.valid & self.record.ready):
            m.d.sync += self.record.valid.eq(0)
        with m.If(self.entry.valid & self.entry.ready):
            m.d.sync += self.entry.valid.eq(0)
        m.d.comb += [
            intake.raddr.eq(Cat((sent >> (ENTRIES_PER_WORD.bit_length() - 1))[:wbits], cur)),
            intake.ren.eq(state == _Sift.FETCH),
        ]
        # The block RAM's output goes straight into a register with no other load (`raw`, one
        # cycle: `PIPE`), which the placer keeps next to the RAM: its 4.26 ns clock-to-out plus
        # the routing to `entries` left no time for the load enable at 156.25 MHz.
        raw = Signal(32)
        m.d.sync += raw.eq(intake.rdata)

        def offer(code) -> list:
            return [
                self.record.valid.eq(1), self.record.payload.eq(rec),
                self.entry.valid.eq(1), self.entry.payload.as_value().eq(code),
            ]

        # Slot `cur`'s flags and count, registered: the 8-way selects by `ack` end here, not in
        # the sifting decisions that move `ack`. After `ack` moves they are one cycle stale, and
        # `fresh` says so.
        cur_full, cur_missing, cur_zero, fresh = Signal(), Signal(), Signal(), Signal()
        cur_count = Signal(COUNT_BITS)
        m.d.sync += [
            cur_full.eq(full.bit_select(cur, 1)),
            cur_missing.eq(missing.bit_select(cur, 1)),
            cur_count.eq(counts[cur]),
            cur_zero.eq(counts[cur] == 0),
            fresh.eq(1),
        ]

        def finish() -> list:
            return [full.bit_select(cur, 1).eq(0), nxt.eq(nxt + 1), window_end.eq(window_end + 1),
                    fresh.eq(0), settled.eq(0), state.eq(_Sift.WAIT)]

        # Registered helpers that keep the carry chains short: `closed - 1` (one cycle late,
        # so never too high: `closed` only grows) and the message's last entry index.
        closed_m1 = Signal(32)
        m.d.sync += closed_m1.eq(Mux(self.closed == 0, 0, self.closed - 1))
        last_entry = Signal(COUNT_BITS)
        ready_here = Signal()  # the registered record is used this cycle
        m.d.comb += self.record_in.ready.eq(~rec_valid | ready_here)
        # The end-of-missing-message compares, registered (carry chains from `ack` must not
        # reach `ack`'s own enable): valid when neither `rec` nor `ack` moved in the cycle
        # before (`settled`); `closed` only grows, so a cycle-old `closed_past` is never early.
        rec_later, closed_past, settled = Signal(), Signal(), Signal()
        m.d.sync += [rec_later.eq(rec_frame > nxt), closed_past.eq(closed_m1 > nxt),
                     settled.eq(fresh)]
        with m.If(self.record_in.valid & self.record_in.ready):
            m.d.sync += [rec_valid.eq(1), rec.eq(self.record_in.payload), settled.eq(0)]
        with m.Elif(ready_here):
            m.d.sync += rec_valid.eq(0)
        with m.Switch(state):
            with m.Case(_Sift.WAIT), m.If(fresh & cur_full):
                m.d.sync += [sent.eq(0), in_word.eq(0), last_entry.eq(cur_count - 1)]
                with m.If(cur_missing):
                    m.d.sync += state.eq(_Sift.EMIT)
                with m.Elif(cur_zero):
                    m.d.sync += finish()
                with m.Else():
                    m.d.sync += state.eq(_Sift.FETCH)
            with m.Case(_Sift.FETCH):
                m.d.sync += state.eq(_Sift.PIPE)
            with m.Case(_Sift.PIPE):
                m.d.sync += state.eq(_Sift.LOAD)
            with m.Case(_Sift.LOAD):
                m.d.sync += [entries.eq(raw), in_word.eq(0), state.eq(_Sift.EMIT)]
            with m.Case(_Sift.EMIT):
                with m.If(cur_missing & ~settled):
                    pass  # `rec` or `ack` moved: the registered compares are a cycle old
                with m.Elif(cur_missing):
                    # Frame closed == nxt + 2: all of frame nxt's records passed the store.
                    later = rec_valid & rec_later
                    drained = ~rec_valid & ~self.record_in.valid & closed_past
                    with m.If(later | drained):
                        m.d.sync += finish()
                    with m.Elif(rec_valid & out_free):
                        m.d.comb += ready_here.eq(1)
                        m.d.sync += offer(int(SiftCode.MISSING))
                        with m.If(rec_frame != nxt):
                            m.d.sync += self.mismatch.eq(self.mismatch + 1)
                with m.Elif(rec_valid & out_free):
                    m.d.comb += ready_here.eq(1)
                    top = ENTRIES_PER_WORD - 1 - in_word
                    m.d.sync += [
                        *offer(entries[top.as_unsigned()[:3]]),
                        sent.eq(sent + 1),
                        in_word.eq(in_word + 1),
                    ]
                    with m.If(rec_frame != nxt):
                        m.d.sync += self.mismatch.eq(self.mismatch + 1)
                    with m.If(sent == last_entry):
                        m.d.sync += finish()
                    with m.Elif(in_word == ENTRIES_PER_WORD - 1):
                        m.d.sync += state.eq(_Sift.FETCH)
        return m
