r"""LDPC syndrome encoder of one-way error correction (SPEC 7, ``models.postprocess.ec``).

Overview
--------
:class:`SyndromeEncoder` takes the key words of a sifted packet as they arrive and gives the
packet's syndrome ``H x`` (:func:`models.postprocess.ec.encode` with no padding), bit for bit,
for every code it was built with (:mod:`rtl.distill.codes`: one ROM per rate). The code is
quasi-cyclic, so the encoder works on blocks of Z bits (the lift), ``width`` bits per cycle:

* **Information columns.** The first n − m/2 key bits fill the information block columns, Z
  bits each (the last one padded with the code's public zero fill). A filled block goes to the
  circulant engine through a two-block buffer (the next block fills meanwhile). For each
  circulant (b, s) of its column (ROM, column order) the engine adds the block rotated by s to
  the accumulator of block row b, one accumulator word per cycle: word j of row b takes bits
  jW + s ... jW + s + W − 1 (mod Z) of the block, a funnel shift of two buffer words
  (read-modify-write, the accumulator RAM's read port transparent to its write port).
* **Staircase columns.** The last m/2 key bits are the odd parity columns; bit i adds to
  syndrome bits 2i + 1 and 2i + 2 (mod m). They are kept in a RAM of m/2 bits.
* **Output.** Syndrome bit r is check (b, z) = (r mod mb, r div mb) of the accumulators plus
  staircase bit (r − 1) div 2 (bit m/2 − 1 for r = 0), one bit per cycle, ``width`` bits a
  word, after the packet's last word: the first syndrome bit needs the packet's last key bit.
* **Clear.** After each packet (and after reset) the accumulators are zeroed, m / W cycles.

The rate register ``rate`` (the controller's choice, :func:`rtl.distill.codes.rate_index`) is
sampled when a packet's first word is offered. Why a register: the model chooses the rate from
per-intensity QBER bounds with entropies, square roots and a logarithmic ladder
(:func:`models.postprocess.ec.plan_codewords`), once per 100 kbit packet; the controller runs
that same code (bit-identical by construction) where RTL would need a floating-point pipeline
used once a second.

Latency, throughput
-------------------
Per packet: n/W input cycles overlapped with Σ_circulants Z/W engine cycles (the engine is the
bound: ~6.4 circulants per information column), then m · (W + 3)/W output cycles and m/W
clear cycles. Measured cycles per packet: ``sim/bench_distill.py`` (docs/distill.md).

Stream contract
---------------
``i`` carries a packet's n bits (:data:`rtl.distill.layouts.bit_word`), ``last`` on word
n/W − 1. ``o`` gives the m/W syndrome words (``last`` on the final one), then ``status`` one
:func:`rtl.distill.layouts.syndrome_status` beat. A packet whose ``rate`` names no code is
consumed to its ``last`` and answered ``BAD_RATE``; one whose ``last`` comes early or late is
answered ``LENGTH`` (a late one after its ``last``): in both cases no syndrome word is sent.
"""

from __future__ import annotations

from collections.abc import Sequence

from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal, Value, unsigned
from amaranth.lib import stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from rtl.distill.codes import CodeShapeError, CodeTable
from rtl.distill.layouts import SyndromeStatus, bit_word, syndrome_status


def _bits(value: int) -> int:
    return max(1, int(value).bit_length())


