r"""The ground's record store in DRAM: a FIFO of records behind a LiteDRAM port.

Replaces the on-chip ``SyncFIFOBuffered`` of :class:`rtl.sifting.link_layer.GroundLink` at
flight size (a record waits from its framing until its frame is sifted: ~84,000 records with a
50 ms downlink burst, ``docs/sifting.md``). One record per 128-bit DRAM word, record ``i`` in
word ``base + i mod depth``.

Design
------
Records enter an input queue and leave it as write commands; a record is read back once its
write command has been accepted (one port's commands complete in order, so the read sees it).
Reads are prefetched into an output queue of ``prefetch`` records: a read is issued only while
the reads in flight plus the records waiting there leave it a place (LiteDRAM never holds read
data back). Write and read commands alternate when both wait, so neither starves.

Stream contract, latency, throughput
------------------------------------
``w_stream`` -> ``r_stream`` in order (a FIFO); ``w_stream.ready`` is low while ``depth``
records are held (``level``). The first record written into an empty store leaves after 48
cycles (a write and a read through the DRAM); a full prefetch queue then delivers one record per
cycle (``docs/memory.md``).
"""

from amaranth.hdl import Module, Mux, Signal, Value
from amaranth.lib import fifo, stream, wiring
from amaranth.lib.wiring import In, Out

from models.memory.flight import MemoryConfigError, check_store_depth
from rtl.memory.layouts import WORD_BITS, dram_port


class DramRecordStore(wiring.Component):
    """FIFO of ``depth`` records of ``width`` bits in DRAM words ``base`` .. ``base+depth-1``.

    ``frame_records``: records one frame period brings at the design rate; a store that cannot
    hold them is refused at elaboration.

    Members
    -------
    w_stream : In(stream.Signature(width))
        Records in.
    r_stream : Out(stream.Signature(width))
        Records out, in order.
    level : Out(32)
        Records held.
    dram : Out(dram_port(addr_bits))
        The LiteDRAM native port.
    """

    def __init__(self, *, width: int, depth: int, frame_records: int, addr_bits: int,
                 base: int = 0, prefetch: int = 16, in_depth: int = 32, batch: int = 8) -> None:
        check_store_depth("DramRecordStore", depth, frame_records)
        if width > WORD_BITS:
            raise MemoryConfigError(f"DramRecordStore: records of {width} bits exceed a "
                                    f"{WORD_BITS}-bit DRAM word")
        if base + depth > 1 << addr_bits:
            raise MemoryConfigError(
                f"DramRecordStore: {depth} records from word {base} exceed the DRAM's "
                f"{1 << addr_bits} words")
        self._width, self._depth, self._base = width, depth, base
        self._addr_bits, self._prefetch, self._in_depth = addr_bits, prefetch, in_depth
        self._batch = batch
        super().__init__({
            "w_stream": In(stream.Signature(width)),
            "r_stream": Out(stream.Signature(width)),
            "level": Out(32),
            "dram": Out(dram_port(addr_bits)),
        })

    def elaborate(self, platform):
        m = Module()
        depth, addr_bits = self._depth, self._addr_bits
        m.submodules.inq = inq = fifo.SyncFIFOBuffered(width=self._width, depth=self._in_depth)
        m.submodules.outq = outq = fifo.SyncFIFOBuffered(width=self._width, depth=self._prefetch)
        m.submodules.wdq = wdq = fifo.SyncFIFOBuffered(width=self._width, depth=4)

        w_in = self.w_stream.valid & self.w_stream.ready
        r_out = self.r_stream.valid & self.r_stream.ready
        m.d.comb += [
            self.w_stream.ready.eq((self.level < depth) & inq.w_stream.ready),
            inq.w_stream.valid.eq(self.w_stream.valid & (self.level < depth)),
            inq.w_stream.payload.eq(self.w_stream.payload),
        ]
        wiring.connect(m, outq.r_stream, wiring.flipped(self.r_stream))
        m.d.sync += self.level.eq(self.level + w_in - r_out)

        # Record slots: written = write commands accepted, issued = read commands loaded.
        w_slot, r_slot = Signal(range(depth)), Signal(range(depth))
        written, issued = Signal(32), Signal(32)
        # Reads in flight or waiting in `outq`: at most `prefetch`.
        held = Signal(range(self._prefetch + 1))

        cmd_valid, cmd_we, cmd_addr = Signal(), Signal(), Signal(addr_bits)
        accepted = cmd_valid & self.dram.cmd.ready
        load = ~cmd_valid | self.dram.cmd.ready
        written_now = Signal(32)
        m.d.comb += written_now.eq(written + (accepted & cmd_we))
        m.d.sync += written.eq(written_now)
        # Writes in batches, as in the cache (bus turnaround): the input queue drains once it
        # holds `batch` records, or whenever no read can go.
        can_write = inq.r_stream.valid & wdq.w_stream.ready
        can_read = (issued != written_now) & (held < self._prefetch)
        draining = Signal()
        with m.If(inq.level >= self._batch):
            m.d.sync += draining.eq(1)
        with m.Elif(~inq.r_stream.valid | (inq.level <= 1) & inq.r_stream.ready):
            m.d.sync += draining.eq(0)
        write_go = load & can_write & (draining | ~can_read)
        read_go = load & can_read & ~write_go & ~draining
        m.d.comb += [
            self.dram.cmd.valid.eq(cmd_valid),
            self.dram.cmd.payload.we.eq(cmd_we),
            self.dram.cmd.payload.addr.eq(cmd_addr),
            inq.r_stream.ready.eq(write_go),
            wdq.w_stream.valid.eq(write_go),
            wdq.w_stream.payload.eq(inq.r_stream.payload),
            self.dram.wdata.valid.eq(wdq.r_stream.valid),
            self.dram.wdata.payload.data.eq(wdq.r_stream.payload),
            self.dram.wdata.payload.we.eq(-1),
            wdq.r_stream.ready.eq(self.dram.wdata.ready),
            self.dram.rdata.ready.eq(1),
            outq.w_stream.valid.eq(self.dram.rdata.valid),
            outq.w_stream.payload.eq(self.dram.rdata.payload.data[:self._width]),
        ]
        with m.If(write_go):
            m.d.sync += [cmd_valid.eq(1), cmd_we.eq(1), cmd_addr.eq(self._base + w_slot),
                         w_slot.eq(_next_slot(w_slot, depth))]
        with m.Elif(read_go):
            m.d.sync += [cmd_valid.eq(1), cmd_we.eq(0), cmd_addr.eq(self._base + r_slot),
                         r_slot.eq(_next_slot(r_slot, depth)), issued.eq(issued + 1)]
        with m.Elif(accepted):
            m.d.sync += cmd_valid.eq(0)
        out_pop = outq.r_stream.valid & outq.r_stream.ready
        m.d.sync += held.eq(held + read_go - out_pop)
        return m


def _next_slot(slot: Signal, depth: int) -> Value:
    """``slot + 1`` modulo ``depth``."""
    return Mux(slot == depth - 1, 0, slot + 1)
