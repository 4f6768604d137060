r"""Ground uplink framer (SPEC 4.4): reports to uplink report frames, each repeated until the next.

Overview
--------
Reports (:data:`~rtl.sifting.layouts.Report`, ascending pulse index) are packed into uplink frame
``j`` when their pulse lies in ``[j P, (j+1) P)`` (``P = frame_pulses``), in the word format of
:func:`models.sifting.messages.encode_uplink`::

    0x55 << 24 | count,  seq = j,  ack,  (n - j P) << 3 | basis << 2 | sampled << 1 | bit & sampled,
    ..., CRC-32

Frame ``j`` closes when the ground's pulse time ``now`` reaches ``(j+1) P + close_lag`` (the lag
covers the reports still in the timing chain and :class:`~rtl.sifting.ground_report.GroundReport`)
or when a report of a later frame arrives; an empty frame is still a frame (it carries the ack, and
any sequence gap then means a lost frame). The sender sends the oldest closed frame not yet sent,
then repeats it, copy after copy, for as long as no newer frame has closed (at most
``max_repeats`` copies): the paper's "repeated until the next frame is ready". Each copy carries
the ``ack`` input of the moment its header goes out (next sift message the ground needs).

Every report placed in a frame is also forwarded on ``record`` (the ground keeps it for its own
sifting, :class:`~rtl.sifting.ground_sift.GroundSift`), so the ground sifts exactly what the
satellite may see. A report older than the frame being filled (only if ``close_lag`` is too
short) is dropped and counted in ``late`` (``late_step`` is high in the cycle the count has just
grown); never sent, never sifted on either side. ``closed``
counts the frames closed so far (frame ``closed`` is being filled).

Design
------
The frame words live in a :class:`~rtl.sifting.message_ring.MessageRing` of ``depth`` 32-bit
words (one EBR per 512 words): the frame being filled is appended behind the frame being sent,
whose words stay until the sender moves on. A full ring stalls ``report`` (the upstream FIFO then
counts overflows). Closed frames wait as end pointers in a 4-deep FIFO; while it is full, frames
do not close and ``report`` stalls. The sender reads the ring two words ahead, through the read
port and the ring's look-ahead register ``ahead`` (both hold while the link stalls), and pushes
the header words and ``ahead`` into the ring's output, whose
:class:`~rtl.sifting.crc_append.CrcAppender` appends the CRC word. The look-ahead register is
there for timing (``docs/timing.md``): the block RAM's clock-to-out (4.26 ns on ECP5-8) plus
routing left no time for the word multiplexer at 156.25 MHz. The read starts in the copy's
``seq`` cycle, so copies are not longer for it.

Stream contract, latency, throughput
------------------------------------
``report``: one per cycle while the ring has room and ``record`` is ready, less one cycle per
frame close (the staged report's frame compares are registered and redone). ``o``: one word per
cycle when ready; one idle cycle between copies, one for the CRC trailer. ``o`` and ``record``
may stall for any time. At the uplink's 156.25 Mbit/s (one word per 32 cycles) ``o`` is the
bottleneck by far; a copy of a ``c``-report frame is ``c + 4`` words::

    clk       _/‾\_/‾\_/‾\_/‾\_/‾\_/‾\_/‾\_/‾\_
    o.data      hdr seq ack r0  r1  crc     hdr   (o always ready; frame j, 2 reports)
    o.last      ____________________/‾‾\_______
"""

from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import enum, fifo, stream, wiring
from amaranth.lib.wiring import In, Out

from models.sifting.classical_link import SiftConfig
from models.sifting.messages import COUNT_BITS, MAX_OFFSET_BITS, UPLINK_TAG
from rtl.sifting.crc_append import MessageWord
from rtl.sifting.layouts import COUNTER_BITS, Report, check_sizes
from rtl.sifting.message_ring import add_message_ring, ring_pointer_bits

DESCRIPTOR_DEPTH = 4


class _Send(enum.Enum, shape=3):
    IDLE = 0
    COUNT = 1
    SEQ = 2
    ACK = 3
    BODY = 4


