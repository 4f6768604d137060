r"""RND cache in DRAM (SPEC 3.3 at flight size): the newest pulses' symbols behind a LiteDRAM port.

Same ports and answers as :class:`rtl.satellite.rnd_cache.RndCache` (``write``, ``query``,
``answer`` with OK / PENDING / EXPIRED and the ``head`` used, the counters), so the golden model
:func:`models.rnd_cache.cache_lookup` applies unchanged, plus ``dram``, a LiteDRAM native port
(:class:`rtl.memory.litedram.LiteDram`).

Write combining
    A 128-bit DRAM word holds :data:`PULSES_PER_WORD` (32) consecutive pulses' symbols: the
    ``write`` beats (``lanes`` symbols each) fill a word register, a full word goes to a write
    queue (``write_depth`` words) and from there to the DRAM as one write command. The queue
    absorbs refresh and read traffic; ``write`` stays always ready, a word that finds the queue
    full is counted in ``write_overflow`` (never in the documented operating range).
Head and window
    ``head`` counts the pulses whose word's write command has left the command register (a
    multiple of 32; a register slice then keeps the port's ready off the decisions). A lookup
    is decided in a decision register that holds its distance to ``head`` and to the window's
    floor, on two sign bits; no read is decided while the command register holds a write (it
    may be taken in the same cycle and overwrite the oldest word), and commands reach the port
    and complete in order, so an OK lookup reads a word that is the latest write of its
    address, exactly as in the on-chip cache. Pulses still in the word register or the write
    queue are PENDING: a lookup comes one link round trip after its pulse, the queue holds a
    few hundred nanoseconds.
Hiding latency and refresh
    Lookups wait in a query queue; a PENDING or EXPIRED one needs no DRAM read. Up to
    ``outstanding`` lookups are in flight: their tags wait in order in a tag queue, the read
    words' symbols (picked by lane as they arrive, since LiteDRAM never holds read data back) in
    a symbol queue of the same depth, so every issued read has a place for its data. The answer
    leaves when the oldest tag (and, for OK, its symbol) is there.

Stream contract, latency, throughput
------------------------------------
``write`` always ready, one beat per cycle. ``query`` -> ``answer`` in order, with
backpressure: an answer held back stops new reads once ``outstanding`` are in flight. Latency
and rate are the DRAM's (``docs/memory.md``, LiteDRAM on the MT41K64M16 model): PENDING and
EXPIRED lookups one per cycle; OK lookups 28 cycles from query to answer on an idle DRAM, one
per about 5.4 cycles sustained, at most 291 cycles when saturated (write batches and refreshes
included); with the transmitter writing at its full rate (a word per 5.12 cycles of a 100 MHz
controller, 8 lanes) and lookups at the classical link's most (0.049 per cycle), no word is lost
and an answer takes at most 361 cycles.
"""

from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value, signed
from amaranth.lib import data, fifo, wiring
from amaranth.lib.wiring import Out

from models.constants import LANES
from models.memory.flight import MemoryConfigError, check_cache_life
from rtl.common.streams import RegisterSlice
from rtl.memory.layouts import WORD_BITS, dram_port
from rtl.satellite.layouts import CacheAnswer, CacheStatus, Symbol
from rtl.satellite.rnd_cache import cache_members

#: Symbols per DRAM word.
PULSES_PER_WORD = WORD_BITS // Symbol.size
#: Low pulse-index bits that pick the symbol inside its word.
_IN_WORD_BITS = (PULSES_PER_WORD - 1).bit_length()


_Tag = data.StructLayout({
    "pulse": 64, "head": 64, "status": CacheStatus, "read": 1,
})


