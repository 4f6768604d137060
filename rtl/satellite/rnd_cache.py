r"""RND cache (SPEC 3.3): ring buffer of the newest pulses' symbols, looked up by pulse index.

Overview
--------
Writes come from the symbol mapper, one beat of ``lanes`` 4-bit symbols per cycle, pulses
consecutive from 0 after reset; ``head`` counts the pulses written. A beat goes to row
``(pulse // lanes) % rows``. A lookup of pulse ``n`` answers OK with the symbol (zero otherwise) if
``head - rows*lanes <= n < head``, PENDING if ``n >= head``, EXPIRED otherwise (counted in
``expired_count`` / ``pending_count``). Inside that window the row is necessarily the latest write
of its address, so no tag is stored and a stale symbol can never be returned; the ``head`` used
for the decision comes back in the answer, which makes the golden model
(:func:`models.rnd_cache.cache_lookup`) exact for any interleaving of writes and lookups.

Sizing: the window must cover the classical round trip (ground report + uplink framing + light
time both ways, about 10 ms = 6.25e6 pulses in a real pass, i.e. 3 MB: external DDR in a real
payload). ``rows`` is a parameter; the default 16384 rows x 4 lanes (64 Ki pulses) fits 4 ECP5
EBRs and covers the compressed-time co-simulation.

Stream contract, latency, throughput
------------------------------------
``write`` is always ready. ``query`` -> ``answer``: one cycle latency (synchronous block RAM
read, transparent for a same-cycle write), one lookup per cycle::

    clk          _/‾\_/‾\_/‾\_/‾\_
    query.valid  ‾‾‾‾‾‾‾‾\________
    query.pulse    n0  n1
    answer.valid ____/‾‾‾‾‾‾‾\____
    answer           a0  a1
"""

from __future__ import annotations

from amaranth.hdl import Module, Signal
from amaranth.lib import data, memory, stream, wiring
from amaranth.lib.wiring import In, Out

from rtl.satellite.layouts import CacheAnswer, CacheQuery, CacheStatus, Symbol


class RndCache(wiring.Component):
    def __init__(self, lanes: int = 4, rows: int = 16384) -> None:
        if lanes & (lanes - 1) or rows & (rows - 1):
            raise ValueError(f"RndCache: lanes={lanes} and rows={rows} must be powers of two")
        self._lanes = lanes
        self._rows = rows
        super().__init__({
            "write": In(stream.Signature(data.ArrayLayout(Symbol, lanes))),
            "query": In(stream.Signature(CacheQuery)),
            "answer": Out(stream.Signature(CacheAnswer)),
            "head": Out(64),
            "expired_count": Out(32),
            "pending_count": Out(32),
        })

    @property
    def capacity(self) -> int:
        return self._lanes * self._rows

    def elaborate(self, platform):
        m = Module()
        lanes, rows = self._lanes, self._rows
        lane_bits = (lanes - 1).bit_length()
        row_bits = (rows - 1).bit_length()

        m.submodules.mem = mem = memory.Memory(
            shape=data.ArrayLayout(Symbol, lanes), depth=rows, init=[]
        )
        wr = mem.write_port()
        rd = mem.read_port(transparent_for=(wr,))

        written = Signal()
        m.d.comb += [
            self.write.ready.eq(1),
            written.eq(self.write.valid),
            wr.addr.eq(self.head[lane_bits:lane_bits + row_bits]),
            wr.data.eq(self.write.payload),
            wr.en.eq(written),
        ]
        head_next = Signal(64)
        m.d.comb += head_next.eq(self.head + (written * lanes))
        m.d.sync += self.head.eq(head_next)

        # Stage 1 holds the query, and the head its read port saw, while its answer is offered.
        pulse = Signal(64)
        head_at_read = Signal(64)
        advance = ~self.answer.valid | self.answer.ready
        m.d.comb += [
            self.query.ready.eq(advance),
            rd.en.eq(advance),
            rd.addr.eq(self.query.payload.pulse[lane_bits:lane_bits + row_bits]),
        ]
        with m.If(advance):
            m.d.sync += [
                self.answer.valid.eq(self.query.valid),
                pulse.eq(self.query.payload.pulse),
                head_at_read.eq(head_next),
            ]

        status = Signal(CacheStatus)
        with m.If(pulse >= head_at_read):
            m.d.comb += status.eq(CacheStatus.PENDING)
        with m.Elif((head_at_read > self.capacity) & (pulse < head_at_read - self.capacity)):
            m.d.comb += status.eq(CacheStatus.EXPIRED)
        with m.Else():
            m.d.comb += status.eq(CacheStatus.OK)
        lane = pulse[:lane_bits] if lane_bits else 0
        m.d.comb += [
            self.answer.payload.pulse.eq(pulse),
            self.answer.payload.head.eq(head_at_read),
            self.answer.payload.status.eq(status),
        ]
        # Outside the window the row holds some other pulse's symbol: never let it out.
        with m.If(status == CacheStatus.OK):
            m.d.comb += self.answer.payload.symbol.eq(rd.data[lane])
        with m.If(self.answer.valid & self.answer.ready):
            with m.If(status == CacheStatus.EXPIRED):
                m.d.sync += self.expired_count.eq(self.expired_count + 1)
            with m.If(status == CacheStatus.PENDING):
                m.d.sync += self.pending_count.eq(self.pending_count + 1)
        return m