class SyndromeEncoder(wiring.Component):
    """Streaming syndrome encoder of the one-way QC-IRA codes in ``codes`` (one per rate).

    Latency: the first syndrome word ~W + 4 cycles after the packet's last word (once the
    circulant engine has drained); throughput and stream contract in the module docstring.

    Members
    -------
    rate : In(rate_bits)
        Index into ``codes``, sampled with a packet's first word.
    i : In(stream.Signature(bit_word(width)))
        Packet key words.
    o : Out(stream.Signature(bit_word(width)))
        Syndrome words.
    status : Out(stream.Signature(syndrome_status(rate_bits)))
        One beat per packet.
    """

    def __init__(self, codes: Sequence[CodeTable], width: int, rate_bits: int = 8) -> None:
        if not codes:
            raise CodeShapeError("the syndrome encoder needs at least one code")
        if any(c.width != width for c in codes):
            raise CodeShapeError(f"every code table must be laid out for width {width}")
        if len(codes) > 1 << rate_bits:
            raise CodeShapeError(f"{len(codes)} codes do not fit a {rate_bits}-bit rate")
        self.codes = tuple(codes)
        self.width = width
        self.rate_bits = rate_bits
        super().__init__({
            "rate": In(rate_bits),
            "i": In(stream.Signature(bit_word(width))),
            "o": Out(stream.Signature(bit_word(width))),
            "status": Out(stream.Signature(syndrome_status(rate_bits))),
        })

    def elaborate(self, platform):
        m = Module()
        codes, w = self.codes, self.width
        log_w = w.bit_length() - 1
        max_l = max(c.words_per_block for c in codes)
        log_l = max_l.bit_length() - 1
        acc_depth = max(c.m // w for c in codes)
        par_depth = max(c.parity_words for c in codes)
        sw_bits = _bits(max_l - 1)
        sb_bits = _bits(w - 1)
        row_bits = _bits(acc_depth - 1)

        def table(values: Sequence[int]) -> Array:
            width_ = _bits(max(values))
            return Array(Const(v, width_) for v in values)

        cur = Signal(range(len(codes)))
        words_per_block = table([c.words_per_block for c in codes])[cur]
        info_blocks = table([c.info_blocks for c in codes])[cur]
        info_words = table([c.info_words for c in codes])[cur]
        parity_words = table([c.parity_words for c in codes])[cur]
        block_rows = table([c.block_rows for c in codes])[cur]
        m_bits = table([c.m for c in codes])[cur]

        # Circulant ROMs, one per rate, read at the engine's next edge.
        edge = Signal(_bits(max(c.edges for c in codes)))
        edge_next = Signal.like(edge)
        rom_data = []
        for k, c in enumerate(codes):
            rom = Memory(shape=unsigned(sw_bits + sb_bits + row_bits + 1), depth=c.edges,
                         init=c.rom_entries(sw_bits, sb_bits, row_bits))
            m.submodules[f"rom{k}"] = rom
            port = rom.read_port()
            m.d.comb += port.addr.eq(edge_next)
            rom_data.append(port.data)
        entry = Signal(len(rom_data[0]))
        m.d.comb += entry.eq(Array(rom_data)[cur])
        e_shift_words = entry[:sw_bits]
        e_shift_bits = entry[sw_bits:sw_bits + sb_bits]
        e_row = entry[sw_bits + sb_bits:sw_bits + sb_bits + row_bits]
        e_last = entry[-1]

        m.submodules.acc = acc = Memory(shape=unsigned(w), depth=acc_depth, init=[])
        acc_w = acc.write_port()
        acc_r = acc.read_port(transparent_for=(acc_w,))
        m.submodules.xbuf = xbuf = Memory(shape=unsigned(w), depth=2 * max_l, init=[])
        x_w = xbuf.write_port()
        x_lo = xbuf.read_port()
        x_hi = xbuf.read_port()
        m.submodules.par = par = Memory(shape=unsigned(w), depth=par_depth, init=[])
        par_w = par.write_port()
        par_r = par.read_port()

        # Ingest (information and staircase words) and circulant engine state.
        full = Signal(2)
        set_full = Signal(2)
        clr_full = Signal(2)
        m.d.sync += full.eq((full & ~clr_full) | set_full)
        w_half = Signal()
        w_word = Signal(range(max_l))
        in_words = Signal(_bits(max(c.info_words for c in codes)))
        in_blocks = Signal(_bits(max(c.info_blocks for c in codes)))
        par_word = Signal(range(par_depth))
        e_half = Signal()
        e_j = Signal(range(max_l))
        e_blocks = Signal.like(in_blocks)
        engine_done = Signal()
        m.d.comb += engine_done.eq(e_blocks == info_blocks)
        engine_on = Signal()
        wb_valid = Signal()
        wb_addr = Signal(row_bits)
        wb_shift = Signal(sb_bits)

        # Output stage state.
        r = Signal(_bits(max(c.m for c in codes)))
        r_b = Signal.like(block_rows)
        r_z = Signal(_bits(max(c.lift for c in codes)))
        r_row = Signal(row_bits)
        issued = Signal(range(w + 1))
        collected = Signal(range(w + 1))
        rd_valid = Signal()
        rd_acc_bit = Signal(sb_bits)
        rd_par_bit = Signal(sb_bits)
        out_on = Signal()
        clear_addr = Signal(row_bits)
        code = Signal(SyndromeStatus)
        requested = Signal(self.rate_bits)

        m.d.comb += edge_next.eq(edge)
        mask = words_per_block - 1

        def buffer_word(word: Value, half: Value) -> Value:
            """Buffer address of a block's word (mod the rate's words per block)."""
            if max_l == 1:
                return half
            return Cat((word & mask)[:log_l], half)

        # Three stages: circulant and word chosen (ROM data registered), RAM addresses, write.
        go = engine_on & full.bit_select(e_half, 1) & ~engine_done
        s1_valid = Signal()
        s1_row = Signal(row_bits)
        s1_j = Signal.like(e_j)
        s1_words = Signal(sw_bits)
        s1_bits = Signal(sb_bits)
        s1_half = Signal()
        m.d.sync += s1_valid.eq(go)
        with m.If(go):
            m.d.sync += [s1_row.eq(e_row), s1_j.eq(e_j), s1_words.eq(e_shift_words),
                         s1_bits.eq(e_shift_bits), s1_half.eq(e_half)]
            with m.If(e_j == words_per_block - 1):
                m.d.comb += edge_next.eq(edge + 1)
                m.d.sync += [e_j.eq(0), edge.eq(edge + 1)]
                with m.If(e_last):
                    m.d.comb += clr_full.eq(Mux(e_half, 0b10, 0b01))
                    m.d.sync += [e_half.eq(~e_half), e_blocks.eq(e_blocks + 1)]
            with m.Else():
                m.d.sync += e_j.eq(e_j + 1)
        with m.If(s1_valid):
            m.d.comb += [
                acc_r.addr.eq(s1_row + s1_j),
                x_lo.addr.eq(buffer_word(s1_j + s1_words, s1_half)),
                x_hi.addr.eq(buffer_word(s1_j + s1_words + 1, s1_half)),
            ]
            m.d.sync += [wb_addr.eq(s1_row + s1_j), wb_shift.eq(s1_bits)]
        m.d.sync += wb_valid.eq(s1_valid)
        busy = s1_valid | wb_valid  # engine writes still to land
        funnel = (Cat(x_lo.data, x_hi.data) >> wb_shift)[:w]
        with m.If(wb_valid):
            m.d.comb += [acc_w.addr.eq(wb_addr), acc_w.data.eq(acc_r.data ^ funnel),
                         acc_w.en.eq(1)]

        # Output: syndrome bit r from accumulator (r mod mb, r div mb) and staircase bit.
        par_index = Mux(r == 0, (m_bits >> 1) - 1, (r - 1) >> 1)
        with m.If(out_on & ~self.o.valid & (issued < w) & (r < m_bits)):
            m.d.comb += [acc_r.addr.eq(r_row + (r_z >> log_w)),
                         par_r.addr.eq(par_index >> log_w)]
            m.d.sync += [
                rd_valid.eq(1), rd_acc_bit.eq(r_z), rd_par_bit.eq(par_index),
                issued.eq(issued + 1), r.eq(r + 1),
            ]
            with m.If(r_b == block_rows - 1):
                m.d.sync += [r_b.eq(0), r_row.eq(0), r_z.eq(r_z + 1)]
            with m.Else():
                m.d.sync += [r_b.eq(r_b + 1), r_row.eq(r_row + words_per_block)]
        with m.Else():
            m.d.sync += rd_valid.eq(0)
        # The RAM words go to registers first: block RAM outputs are slow (no output register).
        acc_word = Signal(w)
        par_bits = Signal(w)
        rd2_valid = Signal()
        rd2_acc_bit = Signal(sb_bits)
        rd2_par_bit = Signal(sb_bits)
        m.d.sync += [acc_word.eq(acc_r.data), par_bits.eq(par_r.data), rd2_valid.eq(rd_valid),
                     rd2_acc_bit.eq(rd_acc_bit), rd2_par_bit.eq(rd_par_bit)]
        with m.If(rd2_valid):
            bit = acc_word.bit_select(rd2_acc_bit, 1) ^ par_bits.bit_select(rd2_par_bit, 1)
            m.d.sync += [self.o.payload.data.eq(Cat(self.o.payload.data[1:], bit)),
                         collected.eq(collected + 1)]
            with m.If(collected == w - 1):
                m.d.sync += self.o.valid.eq(1)
        m.d.comb += self.o.payload.last.eq(r == m_bits)
        with m.If(self.o.valid & self.o.ready):
            m.d.sync += [self.o.valid.eq(0), issued.eq(0), collected.eq(0)]

        m.d.comb += [self.status.payload.status.eq(code), self.status.payload.rate.eq(requested)]
        rate_ok = self.rate < len(codes)
        accept = self.i.valid & self.i.ready
        last = self.i.payload.last

        def restart() -> list:
            """Every counter of a packet back to its start (entering the clear phase)."""
            return [clear_addr.eq(0), full.eq(0), w_half.eq(0), w_word.eq(0), in_words.eq(0),
                    in_blocks.eq(0), par_word.eq(0), e_half.eq(0), e_j.eq(0), edge.eq(0),
                    e_blocks.eq(0), r.eq(0), r_b.eq(0), r_z.eq(0), r_row.eq(0), issued.eq(0),
                    collected.eq(0)]

        with m.FSM(init="CLEAR"):
            # A write of an abandoned packet lands first.
            with m.State("CLEAR"), m.If(~busy):
                m.d.comb += [acc_w.addr.eq(clear_addr), acc_w.data.eq(0), acc_w.en.eq(1)]
                m.d.sync += clear_addr.eq(clear_addr + 1)
                with m.If(clear_addr == acc_depth - 1):
                    m.next = "IDLE"
            with m.State("IDLE"), m.If(self.i.valid):
                m.d.sync += requested.eq(self.rate)
                with m.If(rate_ok):
                    m.d.sync += cur.eq(self.rate)
                    m.next = "INFO"
                with m.Else():
                    m.d.sync += code.eq(SyndromeStatus.BAD_RATE)
                    m.next = "DRAIN"
            with m.State("INFO"):
                m.d.comb += engine_on.eq(1)
                with m.If(~full.bit_select(w_half, 1)):
                    real = in_words < info_words
                    m.d.comb += [
                        self.i.ready.eq(real),
                        x_w.addr.eq(buffer_word(w_word, w_half)),
                        x_w.data.eq(Mux(real, self.i.payload.data, 0)),
                        x_w.en.eq(~real | self.i.valid),
                    ]
                    with m.If(accept & last):
                        m.d.sync += code.eq(SyndromeStatus.LENGTH)
                        m.next = "REPORT"
                    with m.Elif(~real | self.i.valid):
                        m.d.sync += in_words.eq(in_words + real)
                        with m.If(w_word == words_per_block - 1):
                            m.d.comb += set_full.eq(Mux(w_half, 0b10, 0b01))
                            m.d.sync += [w_word.eq(0), w_half.eq(~w_half),
                                         in_blocks.eq(in_blocks + 1)]
                            with m.If(in_blocks == info_blocks - 1):
                                m.next = "PARITY"
                        with m.Else():
                            m.d.sync += w_word.eq(w_word + 1)
            with m.State("PARITY"):
                m.d.comb += [engine_on.eq(1), self.i.ready.eq(1), par_w.addr.eq(par_word),
                             par_w.data.eq(self.i.payload.data), par_w.en.eq(self.i.valid)]
                with m.If(accept):
                    m.d.sync += par_word.eq(par_word + 1)
                    final = par_word == parity_words - 1
                    with m.If(last & final):
                        m.next = "ENGINE"
                    with m.Elif(last):
                        m.d.sync += code.eq(SyndromeStatus.LENGTH)
                        m.next = "REPORT"
                    with m.Elif(final):  # words past the packet's length: drain to its last
                        m.d.sync += code.eq(SyndromeStatus.LENGTH)
                        m.next = "DRAIN"
            with m.State("DRAIN"):
                m.d.comb += self.i.ready.eq(1)
                with m.If(accept & last):
                    m.next = "REPORT"
            with m.State("ENGINE"):
                m.d.comb += engine_on.eq(1)
                with m.If(engine_done & ~busy):
                    m.d.sync += code.eq(SyndromeStatus.OK)
                    m.next = "OUTPUT"
            with m.State("OUTPUT"):
                m.d.comb += out_on.eq(1)
                with m.If(self.o.valid & self.o.ready & self.o.payload.last):
                    m.next = "REPORT"
            with m.State("REPORT"):
                m.d.comb += self.status.valid.eq(1)
                with m.If(self.status.ready):
                    m.d.sync += restart()
                    m.next = "CLEAR"
        return m