class DramRndCache(wiring.Component):
    """RND cache of ``capacity`` pulses in DRAM words ``base`` .. ``base + capacity/32 - 1``.

    ``round_trip``: the link round trip in pulses (ground report, uplink, light time both ways);
    a cache whose life (``capacity`` pulses) is shorter is refused at elaboration.

    Members
    -------
    write : In(stream.Signature(ArrayLayout(Symbol, lanes)))
        One beat of ``lanes`` consecutive pulses' symbols; always ready.
    query : In(stream.Signature(CacheQuery))
        Pulse index to look up.
    answer : Out(stream.Signature(CacheAnswer))
        OK with the symbol, PENDING or EXPIRED, and the head used.
    head : Out(64)
        Pulses in the DRAM.
    expired_count, pending_count, write_overflow : Out(32)
        Lookups answered EXPIRED, PENDING; words lost to a full write queue.
    dram : Out(dram_port(addr_bits))
        The LiteDRAM native port.
    """

    def __init__(self, *, capacity: int, round_trip: int, addr_bits: int, base: int = 0,
                 lanes: int = LANES, outstanding: int = 16, write_depth: int = 64,
                 write_batch: int = 24) -> None:
        check_cache_life("DramRndCache", capacity, round_trip)
        if capacity & (capacity - 1) or capacity < PULSES_PER_WORD:
            raise MemoryConfigError(
                f"DramRndCache: capacity {capacity} pulses must be a power of two >= "
                f"{PULSES_PER_WORD}")
        if lanes & (lanes - 1) or lanes > PULSES_PER_WORD:
            raise MemoryConfigError(f"DramRndCache: lanes={lanes} must be a power of two <= "
                                    f"{PULSES_PER_WORD}")
        words = capacity // PULSES_PER_WORD
        if base + words > 1 << addr_bits:
            raise MemoryConfigError(
                f"DramRndCache: {words} words from word {base} exceed the DRAM's "
                f"{1 << addr_bits} words")
        self._capacity, self._base, self._lanes = capacity, base, lanes
        self._outstanding, self._write_depth = outstanding, write_depth
        self._write_batch = write_batch
        self._addr_bits = addr_bits
        super().__init__(cache_members(lanes) | {
            "write_overflow": Out(32),
            "dram": Out(dram_port(addr_bits)),
        })

    @property
    def capacity(self) -> int:
        return self._capacity

    def _word_addr(self, pulse: Value) -> Value:
        words = self._capacity // PULSES_PER_WORD
        word_bits = (words - 1).bit_length()
        index = pulse[_IN_WORD_BITS:_IN_WORD_BITS + word_bits] if word_bits else Const(0, 1)
        return (self._base + index)[:self._addr_bits]

    def elaborate(self, platform):
        m = Module()
        lanes, addr_bits = self._lanes, self._addr_bits
        beat_bits = lanes * Symbol.size
        beats = PULSES_PER_WORD // lanes
        lane_shift = (lanes - 1).bit_length()

        # Write combining: beats into a word register, full words into the write queue.
        pulses_in = Signal(64)
        word = Signal(WORD_BITS)
        m.submodules.wq = wq = fifo.SyncFIFOBuffered(width=addr_bits + WORD_BITS,
                                                     depth=self._write_depth)
        m.d.comb += self.write.ready.eq(1)
        beat = pulses_in[lane_shift:_IN_WORD_BITS] if beats > 1 else Const(0, 1)
        full_word = Signal(WORD_BITS)
        m.d.comb += full_word.eq(word)
        for k in range(beats):
            with m.If(beat == k):
                m.d.comb += full_word.word_select(k, beat_bits).eq(self.write.payload.as_value())
        last = self.write.valid & (beat == beats - 1)
        w_addr = Signal(addr_bits)
        m.d.comb += w_addr.eq(self._word_addr(pulses_in))
        m.d.comb += [
            wq.w_stream.valid.eq(last),
            wq.w_stream.payload.eq(Cat(w_addr, full_word)),
        ]
        with m.If(self.write.valid):
            m.d.sync += [pulses_in.eq(pulses_in + lanes), word.eq(full_word)]
        with m.If(last & ~wq.w_stream.ready):
            m.d.sync += self.write_overflow.eq(self.write_overflow + 1)

        # One command register, then a register slice in front of the port (the port's ready
        # comes from its clock-crossing FIFO: the slice keeps it off the lookup decisions); the
        # write data go to a queue of their own (LiteDRAM takes a write's data after its
        # command, in command order).
        m.submodules.wdq = wdq = fifo.SyncFIFOBuffered(width=WORD_BITS, depth=4)
        m.submodules.cmd_slice = cmd_slice = RegisterSlice(self.dram.cmd.payload.shape())
        cmd_valid, cmd_we, cmd_addr = Signal(), Signal(), Signal(addr_bits)
        wiring.connect(m, cmd_slice.o, wiring.flipped(self.dram.cmd))
        m.d.comb += [
            cmd_slice.i.valid.eq(cmd_valid),
            cmd_slice.i.payload.we.eq(cmd_we),
            cmd_slice.i.payload.addr.eq(cmd_addr),
            self.dram.wdata.valid.eq(wdq.r_stream.valid),
            self.dram.wdata.payload.data.eq(wdq.r_stream.payload),
            self.dram.wdata.payload.we.eq(-1),
            wdq.r_stream.ready.eq(self.dram.wdata.ready),
        ]
        accepted = cmd_valid & cmd_slice.i.ready
        load = ~cmd_valid | cmd_slice.i.ready
        step = Signal()  # a write command is taken this cycle: the head moves one word
        m.d.comb += step.eq(accepted & cmd_we)
        # The head and the window floor (signed: negative while the cache fills), each with its
        # value one word on, so the next cycle's value is a multiplexer, not an adder.
        head_up = Signal(64, init=PULSES_PER_WORD)
        floor, floor_up = (Signal(signed(66), init=-self._capacity),
                           Signal(signed(66), init=PULSES_PER_WORD - self._capacity))
        with m.If(step):
            m.d.sync += [self.head.eq(head_up), head_up.eq(head_up + PULSES_PER_WORD),
                         floor.eq(floor_up), floor_up.eq(floor_up + PULSES_PER_WORD)]

        # Lookups: the query queue's head moves into the decision register ``c``, which keeps
        # the lookup's distance to the head (``c_head``: pending from 0 up) and to the floor
        # (``c_floor``: expired below 0) of the current cycle, moved on with every step. A
        # lookup is decided in ``c`` on two sign bits against ``self.head``; a read is not
        # decided while the command register holds a write (that write may be taken in the
        # same cycle and overwrite the oldest word), so an OK lookup reads a word that is the
        # latest write of its address, exactly as in the on-chip cache.
        m.submodules.qq = qq = fifo.SyncFIFOBuffered(width=64, depth=4)
        m.submodules.tags = tags = fifo.SyncFIFOBuffered(width=_Tag.size,
                                                         depth=self._outstanding)
        m.submodules.lanes = lane_q = fifo.SyncFIFOBuffered(width=_IN_WORD_BITS,
                                                            depth=self._outstanding)
        m.submodules.symbols = sym_q = fifo.SyncFIFOBuffered(width=Symbol.size,
                                                             depth=self._outstanding)
        wiring.connect(m, wiring.flipped(self.query), qq.w_stream)
        c_valid, pulse = Signal(), Signal(64)
        c_head, c_floor = Signal(signed(66)), Signal(signed(66))
        status = Signal(CacheStatus)
        with m.If(~c_head[-1]):
            m.d.comb += status.eq(CacheStatus.PENDING)
        with m.Elif(c_floor[-1]):
            m.d.comb += status.eq(CacheStatus.EXPIRED)
        with m.Else():
            m.d.comb += status.eq(CacheStatus.OK)

        # Writes go in batches (a DDR3 bus turnaround between a write and a read costs some 20
        # cycles): the queue drains completely once it holds `write_batch` words, or whenever no
        # read waits.
        is_ok = status == CacheStatus.OK
        read_waits = c_valid & is_ok & tags.w_stream.ready
        draining = Signal()
        with m.If(wq.level >= self._write_batch):
            m.d.sync += draining.eq(1)
        with m.Elif(~wq.r_stream.valid | (wq.level <= 1) & wq.r_stream.ready):
            m.d.sync += draining.eq(0)
        write_go = load & wq.r_stream.valid & wdq.w_stream.ready & (draining | ~read_waits)
        # With a read waiting, a write goes only while draining: ``~draining`` is ``~write_go``
        # here, one gate fewer in front of the decision register's enable.
        read_go = read_waits & load & ~(cmd_valid & cmd_we) & ~draining
        other_go = c_valid & ~is_ok & tags.w_stream.ready
        c_take = ~c_valid | read_go | other_go
        # Every distance is computed from flip-flops for both outcomes of ``step``, which only
        # picks one after the carry chains.
        incoming = qq.r_stream.payload
        to_head, to_head_up = Signal(signed(66)), Signal(signed(66))
        to_floor, to_floor_up = Signal(signed(66)), Signal(signed(66))
        c_head_on, c_floor_on = Signal(signed(66)), Signal(signed(66))
        m.d.comb += [
            to_head.eq(incoming - self.head), to_head_up.eq(incoming - head_up),
            to_floor.eq(incoming - floor), to_floor_up.eq(incoming - floor_up),
            c_head_on.eq(c_head - PULSES_PER_WORD), c_floor_on.eq(c_floor - PULSES_PER_WORD),
        ]
        with m.If(c_take):
            m.d.sync += [c_valid.eq(qq.r_stream.valid), pulse.eq(incoming),
                         c_head.eq(Mux(step, to_head_up, to_head)),
                         c_floor.eq(Mux(step, to_floor_up, to_floor))]
        with m.Elif(step):
            m.d.sync += [c_head.eq(c_head_on), c_floor.eq(c_floor_on)]
        tag = Signal(_Tag)
        m.d.comb += [
            tag.pulse.eq(pulse), tag.head.eq(self.head), tag.status.eq(status),
            tag.read.eq(is_ok),
            tags.w_stream.valid.eq(read_go | other_go),
            tags.w_stream.payload.eq(tag),
            qq.r_stream.ready.eq(c_take),
            lane_q.w_stream.valid.eq(read_go),
            lane_q.w_stream.payload.eq(pulse[:_IN_WORD_BITS]),
            wq.r_stream.ready.eq(write_go),
            wdq.w_stream.valid.eq(write_go),
            wdq.w_stream.payload.eq(wq.r_stream.payload[addr_bits:]),
        ]
        with m.If(write_go):
            m.d.sync += [cmd_valid.eq(1), cmd_we.eq(1),
                         cmd_addr.eq(wq.r_stream.payload[:addr_bits])]
        with m.Elif(read_go):
            m.d.sync += [cmd_valid.eq(1), cmd_we.eq(0), cmd_addr.eq(self._word_addr(pulse))]
        with m.Elif(accepted):
            m.d.sync += cmd_valid.eq(0)

        # Read data: never held back by LiteDRAM; the symbol queue has a place for each read in
        # flight (at most `outstanding` tags), so `sym_q.w_stream.ready` is always high here.
        rdata = self.dram.rdata.payload.data
        m.d.comb += [
            self.dram.rdata.ready.eq(1),
            sym_q.w_stream.valid.eq(self.dram.rdata.valid),
            sym_q.w_stream.payload.eq(rdata.word_select(lane_q.r_stream.payload, Symbol.size)),
            lane_q.r_stream.ready.eq(self.dram.rdata.valid),
        ]

        # Answers in lookup order.
        head_tag = data.View(_Tag, tags.r_stream.payload)
        ready_to_go = tags.r_stream.valid & (~head_tag.read | sym_q.r_stream.valid)
        answer = Signal(CacheAnswer)
        m.d.comb += [
            answer.pulse.eq(head_tag.pulse), answer.head.eq(head_tag.head),
            answer.status.eq(head_tag.status),
            answer.symbol.eq(Mux(head_tag.read, sym_q.r_stream.payload, 0)),
            self.answer.valid.eq(ready_to_go),
            self.answer.payload.eq(answer),
            tags.r_stream.ready.eq(ready_to_go & self.answer.ready),
            sym_q.r_stream.ready.eq(ready_to_go & self.answer.ready & head_tag.read),
        ]
        with m.If(self.answer.valid & self.answer.ready):
            with m.If(head_tag.status == CacheStatus.EXPIRED):
                m.d.sync += self.expired_count.eq(self.expired_count + 1)
            with m.If(head_tag.status == CacheStatus.PENDING):
                m.d.sync += self.pending_count.eq(self.pending_count + 1)
        return m
