r"""The classical link on pins: link PHY (:mod:`rtl.link`) plus line serialiser and deserialiser.

Overview
--------
::

    msg, sync --> PhyTx --34-bit blocks--> AsyncFIFO (sync -> line) --> shift --> line_tx
    line_rx (line_rx_clk) --> 34-bit shift --> AsyncFIFO (line_rx -> sync) --> PhyRx --> rx

Transmit: the ``line`` domain (166.015625 MHz, :mod:`rtl.tops.clocks`) sends one 34-bit block
per 34 line cycles, i.e. one per 32 fabric cycles, taken from a 4-block clock-crossing FIFO
that :class:`rtl.link.tx.PhyTx` keeps full (its output waits on the FIFO's ``w_rdy``); a block
period that finds the FIFO empty (only after reset) sends 34 zeros, an invalid header the
receiver skips. The pin is a register of the ``line`` domain.

Receive: the receiving board's clock-and-data-recovery chip gives the recovered clock
(``line_rx_clk``, domain ``line_rx``) and the retimed data
(``line_rx``). Every 34 recovered bits go as one word, at whatever bit offset, through a
4-word FIFO to :class:`rtl.link.rx.PhyRx`, which finds the block boundary itself and is
always ready: the FIFO never fills while ``sync`` runs (a word per fabric cycle out, one per
32 cycles in).

``rx`` carries :data:`rtl.sifting.crc_append.MessageWord`: the deframer's ``abort`` flag is
dropped, since a cut message ends with ``last`` and fails the link layer's CRC check.

``msg`` and ``rx`` each go through a :class:`~rtl.common.streams.RegisterSlice`: their
``ready`` chains (the transmit FIFO's ``w_rdy`` through the PHY's output register to the sift
sender's ring; the consumer's ``ready`` to the deframer's FIFO) stop at a flip-flop instead of
crossing the die between the link pins and the sifting blocks.

Latency: PHY latencies plus 2 to 5 cycles per FIFO crossing, one cycle per register slice and
up to 34 line bits of serialisation. Throughput: one link word per 32 fabric cycles each way.
"""

from amaranth.hdl import ClockDomain, ClockSignal, Module, ResetSignal, Signal
from amaranth.lib import cdc, fifo, stream, wiring
from amaranth.lib.wiring import In, Out

from models.link.line_code import BLOCK_BITS
from rtl.common.forward import forward_member
from rtl.common.streams import RegisterSlice
from rtl.link.layouts import SyncWord
from rtl.link.rx import PhyRx
from rtl.link.tx import PhyTx
from rtl.sifting.crc_append import MessageWord

FIFO_DEPTH = 4
#: The line members of :class:`LinkPort` and the pins a top names them.
LINE_PINS = {"line_tx": "link_tx", "line_rx": "link_rx", "line_rx_clk": "link_rx_clk"}


class LinkPort(wiring.Component):
    """The link PHY with its line pins (module docstring).

    Members
    -------
    msg : In(stream.Signature(MessageWord)); sync : In(stream.Signature(SyncWord))
        To :class:`~rtl.link.tx.PhyTx`.
    rx : Out(stream.Signature(MessageWord))
        Received message words.
    rx_sync : Out(stream.Signature(SyncWord))
        Received sync counters.
    line_tx : Out(1); line_rx, line_rx_clk : In(1)
        The pins.
    locked, offset and the receiver's counters : Out
        As :class:`~rtl.link.rx.PhyRx`.
    """

    def __init__(self) -> None:
        self._tx, self._rx = PhyTx(), PhyRx()
        members = {
            "msg": In(stream.Signature(MessageWord)),
            "sync": In(stream.Signature(SyncWord)),
            "rx": Out(stream.Signature(MessageWord)),
            "rx_sync": Out(stream.Signature(SyncWord)),
            "line_tx": Out(1), "line_rx": In(1), "line_rx_clk": In(1),
        }
        members |= {name: member for name, member in self._rx.signature.members.items()
                    if not member.is_signature}
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        m.submodules.phy_tx = tx = self._tx
        m.submodules.phy_rx = rx = self._rx
        m.submodules.msg_slice = msg_slice = RegisterSlice(MessageWord)
        m.submodules.rx_slice = rx_slice = RegisterSlice(MessageWord)
        wiring.connect(m, wiring.flipped(self.msg), msg_slice.i)
        wiring.connect(m, msg_slice.o, tx.msg)
        wiring.connect(m, rx_slice.o, wiring.flipped(self.rx))
        forward_member(m, self, tx, "sync")
        forward_member(m, self, rx, "sync", "rx_sync")
        for name, member in rx.signature.members.items():
            if not member.is_signature:
                forward_member(m, self, rx, name)
        m.d.comb += [rx_slice.i.valid.eq(rx.o.valid), rx_slice.i.payload.data.eq(rx.o.payload.data),
                     rx_slice.i.payload.last.eq(rx.o.payload.last), rx.o.ready.eq(rx_slice.i.ready)]
        self._serialiser(m, tx)
        self._deserialiser(m, rx)
        return m

    def _serialiser(self, m: Module, tx: PhyTx) -> None:
        m.submodules.tx_fifo = out = fifo.AsyncFIFO(width=BLOCK_BITS, depth=FIFO_DEPTH,
                                                    w_domain="sync", r_domain="line")
        m.d.comb += [out.w_data.eq(tx.o.payload), out.w_en.eq(tx.o.valid),
                     tx.o.ready.eq(out.w_rdy)]
        bit = Signal(range(BLOCK_BITS))
        shift = Signal(BLOCK_BITS)
        m.d.line += [self.line_tx.eq(shift[0]), shift.eq(shift >> 1), bit.eq(bit + 1)]
        with m.If(bit == BLOCK_BITS - 1):
            m.d.line += [bit.eq(0), shift.eq(out.r_data & out.r_rdy.replicate(BLOCK_BITS))]
            m.d.comb += out.r_en.eq(1)

    def _deserialiser(self, m: Module, rx: PhyRx) -> None:
        m.domains.line_rx = ClockDomain("line_rx", async_reset=True)
        m.d.comb += ClockSignal("line_rx").eq(self.line_rx_clk)
        m.submodules.rx_reset = cdc.ResetSynchronizer(ResetSignal("sync"), domain="line_rx")
        m.submodules.rx_fifo = into = fifo.AsyncFIFO(width=BLOCK_BITS, depth=FIFO_DEPTH,
                                                     w_domain="line_rx", r_domain="sync")
        bit = Signal(range(BLOCK_BITS))
        shift = Signal(BLOCK_BITS)
        sample = Signal()
        m.d.line_rx += [sample.eq(self.line_rx), shift.eq(shift >> 1 | sample << BLOCK_BITS - 1),
                        bit.eq(bit + 1)]
        with m.If(bit == BLOCK_BITS - 1):
            m.d.line_rx += bit.eq(0)
            m.d.comb += into.w_en.eq(1)
        m.d.comb += [into.w_data.eq(shift), rx.i.valid.eq(into.r_rdy),
                     rx.i.payload.eq(into.r_data), into.r_en.eq(rx.i.ready)]
