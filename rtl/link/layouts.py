"""Stream payloads of the link PHY (``docs/link.md``), LSB first like the models.

PHY stream contract:

* transmitter in: ``msg``, :data:`~rtl.sifting.crc_append.MessageWord` (the link layer's
  32-bit words, ``last`` on a message's final word; a message has at least one word and its
  source may pause inside it) and ``sync``, :data:`SyncWord` (a sync request, sent in the next
  block whatever else waits);
* line: :data:`Block` ``(header, body)``, 34 bits, bit 0 sent first
  (:mod:`models.link.line_code`); the receiver takes raw 34-bit words at any bit offset;
* receiver out: ``o``, :data:`RxWord` (``last`` ends every delivered message, ``abort`` with it
  marks a message cut on the line) and ``sync``, :data:`SyncWord` (a one-cycle pulse at a fixed
  latency after its block: the ground's time reference, so it has no backpressure).
"""

from amaranth.lib import data

from models.link.line_code import ARG_BITS, BLOCK_BITS, BODY_BITS, HEADER_BITS

Block = data.StructLayout({"header": HEADER_BITS, "body": BODY_BITS})
assert Block.size == BLOCK_BITS

SyncWord = data.StructLayout({"counter": ARG_BITS})

RxWord = data.StructLayout({"data": BODY_BITS, "last": 1, "abort": 1})
