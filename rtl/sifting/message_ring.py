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

Stream contract, latency, throughput
------------------------------------
``push`` loads ``word`` into the output register; it is taken only in a cycle with ``advance``
(output register empty or being taken). Each word leaves on ``o`` one cycle after its push when
``o`` is ready (the CRC appender's cycle), the CRC word one cycle after the word with ``last``;
``advance`` is low while the appender sends the CRC word, so one word per cycle plus one per
message. ``o`` may stall for any time. A word read at ``raddr`` in cycle t is in ``ahead`` after
the next cycle with ``advance``::

    clk      _/‾\_/‾\_/‾\_/‾\_/‾\_/‾\_
    raddr      a   a+1 a+2 a+3           (advance high throughout)
    ahead              [a] [a+1] [a+2]
    push               ^   ^   ^ (last)  word = ahead
    o.data                 [a] [a+1] [a+2] crc

Members
-------
write, wdata : In
    Append ``wdata`` at ``wp`` (registered: in the RAM one cycle later).
wp : Out
    Write pointer (``ptr_bits = log2(depth) + 1`` bits, wraps).
tail : In
    Oldest word still needed; ``room`` is ``wp - tail <= depth - 2``, one cycle late.
room : Out
    The ring has room for a write this cycle.
raddr, fetch : In
    Read address (its low bits index the ring); the port reads on ``advance | fetch``.
ahead : Out
    The look-ahead register: the word read at the previous ``advance``.
advance : Out
    The output register is free this cycle (empty or being taken); ``push`` is taken.
push, word : In
    Load ``word`` (:data:`~rtl.sifting.crc_append.MessageWord`) into the output register.
o : Out stream(MessageWord)
    The messages with their CRC words.
"""

from amaranth.hdl import Module, Signal
from amaranth.lib import memory, stream, wiring
from amaranth.lib.wiring import In, Out

from rtl.sifting.crc_append import CrcAppender, MessageWord


def ring_pointer_bits(depth: int) -> int:
    """Bits of a ring pointer: the ring index plus one wrap bit (``wp - tail`` is the fill)."""
    return (depth - 1).bit_length() + 1


class MessageRing(wiring.Component):
    """Ring of ``depth`` 32-bit words with a look-ahead read and a CRC-appending output.

    Ports, latency and throughput: see the module docstring (one word per cycle in and out,
    plus one CRC word per message; a word leaves one cycle after its push).
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
            self.room.eq((self.wp - self.tail)[:ptr_bits] <= self._depth - 2),
        ]

        advance = Signal()
        m.d.comb += [
            advance.eq(~crc.i.valid | crc.i.ready),
            self.advance.eq(advance),
            rd.en.eq(advance | self.fetch),
            rd.addr.eq(self.raddr),
        ]
        with m.If(advance):
            m.d.sync += self.ahead.eq(rd.data)
        with m.If(crc.i.valid & crc.i.ready):
            m.d.sync += crc.i.valid.eq(0)
        with m.If(advance & self.push):
            m.d.sync += [crc.i.valid.eq(1), crc.i.payload.eq(self.word)]
        return m
