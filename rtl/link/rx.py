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

Recovered clock (``rx_domain``)
-------------------------------
With ``rx_domain`` set (e.g. ``"rxrec"``), aligner and deframer run in that domain, clocked by
the CDR's recovered block clock (one received word per cycle, as the deserialiser gives them),
and everything else of the receiver is in ``sync`` (the receiving FPGA's fabric). The
crossings, all into ``sync``:

* ``o``: the deframer's FIFO drains into an :class:`~amaranth.lib.fifo.AsyncFIFO` of
  ``cross_depth`` words; a stalled consumer fills both, then the deframer's overrun rule applies.
  The FIFO adds its pointer synchroniser to the latency: a word is on ``o`` about two fabric
  cycles plus one cycle of each clock later than in one clock;
* ``sync``: an ``AsyncFIFO`` of 4 counters (a counter that finds it full counts in
  ``sync_dropped``); its latency varies by a fabric cycle with the clocks' phase;
* ``locked``: :class:`~amaranth.lib.cdc.FFSynchronizer` (one bit);
* ``offset`` and the counters: a snapshot of all of them written into a 4-deep ``AsyncFIFO``
  whenever it has room and read every fabric cycle, so they are one consistent set a few cycles
  old (never a torn multi-bit value);
* ``cdr_lock``, the CDR's lock pin (asynchronous), through an ``FFSynchronizer`` to
  ``cdr_locked``; ``cdr_lock_losses`` counts its falling edges in ``sync``.

The pin also reaches the aligner through an ``FFSynchronizer`` into ``rx_domain`` (two
recovered cycles): nothing locks while the CDR is out of lock, and a lock ends the word the pin
drops (:class:`~rtl.link.aligner.BlockAligner`). A CDR out of lock slips bits every few blocks,
and a block lock that caught a run of valid headers between two slips would deliver garbage.
"""

from amaranth.hdl import Cat, DomainRenamer, Module, Signal, Value
from amaranth.lib import cdc, fifo, stream, wiring
from amaranth.lib.wiring import In, Out

from models.link.line_code import BLOCK_BITS
from models.link.receiver import COUNTERS, DEFAULT_RX, RxConfig
from rtl.common.forward import forward_member
from rtl.link.aligner import ALIGNER_COUNTERS, COUNTER_WIDTH, BlockAligner
from rtl.link.deframer import DEFRAMER_COUNTERS, Deframer
from rtl.link.layouts import RxWord, SyncWord

SYNC_CROSS_DEPTH = 4
STATUS_CROSS_DEPTH = 4

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
    cdr_lock : In(1); cdr_locked, cdr_lock_losses : Out
        Only with ``rx_domain``: the CDR's lock pin and its status (module docstring).

    Parameters
    ----------
    rx_domain:
        None: one clock (``sync``) for everything. A domain name: ``i`` and the receiver run
        in it, the other members are in ``sync`` (module docstring).
    cross_depth:
        Words of the ``o`` crossing (``rx_domain`` only; a power of two >= 2).
    """

    def __init__(self, config: RxConfig = DEFAULT_RX, depth: int = 16,
                 rx_domain: str | None = None, cross_depth: int = 8) -> None:
        if rx_domain == "sync":
            raise ValueError("PhyRx: rx_domain='sync' is the fabric domain; use None for one "
                             "clock")
        if rx_domain is not None and (cross_depth < 2 or cross_depth & (cross_depth - 1)):
            raise ValueError(f"PhyRx: cross_depth={cross_depth} must be a power of two >= 2")
        self._rx_domain = rx_domain
        self._cross_depth = cross_depth
        self._aligner = BlockAligner(config)
        self._deframer = Deframer(depth)  # checks ``depth`` here, not at elaboration
        cdr = {} if rx_domain is None else {
            "cdr_lock": In(1), "cdr_locked": Out(1), "cdr_lock_losses": Out(COUNTER_WIDTH)}
        super().__init__({
            "i": In(stream.Signature(BLOCK_BITS)),
            "o": Out(stream.Signature(RxWord)),
            "sync": Out(stream.Signature(SyncWord)),
            "locked": Out(1),
            "offset": Out(range(BLOCK_BITS)),
            **{name: Out(COUNTER_WIDTH) for name in RX_COUNTERS},
            **cdr,
        })

    def elaborate(self, platform):
        if self._rx_domain is not None:
            return self._elaborate_crossing()
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

    def _elaborate_crossing(self) -> Module:
        rx = self._rx_domain
        m = Module()
        m.submodules.aligner = aligner = DomainRenamer(rx)(self._aligner)
        m.submodules.deframer = deframer = DomainRenamer(rx)(self._deframer)
        forward_member(m, self, aligner, "i")
        wiring.connect(m, aligner.o, deframer.i)

        m.submodules.words = _cross_stream(m, deframer.o, self.o, self._cross_depth, rx)
        m.submodules.syncs = _cross_stream(m, deframer.sync, self.sync, SYNC_CROSS_DEPTH, rx)

        m.submodules.locked = cdc.FFSynchronizer(aligner.locked, self.locked)

        # offset and every counter in one snapshot, so that no multi-bit value is read torn
        fields = [self.offset, *(getattr(self, name) for name in RX_COUNTERS)]
        snapshot = Cat(aligner.offset, *(
            getattr(aligner if name in ALIGNER_COUNTERS else deframer, name)
            for name in RX_COUNTERS))
        m.submodules.status = status = fifo.AsyncFIFO(
            width=len(snapshot), depth=STATUS_CROSS_DEPTH, w_domain=rx, r_domain="sync")
        held = Signal(len(snapshot))
        m.d.comb += [status.w_data.eq(snapshot), status.w_en.eq(status.w_rdy),
                     status.r_en.eq(1), Cat(*fields).eq(held)]
        with m.If(status.r_rdy):
            m.d.sync += held.eq(status.r_data)

        m.submodules.cdr_rx = cdc.FFSynchronizer(self.cdr_lock, aligner.cdr_lock, o_domain=rx)
        cdr_locked = Signal()
        m.submodules.cdr = cdc.FFSynchronizer(self.cdr_lock, cdr_locked)
        was_locked = Signal()
        m.d.sync += was_locked.eq(cdr_locked)
        m.d.comb += self.cdr_locked.eq(cdr_locked)
        with m.If(was_locked & ~cdr_locked):
            m.d.sync += self.cdr_lock_losses.eq(self.cdr_lock_losses + 1)
        return m


def _cross_stream(m: Module, source: stream.Interface, sink: stream.Interface, depth: int,
                  w_domain: str) -> fifo.AsyncFIFO:
    """An ``AsyncFIFO`` from ``source`` (in ``w_domain``) to ``sink`` (in ``sync``), for the
    caller to add as a submodule."""
    buf = fifo.AsyncFIFO(width=Value.cast(source.payload).shape().width, depth=depth,
                         w_domain=w_domain, r_domain="sync")
    m.d.comb += [buf.w_data.eq(source.payload), buf.w_en.eq(source.valid),
                 source.ready.eq(buf.w_rdy),
                 sink.valid.eq(buf.r_rdy), sink.payload.eq(buf.r_data), buf.r_en.eq(sink.ready)]
    return buf
