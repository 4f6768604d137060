r"""Message ring of the link senders: ring memory, look-ahead read, output register, CRC trailer.

Overview
--------
Both link senders (:class:`~rtl.sifting.sift_sender.SiftSender` on the satellite,
:class:`~rtl.sifting.uplink_framer.UplinkFramer` on the ground) build messages word by word into
a ring of ``depth`` 32-bit words and send them, possibly several times, from there. The part they
share is this component: the ring (block RAM) with its write pointer and fill check, a read port
that runs two words ahead of the output, the output register and the
:class:`~rtl.sifting.crc_append.CrcAppender` that closes every message with its CRC word. Where
messages start and end (the message descriptors) and which message is sent when stay in the
blocks: the satellite keeps a random-access table (messages are resent from the oldest
unacknowledged one), the ground a FIFO of closed frames.

Design
------
Every path into a block RAM input starts at a register, and the RAM's output goes straight into
a register with no other load (``ahead``), for timing at 156.25 MHz on ECP5 (``docs/timing.md``):

* the write is registered: ``write``/``wdata`` of cycle t reach the RAM at t+1, at address
  ``wp`` of cycle t (``wp`` counts up with ``write``);
* ``room`` is registered and keeps one word of headroom: a value one cycle old is still safe,
  since at most one word is written per cycle and ``tail`` never moves back;
* the read address ``raddr`` is the user's register (no adder in front of the RAM); the read port
  (``transparent_for=()``) and ``ahead`` move together with ``advance``, so while ``o`` stalls they
  hold the next two words. ``fetch`` reads once more without moving ``ahead`` (to prime the port).

The ring has ``no_rw_check``: a read of the word being written in the same cycle is never used
by either sender, so Yosys need not emulate the non-transparent read behind the block RAM.
``room_next`` (``room`` of the next cycle) lets a user keep a ready flag that depends on it as a
register of its own (the satellite sender's ``frame.ready``); :func:`below` keeps the fill
compare out of carry chains.

Ports, latency and throughput: :class:`MessageRing`.
"""

from typing import Any

from amaranth.hdl import Module, Signal, Value
from amaranth.lib import memory, stream, wiring
from amaranth.lib.wiring import In, Out

from rtl.common.streams import output_register
from rtl.sifting.crc_append import CrcAppender, MessageWord


def ring_pointer_bits(depth: int) -> int:
    """Bits of a ring pointer: the ring index plus one wrap bit (``wp - tail`` is the fill)."""
    return (depth - 1).bit_length() + 1


def below(value: Value, bound: int) -> Value:
    """``value < bound`` (unsigned). For ``bound = 2**k - 1`` as LUT logic (upper bits all zero,
    lower ``k`` bits not all one) rather than a compare carry chain behind the adder that
    usually computes ``value``."""
    k = (bound + 1).bit_length() - 1
    if bound + 1 == 1 << k and k <= len(value):
        return (value[k:] == 0) & ~value[:k].all()
    return value < bound


def add_message_ring(m: Module, depth: int, o: Any) -> "MessageRing":
    """A :class:`MessageRing` of ``depth`` words as submodule ``ring`` of ``m``, its ``o``
    driving the block's output stream ``o``."""
    m.submodules.ring = ring = MessageRing(depth)
    wiring.connect(m, ring.o, wiring.flipped(o))
    return ring


class MessageRing(wiring.Component):
    r"""Ring of ``depth`` 32-bit words with a look-ahead read and a CRC-appending output.

    Latency, throughput
    -------------------
    A write reaches the block RAM one cycle later, so a word can be read from two cycles after
    its ``write``. A read of ``raddr`` in a cycle with ``advance`` is in ``ahead`` after the next
    cycle with ``advance``. ``push`` is taken in a cycle with ``advance`` only; the word is on
    ``o`` two cycles later when ``o`` is ready, the CRC word in the cycle after a message's
    ``last`` word. ``advance`` is low while the CRC word goes out, so the ring sends one word
    per cycle plus one per message; ``o`` may stall for any time
    (``tests/sifting/test_message_ring.py`` checks all of this against a reference)::

        cycle     0    1    2    3    4    5    6    7
        raddr     a    a+1  a+2                            (advance high throughout)
        ahead               W[a] W+1  W+2
        push                1    1    1*                   (* word.last)
        o.data                        W[a] W+1  W+2  crc*  (* o.last)

    Members
    -------
    write, wdata : In
        Append ``wdata`` at ``wp`` (registered: in the RAM one cycle later).
    wp : Out
        Write pointer (:func:`ring_pointer_bits` bits, wraps).
    tail : In
        Oldest word still needed; ``room`` is ``wp - tail <= depth - 2``, registered.
    room : Out
        A word may be written this cycle.
    room_next : Out
        ``room`` of the next cycle (combinational, from this cycle's ``wp`` and ``tail``).
    raddr, fetch : In
        Read address (its low bits index the ring); the port reads on ``advance | fetch``
        (``fetch``: read while ``ahead`` holds, to prime an empty pipeline).
    ahead : Out
        The look-ahead register, loaded from the read port on ``advance``.
    advance : Out
        The output register is empty or being taken: ``push`` is taken, ``ahead`` moves.
    push, word : In
        Load ``word`` (:data:`~rtl.sifting.crc_append.MessageWord`) into the output register.
    o : Out(stream.Signature(MessageWord))
        The pushed words, each message (``last``) followed by its CRC word (``last``).
    """

    def __init__(self, depth: int) -> None:
        if depth < 2:
            raise ValueError(f"MessageRing: depth={depth} must be >= 2")
        self._depth = depth
        ptr_bits = ring_pointer_bits(depth)
        super().__init__({
            "write": In(1),
            "wdata": In(32),
            "wp": Out(ptr_bits),
            "tail": In(ptr_bits),
            "room": Out(1),
            "room_next": Out(1),
            "raddr": In(ptr_bits),
            "fetch": In(1),
            "ahead": Out(32),
            "advance": Out(1),
            "push": In(1),
            "word": In(MessageWord),
            "o": Out(stream.Signature(MessageWord)),
        })

    def elaborate(self, platform):
        m = Module()
        abits = (self._depth - 1).bit_length()
        ptr_bits = abits + 1
        m.submodules.ring = ring = memory.Memory(shape=32, depth=self._depth, init=[],
                                                 attrs={"no_rw_check": 1})
        wr = ring.write_port()
        rd = ring.read_port()
        m.submodules.crc = crc = CrcAppender()
        wiring.connect(m, crc.o, wiring.flipped(self.o))

        m.d.sync += [
            wr.addr.eq(self.wp[:abits]),
            wr.data.eq(self.wdata),
            wr.en.eq(self.write),
            self.wp.eq(self.wp + self.write),
            self.room.eq(self.room_next),
        ]
        m.d.comb += self.room_next.eq(below((self.wp - self.tail)[:ptr_bits], self._depth - 1))

        advance = Signal()
        with m.If(advance):
            m.d.sync += self.ahead.eq(rd.data)
        m.d.comb += [
            advance.eq(output_register(m, crc.i)),
            self.advance.eq(advance),
            rd.en.eq(advance | self.fetch),
            rd.addr.eq(self.raddr),
        ]
        with m.If(advance & self.push):
            m.d.sync += [crc.i.valid.eq(1), crc.i.payload.eq(self.word)]
        return m
