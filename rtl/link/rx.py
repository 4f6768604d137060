r"""Link PHY receiver: :class:`~rtl.link.aligner.BlockAligner` then
:class:`~rtl.link.deframer.Deframer`::

    i (34 received bits per beat, any offset) --> BlockAligner --blocks--> Deframer --> o, sync
                                                   locked, offset,          messages, aborted,
                                                   locks, lock_losses,      stray, bad_controls,
                                                   slips, bad_headers       overrun

Bit-exact with :func:`models.link.receiver.receive` (every beat, sync word and counter; the
model has no ``overrun``: it assumes a consumer that keeps up).

Latency, throughput
-------------------
One received beat per cycle, no backpressure on ``i`` (the line does not wait).
A SYNC block completed by the beat of cycle ``c`` is on ``sync`` in cycle ``c + 2``; a block
completed in cycle ``c`` puts the word it releases on ``o`` from cycle ``c + 2`` (registered
block, FIFO). A message word is released by the block after it (held until that block says
whether it is the last): END releases the last word with ``last``.
"""

from amaranth.hdl import Module
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from models.link.line_code import BLOCK_BITS
from models.link.receiver import COUNTERS, DEFAULT_RX, RxConfig
from rtl.common.forward import forward_member
from rtl.link.aligner import ALIGNER_COUNTERS, COUNTER_WIDTH, BlockAligner
from rtl.link.deframer import DEFRAMER_COUNTERS, Deframer
from rtl.link.layouts import RxWord, SyncWord

_ALIGNER_OUT = ("locked", "offset", *ALIGNER_COUNTERS)
_DEFRAMER_OUT = ("o", "sync", *DEFRAMER_COUNTERS)
RX_COUNTERS = (*COUNTERS, "overrun", "sync_dropped")
"""Counters of :class:`PhyRx`: the model's, then the two that depend on the consumer."""


class PhyRx(wiring.Component):
    """Receiver of the link PHY (see the module docstring).

    Members
    -------
    i : In(stream.Signature(34))
        Received bits, bit 0 first, any bit offset; always ready.
    o : Out(stream.Signature(RxWord)); sync : Out(stream.Signature(SyncWord))
        Message words and sync counters (:class:`~rtl.link.deframer.Deframer`).
    locked, offset, and the counters :data:`RX_COUNTERS` : Out
    """

    def __init__(self, config: RxConfig = DEFAULT_RX, depth: int = 16) -> None:
        self._aligner = BlockAligner(config)
        self._deframer = Deframer(depth)  # checks ``depth`` here, not at elaboration
        super().__init__({
            "i": In(stream.Signature(BLOCK_BITS)),
            "o": Out(stream.Signature(RxWord)),
            "sync": Out(stream.Signature(SyncWord)),
            "locked": Out(1),
            "offset": Out(range(BLOCK_BITS)),
            **{name: Out(COUNTER_WIDTH) for name in RX_COUNTERS},
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.aligner = aligner = self._aligner
        m.submodules.deframer = deframer = self._deframer
        forward_member(m, self, aligner, "i")
        wiring.connect(m, aligner.o, deframer.i)
        for name in _ALIGNER_OUT:
            forward_member(m, self, aligner, name)
        for name in _DEFRAMER_OUT:
            forward_member(m, self, deframer, name)
        return m
