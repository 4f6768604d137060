"""Sync-strobe join (SPEC 4.0, 4.1), bit-exact with :func:`models.ground.sync_join.run_join`.

Overview
--------
``events`` (the sync detector's frame events: frame counter ``k``) and ``strobes`` (the TDC's
calibrated sync-channel tags: the strobe's time, no ``k``) -> ``o``: one channel-4 tag
``(t_k, k)`` per event whose window holds exactly one strobe. The window of an event accepted at
cycle ``e`` is ``now(e) + offset_ps +- tolerance_ps``; the rules (missing, ambiguous, extra,
timeout) are those of :mod:`models.ground.sync_join`.
"""

from amaranth.hdl import Module, Signal, signed
from amaranth.lib import data, enum, stream, wiring
from amaranth.lib.fifo import SyncFIFO
from amaranth.lib.wiring import In, Out

from models.ground.sync_join import SYNC_CHANNEL, JoinConfig
from rtl.common.streams import output_register
from rtl.ground.layouts import JoinWindow, Tag
from rtl.ground.sync import FrameEvent
from rtl.ground.tdc_merge import COUNTER_BITS, before

DEFAULTS = JoinConfig()


class Action(enum.Enum, shape=3):
    """What the join does in the odd cycle of a pair (decided in the even one)."""

    NONE = 0
    EXTRA = 1
    CANDIDATE = 2
    LOAD = 3
    CLOSE = 4


class HeadRegisterFIFO(wiring.Component):
    """First-word-fall-through FIFO of ``depth`` registers whose head is a flip-flop:
    :class:`amaranth.lib.fifo.SyncFIFO`'s ports and cycles (a word written at cycle ``c`` is
    readable from ``c + 1``; ``w_rdy`` is the level below ``depth`` at the start of the cycle,
    whatever is read in it), but ``r_data`` comes from a register, not through a RAM read, so
    the logic behind it has the whole cycle. A read shifts every entry down; a write goes to
    the first free entry after the shift. Latency 1 cycle, one word in and one out per cycle.

    Members
    -------
    w_data : In(width)
    w_en : In(1)
    w_rdy : Out(1)
    r_data : Out(width)
        The head (valid while ``r_rdy``).
    r_en : In(1)
    r_rdy : Out(1)
    """

    def __init__(self, width: int, depth: int) -> None:
        self._width, self._depth = width, depth
        super().__init__({"w_data": In(width), "w_en": In(1), "w_rdy": Out(1),
                          "r_data": Out(width), "r_en": In(1), "r_rdy": Out(1)})

    def elaborate(self, platform):
        m = Module()
        regs = [Signal(self._width, name=f"entry{i}") for i in range(self._depth)]
        level = Signal(range(self._depth + 1))
        read = self.r_en & (level != 0)
        write = self.w_en & (level != self._depth)
        after = level - read  # the level after this cycle's read: where a write goes
        for i, reg in enumerate(regs):
            with m.If(write & (after == i)):
                m.d.sync += reg.eq(self.w_data)
            with m.Elif(read):
                m.d.sync += reg.eq(regs[i + 1] if i + 1 < self._depth else 0)
        m.d.sync += level.eq(level + write - read)
        m.d.comb += [self.r_data.eq(regs[0]), self.r_rdy.eq(level != 0),
                     self.w_rdy.eq(level != self._depth)]
        return m


