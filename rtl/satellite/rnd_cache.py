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
payload). ``rows`` is a parameter; the default 16384 rows x 4 lanes (64 Ki pulses) fits 16 ECP5
EBRs and covers the compressed-time co-simulation.

Design
------
The read port is not transparent: a lookup sees the rows written before its cycle and is decided
against the ``head`` of that cycle (a beat written in the same cycle counts as not yet written,
so the answer is PENDING, never a stale symbol). Transparency would put a write-data bypass
multiplexer behind the block RAM outputs, whose clock-to-out (4.3 ns on ECP5-8) leaves no room
for logic at 156.25 MHz. Stage 1 is the block RAM read, with the query's pulse and the head and
window floor of its cycle; stage 2 registers the row exactly as the RAM outputs it (no logic in
between) with the status decided from stage 1's registers. The answer is the stage-2 registers
plus the lane multiplexer. ``floor = head - rows*lanes`` is kept as a signed register next to
``head`` so that the window check is two parallel compares, not a subtract followed by a compare.

Stream contract, latency, throughput
------------------------------------
``write`` is always ready. ``query`` -> ``answer``: two cycles latency, one lookup per cycle,
in order; ``answer`` keeps valid/ready backpressure (a stalled answer holds both stages, then
``query.ready`` drops; nothing is lost or repeated)::

    clk          _/‾\_/‾\_/‾\_/‾\_/‾\_
    query.valid  ‾‾‾‾‾‾‾‾\____________
    query.pulse    n0  n1
    stage 1            r0  r1            (block RAM read of n0's row, head h0)
    answer.valid ________/‾‾‾‾‾‾‾\____
    answer               a0  a1
"""

from amaranth.hdl import Cat, Module, Mux, Signal, signed
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
        row_layout = data.ArrayLayout(Symbol, lanes)

        m.submodules.mem = mem = memory.Memory(shape=row_layout, depth=rows, init=[])
        wr = mem.write_port()
        rd = mem.read_port()

        # Signed so that the lowest pulse in the window may be negative while the cache fills.
        floor = Signal(signed(65), init=-self.capacity)
        step = self.write.valid * lanes
        m.d.comb += [
            self.write.ready.eq(1),
            wr.addr.eq(self.head[lane_bits:lane_bits + row_bits]),
            wr.data.eq(self.write.payload),
            wr.en.eq(self.write.valid),
        ]
        m.d.sync += [self.head.eq(self.head + step), floor.eq(floor + step)]

        s1_valid, s1_pulse, s1_head = Signal(), Signal(64), Signal(64)
        s1_floor = Signal(signed(65))
        s2_pulse, s2_head, s2_status = Signal(64), Signal(64), Signal(CacheStatus)
        s2_row = Signal(row_layout)
        s2_free = ~self.answer.valid | self.answer.ready
        s1_free = ~s1_valid | s2_free
        m.d.comb += [
            self.query.ready.eq(s1_free),
            # The read port's output register holds stage 1's row while stage 1 waits.
            rd.en.eq(s1_free),
            rd.addr.eq(self.query.payload.pulse[lane_bits:lane_bits + row_bits]),
        ]
        with m.If(s1_free):
            m.d.sync += [
                s1_valid.eq(self.query.valid),
                s1_pulse.eq(self.query.payload.pulse),
                s1_head.eq(self.head),
                s1_floor.eq(floor),
            ]

        status = Signal(CacheStatus)
        with m.If(s1_pulse >= s1_head):
            m.d.comb += status.eq(CacheStatus.PENDING)
        with m.Elif(s1_pulse < s1_floor):
            m.d.comb += status.eq(CacheStatus.EXPIRED)
        with m.Else():
            m.d.comb += status.eq(CacheStatus.OK)
        with m.If(s2_free):
            m.d.sync += [
                self.answer.valid.eq(s1_valid),
                s2_pulse.eq(s1_pulse),
                s2_head.eq(s1_head),
                s2_status.eq(status),
                s2_row.eq(rd.data),
            ]

        lane = s2_pulse[:lane_bits] if lane_bits else 0
        ok = s2_status == CacheStatus.OK
        # One whole-vector assignment (not per field): Icarus never evaluates a partial
        # `always @*` whose inputs keep their initial value, which leaves fields at X.
        m.d.comb += self.answer.payload.as_value().eq(Cat(
            s2_pulse, s2_head, s2_status,
            # Outside the window the row holds some other pulse's symbol: never let it out.
            Mux(ok, s2_row[lane], 0),
        ))
        with m.If(self.answer.valid & self.answer.ready):
            with m.If(s2_status == CacheStatus.EXPIRED):
                m.d.sync += self.expired_count.eq(self.expired_count + 1)
            with m.If(s2_status == CacheStatus.PENDING):
                m.d.sync += self.pending_count.eq(self.pending_count + 1)
        return m
