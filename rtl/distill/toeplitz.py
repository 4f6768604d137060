"""Toeplitz privacy amplification (SPEC 7) on the satellite FPGA, bit-exact with
:func:`models.postprocess.toeplitz.toeplitz_hash`.

y_i = XOR_j s[i − j + n − 1]·x_j for 0 ≤ i < m, 0 ≤ j < n, seed s of n + m − 1 bits. With
k = n − 1 − j this is y_i = XOR_k s[i + k]·x[n − 1 − k]: walking the input backwards, output
row i reads the seed forwards from s[i], and row i + 1 reads the same seed one bit later (the
Toeplitz structure). The engine computes ``window`` (W) rows at a time: W accumulators, and per
cycle ``width`` (P) input bits against a W + P − 1 bit window of the seed that slides by P bits a
cycle, so that one pass over the input (ceil(n / P) cycles) finishes W output bits. The input is
read backwards from memory word by word (bits reversed in the word) and shifted by
z = (−n) mod P so that its last bit comes first; the words of the seed are read forwards from
word c·W/P for chunk c, always word-aligned (W is a multiple of P).

Where the data lives: input and seed are written through the two word ports ``xmem`` and
``smem`` (:func:`rtl.distill.toeplitz_layouts.word_port`, LiteDRAM's native-port rules) and read
back once per chunk. :class:`ToeplitzRam` puts them in block RAM (:class:`ToeplitzOnChip`); a
DRAM port serves the same ports (``docs/distill.md``, "Privacy amplification", for the choice).

Stream contract (``amaranth/docs/stdlib/stream.rst`` rules on every stream):

* ``job`` (n, m): one per block; taken when the engine is idle.
* ``x``, ``seed``: the block's n input bits and n + m − 1 seed bits as P-bit words (bit k at
  bit k % P of word k // P; the unused bits of the last word are ignored), ``last`` on the
  last word. Both are taken at the same time, one word a cycle each (the memory willing).
* ``key``: the m output bits as P-bit words, ``last`` on the last one, its unused bits zero;
  sent only once both input streams ended at the right word, never a partial key.
* ``status``: one :class:`PaStatus` per job, after the key's last word. A block of a bad size,
  or whose input or seed stream ends at another word than its length (early or late) is
  abandoned: both streams are taken up to their ``last`` and discarded, no key word is sent,
  and the status names the fault.

Latency and throughput (memory answering one read per port per cycle)::

    load     max(ceil(n/P), ceil((n+m-1)/P)) cycles (one word of each stream per cycle)
    compute  ceil(m/W) · (ceil(n/P) + 2·W/P + 2) cycles + the read latency, once
             (per chunk: W/P seed words into the window, ceil(n/P) steps, W/P key words)

At P = 16, W = 1024, n = 100,000 and m = 24,992 that is 7,812 + 25 · 6,380 cycles, plus 4
of read latency: 167,316 measured (``sim/bench_toeplitz.py``), 93 Mbit/s of input at
156.25 MHz. A slower memory stalls the engine through the read
credits (``read_depth`` reads in flight or buffered per port), never loses a word.
"""

from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import fifo, memory, stream, wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2, exact_log2

from rtl.common.forward import forward_member
from rtl.distill.layouts import bit_word
from rtl.distill.toeplitz_layouts import PaStatus, PaStatusLayout, pa_job, word_port

#: Defaults of the flight engine: 16 input bits a cycle against 1024 accumulators.
WIDTH = 16
WINDOW = 1024
#: SPEC 7's block range (pa_block_bits) and the largest key the engine accepts (half a block:
#: the finite-key length of the Table 1 passes stays below a quarter of the sifted bits).
N_MAX = 900_000
M_MAX = 450_000


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