class SyncJoin(wiring.Component):
    """Frame events + sync-channel strobes -> ``(t_k, k)`` tags; missing, ambiguous, extra and
    overflowing ones counted, none joined to a wrong ``k``.

    Latency: an event is in its FIFO 2 cycles after it arrives; its tag leaves 2 cycles after
    the decision to close the window, i.e. 3 to 4 cycles after the first strobe later than the
    window is in its FIFO (or after the timeout ``now > stamp + offset_ps + tolerance_ps +
    strobe_lag_ps``). Throughput: one action per two cycles (decide in the even cycle, act in
    the odd one: open an event, take a strobe, close): an event with its strobe takes 6
    cycles; events come once per frame (16384 cycles).

    ::

        cycle     e      e+1     e+2      e+3    ...  c (even)   c+1          c+2
        events    (k)    window  in FIFO
        decide                   LOAD?                CLOSE?
        act                               open              close        o: (t_k, k)

        a strobe in its FIFO at an even c: decided at c (CANDIDATE), taken at c+1

    Stream contract: ``events`` and ``strobes`` are always ready (the event's stamp is its
    arrival cycle's ``now_ps``, so an event must not wait; a TDC channel cannot); a beat that
    finds its FIFO (``depth`` entries) full is dropped and counted in ``overflow``. ``o`` holds a
    tag until read; a stalled ``o`` stalls the join (the time tagger's merge never stalls it).
    Strobes must come in non-decreasing time and at most ``strobe_lag_ps`` after their time.

    Members
    -------
    events : In(stream.Signature(FrameEvent))
    strobes : In(stream.Signature(Tag))
        Only ``time`` is used.
    o : Out(stream.Signature(Tag))
        ``(time t_k, channel 4, frame k)``.
    now_ps : In(64)
        The coarse time of this cycle.
    offset_ps : In(signed(32)), tolerance_ps, strobe_lag_ps : In(32)
        Expected strobe time minus the event's stamp; half width of the window; the longest a
        strobe takes from its time to ``strobes``.
    missing, ambiguous, extra, overflow : Out(32)
        Events without a strobe; events with two or more; strobes in no event's window; beats
        dropped at a full FIFO (counters wrap at 2**32).
    """

    def __init__(self, depth: int = DEFAULTS.depth) -> None:
        JoinConfig(depth=depth)
        self._depth = depth
        super().__init__({
            "events": In(stream.Signature(FrameEvent)),
            "strobes": In(stream.Signature(Tag)),
            "o": Out(stream.Signature(Tag)),
            "now_ps": In(64),
            "offset_ps": In(signed(32), init=DEFAULTS.offset_ps),
            "tolerance_ps": In(32, init=DEFAULTS.tolerance_ps),
            "strobe_lag_ps": In(32, init=DEFAULTS.strobe_lag_ps),
            "missing": Out(COUNTER_BITS),
            "ambiguous": Out(COUNTER_BITS),
            "extra": Out(COUNTER_BITS),
            "overflow": Out(COUNTER_BITS),
        })

    def elaborate(self, platform):
        m = Module()
        depth = self._depth
        # the strobe FIFO's head goes into three 64-bit compares: a register, not a RAM read
        m.submodules.sfifo = sfifo = HeadRegisterFIFO(width=64, depth=depth)
        m.submodules.efifo = efifo = SyncFIFO(width=JoinWindow.size, depth=depth)
        head = data.View(JoinWindow, efifo.r_data)
        t = sfifo.r_data

        # Window offsets, registered (configuration is static while running).
        off_lo = Signal(signed(34))
        off_hi = Signal(signed(34))
        off_dl = Signal(signed(35))
        m.d.sync += [off_lo.eq(self.offset_ps - self.tolerance_ps),
                     off_hi.eq(self.offset_ps + self.tolerance_ps),
                     off_dl.eq(self.offset_ps + self.tolerance_ps + self.strobe_lag_ps)]
        # Earliest window start of an event not yet in its FIFO: now(c - 1) + offset - tolerance.
        eb = Signal(64)
        m.d.sync += eb.eq(self.now_ps + off_lo)

        # Strobes go straight into their FIFO; events get their window one cycle later.
        m.d.comb += [self.strobes.ready.eq(1), self.events.ready.eq(1),
                     sfifo.w_data.eq(self.strobes.payload.time),
                     sfifo.w_en.eq(self.strobes.valid)]
        ev_v = Signal()
        ev_frame = Signal.like(self.events.payload.frame)
        ev_stamp = Signal(64)
        m.d.sync += [ev_v.eq(self.events.valid), ev_frame.eq(self.events.payload.frame),
                     ev_stamp.eq(self.now_ps)]
        window = Signal(JoinWindow)
        m.d.comb += [window.frame.eq(ev_frame), window.lo.eq(ev_stamp + off_lo),
                     window.hi.eq(ev_stamp + off_hi), window.deadline.eq(ev_stamp + off_dl),
                     efifo.w_data.eq(window), efifo.w_en.eq(ev_v)]
        drops = (self.strobes.valid & ~sfifo.w_rdy) + (ev_v & ~efifo.w_rdy)
        m.d.sync += self.overflow.eq(self.overflow + drops)

        # The open event: frame, window, strobes seen in it (0, 1, 2 = two or more), the last.
        cur = Signal()
        cur_w = Signal(JoinWindow)
        seen = Signal(2)
        cand = Signal(64)

        free = output_register(m, self.o)

        # One action per two cycles: the state of an even cycle decides (FIFO heads, 64-bit
        # compares) into ``act``, the odd cycle acts (FIFO reads, counters, the open event),
        # so no path runs from a FIFO read through a compare back into the FIFO.
        phase = Signal()
        m.d.sync += phase.eq(~phase)
        act = Signal(Action)
        with m.If(phase):
            m.d.sync += act.eq(Action.NONE)
        with m.Elif(cur):
            with m.If(sfifo.r_rdy):
                with m.If(before(t, cur_w.lo)):
                    m.d.sync += act.eq(Action.EXTRA)
                with m.Elif(~before(cur_w.hi, t)):
                    m.d.sync += act.eq(Action.CANDIDATE)
                with m.Else():
                    m.d.sync += act.eq(Action.CLOSE)
            with m.Elif(before(cur_w.deadline, self.now_ps)):
                m.d.sync += act.eq(Action.CLOSE)
        with m.Elif(efifo.r_rdy):
            m.d.sync += act.eq(Action.LOAD)
        with m.Elif(sfifo.r_rdy & before(t, eb)):
            m.d.sync += act.eq(Action.EXTRA)

        with m.Switch(act):
            with m.Case(Action.EXTRA):
                m.d.comb += sfifo.r_en.eq(1)
                m.d.sync += self.extra.eq(self.extra + 1)
            with m.Case(Action.CANDIDATE):
                m.d.comb += sfifo.r_en.eq(1)
                m.d.sync += [cand.eq(t), seen.eq(seen + (seen != 2))]
            with m.Case(Action.LOAD):
                m.d.comb += efifo.r_en.eq(1)
                m.d.sync += [cur.eq(1), cur_w.eq(head), seen.eq(0)]
            with m.Case(Action.CLOSE):
                # A joined tag waits while the output is full (never in the time tagger: the
                # merge always takes it); the next decision closes again.
                with m.If(seen == 1), m.If(free):
                    m.d.sync += [self.o.valid.eq(1), self.o.payload.time.eq(cand),
                                 self.o.payload.channel.eq(SYNC_CHANNEL),
                                 self.o.payload.frame.eq(cur_w.frame), cur.eq(0)]
                with m.Elif(seen == 0):
                    m.d.sync += [self.missing.eq(self.missing + 1), cur.eq(0)]
                with m.Else():
                    m.d.sync += [self.ambiguous.eq(self.ambiguous + 1), cur.eq(0)]
        return m
