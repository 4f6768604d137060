r"""Block alignment and lock of the link PHY receiver, with the descrambler.

Overview
--------
The deserialiser gives 34 received bits per beat at an unknown bit offset from the blocks. The
candidate block is the 34 bits at ``offset`` in the window of the previous and the current
beat (``offset`` 0..33). Hunting: ``lock_good`` valid sync headers in a row lock; an invalid
one restarts the count and moves ``offset`` one bit on (33 to 0 takes the next beat's block:
one bit later either way). Locked: every block goes out; the ``lock_bad``-th invalid header
inside a ``window``-block window loses lock and hunting goes on from the same offset. The rules,
the counters and their edges are those of :func:`models.link.receiver.receive`.

Design
------
The descrambler runs on every candidate block, locked or not, so that after the ``lock_good``
(>= 2) blocks that lock, its 58-bit history holds bits of the current alignment: the first
delivered block descrambles right. The header check and the lock update are one cycle (the
802.3 block lock loop): a slip applies to the very next beat.

The header check does not wait for the 34-way offset select of the beat. Both header bits of
offsets 0..32 are in the previous beat, so a beat's check at the offset the next beat will use
(the same one, or one on after a slip) is taken from the beat itself when it is registered
(``ahead``); only offset 33 takes its second bit from the next beat. The check of a beat is then
one LUT deep on registers and one input bit, and the lock update follows it in the same cycle.
The counters count registered events, one cycle after the beat: a counter sits with the
register chain that reads it, away from the lock logic, and that route gets a cycle of its own.

``cdr_lock`` is the CDR's lock pin in this domain (already synchronised; high when left
unconnected): a beat with it low is taken as a block with an invalid header (header ``00`` on
``o`` while locked, so that the deframer cuts an open message) and loses a lock at once, as
802.3's PCS waits for the PMA's signal before it hunts.

Latency, throughput
-------------------
One beat per cycle, never stalls (``i`` and ``o`` have no backpressure: the line does not
wait). The block of the beat in cycle ``c`` is on ``o``, and ``locked`` and ``offset`` after it
are out, in cycle ``c + 1``; the counters count it in cycle ``c + 2``.

Members
-------
i : In(stream.Signature(34))
    Received bits, bit 0 first; always ready.
o : Out(stream.Signature(Block))
    Descrambled blocks while locked (header as received: invalid ones included); its ``ready``
    is not looked at (the consumer is always ready).
cdr_lock : In(1, init=1)
    The CDR's lock pin, synchronised to this domain.
locked, offset : Out
    Lock status and the current bit offset.
locks, lock_losses, slips, bad_headers : Out(32)
    Locks acquired; locks lost; locks at another offset than the previous lock (re-alignments
    after a bit slip); invalid headers while locked.
"""

from collections.abc import Sequence

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from models.link.line_code import BLOCK_BITS, HISTORY_BITS
from models.link.receiver import DEFAULT_RX, RxConfig
from rtl.link.layouts import Block
from rtl.link.scrambler import descramble

COUNTER_WIDTH = 32
ALIGNER_COUNTERS = ("locks", "lock_losses", "slips", "bad_headers")


def registered_counters(m: Module, owner: wiring.Component, names: Sequence[str]
                        ) -> dict[str, Signal]:
    """One event flip-flop per counter ``names`` of ``owner`` (low unless set in the cycle) and
    the counter counting it one cycle later: the counter's adder sits with the registers that
    read it, away from the logic that decides the event."""
    events = {name: Signal(name=f"{name}_event") for name in names}
    for name, event in events.items():
        counter = getattr(owner, name)
        m.d.sync += event.eq(0)
        with m.If(event):
            m.d.sync += counter.eq(counter + 1)
    return events


class BlockAligner(wiring.Component):
    """Alignment, lock and descrambling (see the module docstring)."""

    def __init__(self, config: RxConfig = DEFAULT_RX) -> None:
        self._config = config
        super().__init__({
            "i": In(stream.Signature(BLOCK_BITS)),
            "o": Out(stream.Signature(Block)),
            "cdr_lock": In(1, init=1),
            "locked": Out(1),
            "offset": Out(range(BLOCK_BITS)),
            **{name: Out(COUNTER_WIDTH) for name in ALIGNER_COUNTERS},
        })

    def elaborate(self, platform):
        cfg = self._config
        m = Module()
        prev = Signal(BLOCK_BITS)
        history = Signal(HISTORY_BITS)
        good = Signal(range(cfg.lock_good))
        blocks = Signal(range(cfg.window))
        bad = Signal(range(cfg.lock_bad))
        has_locked = Signal()
        last_lock = Signal.like(self.offset)
        # The header check of the next beat, read from this beat ahead of time (module docstring)
        ahead = Signal()
        at_last = Signal()  # offset == BLOCK_BITS - 1: the header's second bit is in the beat
        events = registered_counters(m, self, ALIGNER_COUNTERS)

        block = Cat(prev, self.i.payload).bit_select(self.offset, BLOCK_BITS)
        header = Mux(self.cdr_lock, block[:2], 0)
        body, after = descramble(block[2:], history)
        # a valid header (HEADER_DATA, HEADER_CONTROL) is 10 or 01: its two bits differ
        valid = self.cdr_lock & Mux(at_last, prev[-1] ^ self.i.payload[0], ahead)
        diffs = self.i.payload[:-1] ^ self.i.payload[1:]  # header check at offsets 0..32
        slip = ~self.locked & ~valid
        ahead_same = Cat(diffs, Const(0, 1)).bit_select(self.offset, 1)
        # at offset + 1 (offset 32 goes to 33, which does not read ``ahead``; 33 wraps to 0)
        ahead_next = Cat(diffs[1:], Const(0, 1), diffs[0]).bit_select(self.offset, 1)
        offset_next = Signal.like(self.offset)
        m.d.comb += offset_next.eq(Mux(self.offset == BLOCK_BITS - 1, 0, self.offset + 1))

        m.d.comb += self.i.ready.eq(1)
        m.d.sync += self.o.valid.eq(0)
        with m.If(self.i.valid):
            m.d.sync += [prev.eq(self.i.payload), history.eq(after),
                         ahead.eq(Mux(slip, ahead_next, ahead_same))]
            with m.If(self.locked):
                m.d.sync += [self.o.valid.eq(1), self.o.payload.header.eq(header),
                             self.o.payload.body.eq(body), events["bad_headers"].eq(~valid)]
                with m.If(~self.cdr_lock | (~valid & (bad == cfg.lock_bad - 1))):
                    m.d.sync += [self.locked.eq(0), blocks.eq(0), bad.eq(0),
                                 events["lock_losses"].eq(1)]
                with m.Elif(blocks == cfg.window - 1):
                    m.d.sync += [blocks.eq(0), bad.eq(0)]
                with m.Else():
                    m.d.sync += [blocks.eq(blocks + 1), bad.eq(bad + ~valid)]
            with m.Elif(~valid):
                m.d.sync += [good.eq(0), self.offset.eq(offset_next),
                             at_last.eq(self.offset == BLOCK_BITS - 2)]
            with m.Elif(good == cfg.lock_good - 1):
                m.d.sync += [self.locked.eq(1), good.eq(0), has_locked.eq(1),
                             last_lock.eq(self.offset), events["locks"].eq(1),
                             events["slips"].eq(has_locked & (last_lock != self.offset))]
            with m.Else():
                m.d.sync += good.eq(good + 1)
        return m