class _ReadQueue(wiring.Component):
    """Reads of one word port: addresses in, words out in order, at most ``depth`` reads in
    flight or buffered so that read data, which the port cannot hold back, always has room.

    Latency: the port's read latency plus one cycle (the buffered FIFO); one read a cycle."""

    def __init__(self, width: int, addr_bits: int, depth: int) -> None:
        self._depth = depth
        super().__init__({
            "addr": In(stream.Signature(addr_bits)),
            "word": Out(stream.Signature(width)),
            "port": Out(word_port(width, addr_bits)),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.buf = buf = fifo.SyncFIFOBuffered(width=len(self.word.payload),
                                                       depth=self._depth)
        owed = Signal(range(self._depth + 1))  # reads issued and not yet taken from ``word``
        issue = self.addr.valid & self.port.cmd.ready & (owed != self._depth)
        take = self.word.valid & self.word.ready
        m.d.sync += owed.eq(owed + issue - take)
        m.d.comb += [
            self.port.cmd.valid.eq(self.addr.valid & (owed != self._depth)),
            self.port.cmd.payload.addr.eq(self.addr.payload),
            self.addr.ready.eq(issue),
            self.port.rdata.ready.eq(1),
            buf.w_en.eq(self.port.rdata.valid),
            buf.w_data.eq(self.port.rdata.payload.data),
            self.word.valid.eq(buf.r_rdy),
            self.word.payload.eq(buf.r_data),
            buf.r_en.eq(self.word.ready),
        ]
        return m


class _Loader(wiring.Component):
    """Writes one bit-word stream to consecutive words of a port from ``base`` until ``last``,
    at most ``words`` of them, and reports whether ``last`` came exactly at word ``words``.

    ``start`` (one cycle) arms it, ``run`` lets it take words; ``write`` off takes them without
    writing (a refused block). ``done`` stays high from the transfer of ``last`` until the next
    ``start``."""

    def __init__(self, width: int, addr_bits: int, max_words: int, base: int) -> None:
        self._base = base
        super().__init__({
            "words_in": In(stream.Signature(bit_word(width))),
            "port": Out(word_port(width, addr_bits)),
            "start": In(1),
            "run": In(1),
            "write": In(1),
            "words": In(range(max_words + 1)),
            "done": Out(1),
            "length_ok": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        count = Signal.like(self.words)
        over = Signal()  # a word came after the expected number
        active = self.run & ~self.done
        port, inp = self.port, self.words_in
        write = active & self.write & (count != self.words)
        m.d.comb += [
            port.cmd.valid.eq(inp.valid & write),
            port.cmd.payload.we.eq(1),
            port.cmd.payload.addr.eq(self._base + count),
            port.wdata.valid.eq(inp.valid & write),
            port.wdata.payload.data.eq(inp.payload.data),
            port.wdata.payload.we.eq(-1),
            inp.ready.eq(active & (~write | port.cmd.ready)),
        ]
        with m.If(self.start):
            m.d.sync += [count.eq(0), over.eq(0), self.done.eq(0)]
        with m.Elif(inp.valid & inp.ready):
            with m.If(count == self.words):
                m.d.sync += over.eq(1)
            with m.Else():
                m.d.sync += count.eq(count + 1)
            with m.If(inp.payload.last):
                m.d.sync += [self.done.eq(1),
                             self.length_ok.eq(~over & (count + 1 == self.words))]
        return m


def _merge_ports(m: Module, outer, loader: _Loader, reader: _ReadQueue, loading) -> None:
    """One word port from the loader's writes (while ``loading``) and the reader's reads."""
    lp, rp = loader.port, reader.port
    m.d.comb += [
        outer.cmd.valid.eq(Mux(loading, lp.cmd.valid, rp.cmd.valid)),
        outer.cmd.payload.eq(Mux(loading, lp.cmd.payload, rp.cmd.payload)),
        lp.cmd.ready.eq(loading & outer.cmd.ready),
        rp.cmd.ready.eq(~loading & outer.cmd.ready),
    ]
    wiring.connect(m, wiring.flipped(outer.wdata), lp.wdata)
    wiring.connect(m, rp.rdata, wiring.flipped(outer.rdata))


class ToeplitzEngine(wiring.Component):
    """Toeplitz hash of n-bit blocks into m bits with an (n + m − 1)-bit seed, on two word ports.

    Parameters: ``width`` P (input bits a cycle, the memory word; a power of two, at least 8),
    ``window`` W (accumulators, output bits a pass; a power of two, at least P), ``n_max``,
    ``m_max``, ``read_depth`` (reads in flight per port: at least the memory's read latency
    plus 2 for full speed), ``x_base`` / ``s_base`` (word addresses of input and seed on
    their ports).

    Members: ``job``, ``x``, ``seed`` (in), ``key``, ``status`` (out) as in the module
    docstring; ``xmem``, ``smem``: the word ports of the input and the seed. Memory use:
    ceil(n_max/P) words of input, ceil(m_max/W)·W/P + ceil(n_max/P) words of seed
    (:attr:`x_words`, :attr:`s_words`; the last chunk reads past the seed into words whose
    content meets only zero input bits or discarded rows).
    """

    def __init__(self, *, width: int = WIDTH, window: int = WINDOW, n_max: int = N_MAX,
                 m_max: int = M_MAX, read_depth: int = 32, x_base: int = 0,
                 s_base: int = 0) -> None:
        if (width < 8 or window < width or width & (width - 1) or window & (window - 1)):
            raise ValueError(f"Toeplitz engine needs power-of-two width >= 8 and window >= "
                             f"width, got width={width}, window={window}")
        self.width, self.window, self.n_max, self.m_max = width, window, n_max, m_max
        self.read_depth = read_depth
        self.x_base, self.s_base = x_base, s_base
        self.x_words = _ceil_div(n_max, width)
        self.s_words = _ceil_div(m_max, window) * (window // width) + self.x_words
        self.addr_bits = ceil_log2(max(x_base + self.x_words, s_base + self.s_words) + 1)
        super().__init__({
            "job": In(stream.Signature(pa_job(ceil_log2(n_max + 1), ceil_log2(m_max + 1)))),
            "x": In(stream.Signature(bit_word(width))),
            "seed": In(stream.Signature(bit_word(width))),
            "key": Out(stream.Signature(bit_word(width))),
            "status": Out(stream.Signature(PaStatusLayout)),
            "xmem": Out(word_port(width, self.addr_bits)),
            "smem": Out(word_port(width, self.addr_bits)),
        })

    def elaborate(self, platform):
        m = Module()
        p, w = self.width, self.window
        log_p, wp = exact_log2(p), self.window // self.width
        abits = self.addr_bits

        m.submodules.x_load = x_load = _Loader(p, abits, self.x_words, self.x_base)
        m.submodules.s_load = s_load = _Loader(p, abits, self.s_words, self.s_base)
        m.submodules.x_read = x_read = _ReadQueue(p, abits, self.read_depth)
        m.submodules.s_read = s_read = _ReadQueue(p, abits, self.read_depth)
        loading = Signal()
        _merge_ports(m, self.xmem, x_load, x_read, loading)
        _merge_ports(m, self.smem, s_load, s_read, loading)
        wiring.connect(m, wiring.flipped(self.x), x_load.words_in)
        wiring.connect(m, wiring.flipped(self.seed), s_load.words_in)

        # Block geometry, registered when the job is taken.
        mm = Signal.like(self.job.payload.m)
        lx = Signal(range(self.x_words + 1))  # input words
        ls = Signal(range(self.s_words + 1))  # seed words
        shift = Signal(log_p)  # z = (-n) mod P: padding bits at the top of the last input word
        chunks = Signal(range(_ceil_div(self.m_max, w) + 1))
        bad = Signal()
        job = self.job.payload
        m.d.comb += [x_load.words.eq(lx), s_load.words.eq(ls),
                     x_load.write.eq(~bad), s_load.write.eq(~bad)]

        # Read issue: input words lx-1 .. 0 for every chunk; seed words cW/P .. cW/P+W/P+lx-1.
        xi_word, xi_chunk = Signal.like(lx), Signal.like(chunks)
        si_word = Signal(range(self.x_words + wp + 1))
        si_chunk, si_base = Signal.like(chunks), Signal(abits)
        issuing = Signal()
        m.d.comb += [
            x_read.addr.valid.eq(issuing & (xi_chunk != chunks)),
            x_read.addr.payload.eq(self.x_base + lx - 1 - xi_word),
            s_read.addr.valid.eq(issuing & (si_chunk != chunks)),
            s_read.addr.payload.eq(self.s_base + si_base + si_word),
        ]
        with m.If(x_read.addr.valid & x_read.addr.ready):
            with m.If(xi_word == lx - 1):
                m.d.sync += [xi_word.eq(0), xi_chunk.eq(xi_chunk + 1)]
            with m.Else():
                m.d.sync += xi_word.eq(xi_word + 1)
        with m.If(s_read.addr.valid & s_read.addr.ready):
            with m.If(si_word == lx + wp - 1):
                m.d.sync += [si_word.eq(0), si_chunk.eq(si_chunk + 1), si_base.eq(si_base + wp)]
            with m.Else():
                m.d.sync += si_word.eq(si_word + 1)

        # Datapath: the seed window, the aligned input word, the accumulators.
        win = Signal(w)  # seed words cW/P + k .. cW/P + k + W/P - 1 at step k
        full = Signal(w + p)
        xprev = Signal(p)  # the previous reversed input word (the funnel's low half)
        xnext = Signal(p)
        xs = Signal(p)  # input bits x[n-1-kP-q] at bit q, zeros past x[0]
        acc = Signal(w)
        sword, xword = s_read.word.payload, x_read.word.payload
        m.d.comb += [
            full.eq(Cat(win, sword)),
            xs.eq(Cat(xprev, xnext) >> shift),
        ]
        terms = Cat(*[(xs & full[r:r + p]).xor() for r in range(w)])

        # Key words: bit b of the emitted word is row ybase + b.
        ybase = Signal(range(_ceil_div(self.m_max, w) * w + p + 1))
        chunk, count = Signal.like(chunks), Signal(range(max(self.x_words, wp) + 1))
        primed = Signal()
        status = Signal(PaStatus)
        in_key = ybase < mm
        last_word = ybase + p >= mm
        rem = mm[:log_p]  # bits of the last key word when m is not a multiple of P
        mask = Cat(*[(rem == 0) | (rem > b) | ~last_word for b in range(p)])
        m.d.comb += [self.key.payload.data.eq(acc[:p] & mask),
                     self.key.payload.last.eq(last_word),
                     self.status.payload.status.eq(status)]

        start_loads = Signal()
        m.d.comb += [x_load.start.eq(start_loads), s_load.start.eq(start_loads),
                     x_load.run.eq(loading), s_load.run.eq(loading)]

        with m.FSM():
            with m.State("IDLE"):
                m.d.comb += self.job.ready.eq(1)
                with m.If(self.job.valid):
                    m.d.comb += start_loads.eq(1)
                    m.d.sync += [
                        mm.eq(job.m),
                        lx.eq((job.n + p - 1) >> log_p),
                        ls.eq((job.n + job.m + p - 2) >> log_p),
                        shift.eq(-job.n),
                        chunks.eq((job.m + w - 1) >> exact_log2(w)),
                        bad.eq((job.n == 0) | (job.n > self.n_max) | (job.m == 0)
                               | (job.m > self.m_max)),
                    ]
                    m.next = "LOAD"
            with m.State("LOAD"):
                m.d.comb += loading.eq(1)
                with m.If(x_load.done & s_load.done):
                    m.d.sync += [xi_word.eq(0), xi_chunk.eq(0), si_word.eq(0), si_chunk.eq(0),
                                 si_base.eq(0), chunk.eq(0), ybase.eq(0), count.eq(0),
                                 primed.eq(0)]
                    m.next = "STATUS"
                    with m.If(bad):
                        m.d.sync += status.eq(PaStatus.BAD_SIZE)
                    with m.Elif(~x_load.length_ok):
                        m.d.sync += status.eq(PaStatus.INPUT_LENGTH)
                    with m.Elif(~s_load.length_ok):
                        m.d.sync += status.eq(PaStatus.SEED_LENGTH)
                    with m.Else():
                        m.d.sync += status.eq(PaStatus.OK)
                        m.next = "PRELOAD"
            with m.State("PRELOAD"):
                # W/P seed words into the window, and the first input word into the funnel.
                m.d.comb += issuing.eq(1)
                m.d.comb += s_read.word.ready.eq(count != wp)
                with m.If(s_read.word.valid & (count != wp)):
                    m.d.sync += [win.eq(full[p:]), count.eq(count + 1)]
                m.d.comb += x_read.word.ready.eq(~primed)
                with m.If(x_read.word.valid & ~primed):
                    m.d.sync += [xprev.eq(xword[::-1]), primed.eq(1)]
                with m.If((count == wp) & primed):
                    m.d.sync += count.eq(0)
                    m.next = "STEP"
            with m.State("STEP"):
                m.d.comb += issuing.eq(1)
                final = count == lx - 1  # the funnel's high half is past x[0]: zeros
                m.d.comb += xnext.eq(Mux(final, 0, xword[::-1]))
                go = s_read.word.valid & (final | x_read.word.valid)
                m.d.comb += [s_read.word.ready.eq(go), x_read.word.ready.eq(go & ~final)]
                with m.If(go):
                    m.d.sync += [win.eq(full[p:]), xprev.eq(xnext), acc.eq(acc ^ terms),
                                 count.eq(count + 1)]
                    with m.If(final):
                        m.d.sync += [count.eq(0), primed.eq(0)]
                        m.next = "EMIT"
            with m.State("EMIT"):
                # W/P words out of the accumulators (rows past m dropped); acc ends at zero.
                m.d.comb += issuing.eq(1)
                m.d.comb += self.key.valid.eq(in_key)
                with m.If(~in_key | self.key.ready):
                    m.d.sync += [acc.eq(acc >> p), ybase.eq(ybase + p), count.eq(count + 1)]
                    with m.If(count == wp - 1):
                        m.d.sync += [count.eq(0), chunk.eq(chunk + 1)]
                        m.next = "NEXT"
            with m.State("NEXT"):
                m.d.comb += issuing.eq(1)
                with m.If(chunk == chunks):
                    m.next = "STATUS"
                with m.Else():
                    m.next = "PRELOAD"
            with m.State("STATUS"):
                m.d.comb += self.status.valid.eq(1)
                with m.If(self.status.ready):
                    m.next = "IDLE"
        return m


class ToeplitzRam(wiring.Component):
    """``depth`` words of block RAM behind a word port (the on-chip backing of the engine).

    Takes a command every cycle; read data one cycle after its command (never held back)."""

    def __init__(self, width: int, depth: int, addr_bits: int) -> None:
        self._width, self._depth = width, depth
        super().__init__({"port": In(word_port(width, addr_bits))})

    def elaborate(self, platform):
        m = Module()
        m.submodules.mem = mem = memory.Memory(shape=self._width, depth=self._depth, init=[])
        wr, rd = mem.write_port(), mem.read_port()
        cmd = self.port.cmd
        write = cmd.payload.we
        m.d.comb += [
            cmd.ready.eq(~write | self.port.wdata.valid),
            self.port.wdata.ready.eq(cmd.valid & write),
            wr.addr.eq(cmd.payload.addr),
            wr.data.eq(self.port.wdata.payload.data),
            wr.en.eq(cmd.valid & write & self.port.wdata.valid),
            rd.addr.eq(cmd.payload.addr),
            self.port.rdata.payload.data.eq(rd.data),
        ]
        m.d.sync += self.port.rdata.valid.eq(cmd.valid & ~write)
        return m


class ToeplitzOnChip(wiring.Component):
    """:class:`ToeplitzEngine` with input and seed in block RAM (:class:`ToeplitzRam`).

    Members: the engine's ``job``, ``x``, ``seed``, ``key``, ``status``; same latency and
    throughput (one read per port and cycle, latency 1). ``engine_options``: the engine's
    parameters (``x_base`` and ``s_base`` are 0: one RAM each)."""

    _STREAMS = ("job", "x", "seed", "key", "status")

    def __init__(self, **engine_options) -> None:
        self.engine = ToeplitzEngine(**engine_options)
        members = {name: self.engine.signature.members[name] for name in self._STREAMS}
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        eng = self.engine
        m.submodules.engine = eng
        m.submodules.x_ram = x_ram = ToeplitzRam(eng.width, eng.x_words, eng.addr_bits)
        m.submodules.s_ram = s_ram = ToeplitzRam(eng.width, eng.s_words, eng.addr_bits)
        wiring.connect(m, eng.xmem, x_ram.port)
        wiring.connect(m, eng.smem, s_ram.port)
        for name in self._STREAMS:
            forward_member(m, self, eng, name)
        return m