class UplinkFramer(wiring.Component):
    """Packs reports into uplink frames in a :class:`~rtl.sifting.message_ring.MessageRing`
    and sends each closed frame repeatedly until the next closes (see the module docstring).

    Latency, throughput: ``report`` one per cycle (less one cycle per frame close); ``o`` one word
    per cycle, one idle cycle between copies and one for the CRC word.

    Members
    -------
    report : In(stream.Signature(Report))
        Reports in ascending pulse order.
    now : In(64)
        The ground's pulse time; frame ``j`` closes when it reaches ``(j+1) P + close_lag``.
    ack : In(32)
        Written into each copy's header (next sift message the ground needs).
    o : Out(stream.Signature(MessageWord))
        Uplink frame copies, each with its CRC word.
    record : Out(stream.Signature(Report))
        Every report placed in a frame, for the ground's own sifting.
    late, late_step : Out
        Reports dropped as older than the frame being filled; ``late_step`` high the cycle
        ``late`` has grown.
    closed : Out(32)
        Frames closed so far.
    """

    report: In(stream.Signature(Report))
    now: In(64)
    ack: In(32)
    o: Out(stream.Signature(MessageWord))
    record: Out(stream.Signature(Report))
    late: Out(COUNTER_BITS)
    late_step: Out(1)
    closed: Out(32)

    def __init__(self, frame_pulses: int = SiftConfig.frame_pulses, depth: int = 8192,
                 max_repeats: int = SiftConfig.max_repeats, close_lag: int = 1024) -> None:
        check_sizes("UplinkFramer", frame_pulses=(frame_pulses, 2, 1 << MAX_OFFSET_BITS),
                    depth=(depth, 2, 1 << (COUNT_BITS - 1)))
        if max_repeats < 1 or close_lag < 0:
            raise ValueError(f"UplinkFramer: max_repeats={max_repeats} must be >= 1 and "
                             f"close_lag={close_lag} >= 0")
        self._p = frame_pulses
        self._depth = depth
        self._max_repeats = max_repeats
        self._close_lag = close_lag
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        # The sender reads closed frames; only the look-ahead past a frame's end may hit the
        # word being written, and that word is never used (the ring's `no_rw_check`).
        ring = add_message_ring(m, self._depth, self.o)
        ptr_bits = ring_pointer_bits(self._depth)
        offset_bits = (self._p - 1).bit_length()
        m.submodules.closed = closed = fifo.SyncFIFO(width=ptr_bits, depth=DESCRIPTOR_DEPTH)

        # Filling side. The ring holds [tail, wp): the frame being sent, closed frames, the frame
        # being filled.
        wp, room = ring.wp, ring.room
        tail = Signal(ptr_bits)
        m.d.comb += ring.tail.eq(tail)
        frame = Signal(64 - offset_bits)  # index of the frame being filled
        close_at = Signal(64, init=self._p + self._close_lag)
        # Input: a 2-deep FIFO made of two registers, `head` (the oldest report) and `second`
        # (`report.ready` = second place free), then a stage register `rep` whose frame compares
        # are registered flags (`fits`, `late`), computed when the report is loaded, so no
        # 50-bit compare sits between the frame index and the ring's write enable. The compares
        # read `head`, a register: a LUT RAM FIFO's read multiplexer in front of them was the
        # ground_sift critical path. Same cycles as a 2-deep `SyncFIFO` (a report written in
        # cycle t can be loaded in t+1). A close makes the flags stale (`fresh` low): they are
        # compared again the next cycle, one lost cycle per frame.
        head, second = Signal(Report), Signal(Report)
        head_valid, second_valid = Signal(), Signal()
        m.d.comb += self.report.ready.eq(~second_valid)
        put = self.report.valid & ~second_valid
        rep = Signal(Report)
        staged, fresh, fits, late = Signal(), Signal(), Signal(), Signal()
        # `room` is registered with one word of headroom (no path from `wp`/`tail` into the
        # input's read enable).
        valid = staged & fresh
        take = valid & (late | (fits & room & self.record.ready))
        load = (~staged | take) & head_valid
        incoming = head
        with m.If(load | ~head_valid):
            # `second` is only ever full behind a full `head`, and then `put` is low.
            m.d.sync += [
                head.eq(Mux(second_valid, second, self.report.payload)),
                head_valid.eq(second_valid | put),
                second_valid.eq(0),
            ]
        with m.Elif(put):
            m.d.sync += [second.eq(self.report.payload), second_valid.eq(1)]
        with m.If(take):
            m.d.sync += staged.eq(0)
        close = Signal()
        # Both reports compared in parallel, the choice after the compares (`load` is late).
        in_frame, rep_frame = incoming.pulse[offset_bits:], rep.pulse[offset_bits:]
        m.d.sync += [
            fresh.eq(~close),
            fits.eq(Mux(load, in_frame == frame, rep_frame == frame)),
            late.eq(Mux(load, in_frame < frame, rep_frame < frame)),
        ]
        with m.If(load):
            m.d.sync += [staged.eq(1), rep.eq(incoming)]
        # The ring write is registered (one cycle late: the input's decisions do not reach the
        # block RAM inputs). A frame's last word is in the ring cycles before the sender, which
        # starts on its end pointer from `closed` (pushed the cycle after the close), reads it.
        m.d.comb += [
            self.record.valid.eq(valid & fits & room),
            self.record.payload.eq(rep),
            ring.write.eq(self.record.valid & self.record.ready),
            ring.wdata.eq(Cat(rep.bit & rep.sampled, rep.sampled, rep.basis,
                              rep.pulse[:offset_bits])),
        ]
        with m.If(valid & late):
            m.d.sync += self.late.eq(self.late + 1)
        # High in the cycle `late` shows its new value: users count drops from this flag, not
        # from a 32-bit compare of the counter with its previous value.
        m.d.sync += self.late_step.eq(valid & late)

        # A report waiting on `record` keeps its frame open (its valid must not fall). The end
        # pointer goes into `closed` the cycle after the close, when `wp` counts every report
        # of the frame; meanwhile no second close.
        waiting = self.record.valid & ~self.record.ready
        due = (self.now >= close_at) | (valid & ~fits & ~late)
        push = Signal()
        m.d.comb += close.eq(due & closed.w_rdy & ~waiting & ~push)
        m.d.sync += push.eq(close)
        m.d.comb += [closed.w_en.eq(push), closed.w_data.eq(wp)]
        with m.If(close):
            m.d.sync += [
                self.closed.eq(self.closed + 1),
                frame.eq(frame + 1),
                close_at.eq(close_at + self._p),
            ]

        # Sending side: the current frame is [tail, end), sequence number seq.
        state = Signal(_Send)
        has_frame = Signal()
        seq = Signal(32, init=(1 << 32) - 1)
        end = Signal(ptr_bits)
        copies = Signal(range(self._max_repeats + 1))
        index = Signal(ptr_bits)
        # The frame's length, its last index and the read address are registers kept up to
        # date with `tail`, `end` and `index` (no subtract or add of pointers in the cycle that
        # uses them): count = end - tail, last = count - 1, raddr = tail + (index + 2 in BODY).
        count = Signal(ptr_bits)
        last = Signal(ptr_bits)
        empty = Signal(init=1)
        raddr = Signal(ptr_bits)
        m.d.comb += ring.raddr.eq(raddr)
        # Two words ahead: the block RAM's output goes straight into a register (`ring.ahead`;
        # the RAM's clock-to-out leaves no time for the word multiplexer behind it), and both
        # stages move only with `advance`, so they hold the next two body words while `o`
        # stalls.
        word = ring.word

        def push(data, last) -> list:
            return [ring.push.eq(1), word.data.eq(data), word.last.eq(last)]

        with m.If(ring.advance), m.Switch(state):
            with m.Case(_Send.IDLE):
                with m.If(closed.r_rdy):
                    m.d.comb += closed.r_en.eq(1)
                    length = (closed.r_data - end)[:ptr_bits]
                    m.d.sync += [
                        has_frame.eq(1),
                        seq.eq(seq + 1),
                        tail.eq(end),
                        end.eq(closed.r_data),
                        raddr.eq(end),
                        count.eq(length),
                        last.eq(length - 1),
                        empty.eq(length == 0),
                        copies.eq(0),
                        state.eq(_Send.COUNT),
                    ]
                with m.Elif(has_frame & (copies != self._max_repeats)):
                    m.d.sync += state.eq(_Send.COUNT)
            with m.Case(_Send.COUNT):
                m.d.comb += push(UPLINK_TAG << COUNT_BITS | count, 0)
                m.d.sync += state.eq(_Send.SEQ)
            with m.Case(_Send.SEQ):
                m.d.comb += push(seq, 0)
                m.d.sync += [raddr.eq(raddr + 1), state.eq(_Send.ACK)]
            with m.Case(_Send.ACK):
                m.d.comb += push(self.ack, empty)
                m.d.sync += index.eq(0)
                with m.If(empty):
                    m.d.sync += [copies.eq(copies + 1), raddr.eq(tail), state.eq(_Send.IDLE)]
                with m.Else():
                    m.d.sync += [raddr.eq(raddr + 1), state.eq(_Send.BODY)]
            with m.Case(_Send.BODY):
                final = index == last
                m.d.comb += push(ring.ahead, final)
                m.d.sync += [index.eq(index + 1), raddr.eq(raddr + 1)]
                with m.If(final):
                    m.d.sync += [copies.eq(copies + 1), raddr.eq(tail), state.eq(_Send.IDLE)]
        return m
