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
window floor of its cycle; stage 2 registers the row exactly as the RAM outputs it, with the
status decided from stage 1's registers; stage 3 (the answer registers) takes the lane
multiplexer and the status gate, so the answer leaves straight from registers. With ``ecp5_ebr``
stage 2 is the block RAMs' own output register (``DP16KD`` ``REGMODE_B=OUTREG``, which Yosys
never infers): a fabric register there sat 2.9 ns of routing away from its block RAM in the
``satellite_sift`` top (44 block RAMs spread over the die), also with the lane multiplexer moved
out of its stage. The ECP5 version writes one cycle late and a read of the row being written
takes the registered beat (``s1_hit``): a read colliding with the other port's write returns
undefined data on ECP5. ``floor = head - rows*lanes`` is kept as a signed register next to
``head`` so that the window check is two parallel compares, not a subtract followed by a compare.

Stream contract, latency, throughput
------------------------------------
``write`` is always ready. ``query`` -> ``answer``: :data:`ANSWER_LATENCY` (3) cycles, one
lookup per cycle, in order; ``answer`` keeps valid/ready backpressure (a stalled answer moves
to a skid register behind stage 3, from the next cycle every stage holds and ``query.ready``
drops; nothing is lost or repeated). The skid register is there for timing: ``query.ready`` and
the block RAM enables depend on the cache's own registers only, not on ``answer.ready`` (which
in ``satellite_sift`` came from three blocks downstream, ``docs/timing.md``)::

    clk          _/‾\_/‾\_/‾\_/‾\_/‾\_/‾\_
    query.valid  ‾‾‾‾‾‾‾‾\________________
    query.pulse    n0  n1
    stage 1            r0  r1                (block RAM read of n0's row, head h0)
    stage 2                r0  r1            (raw row register, status)
    answer.valid ____________/‾‾‾‾‾‾‾\____
    answer                   a0  a1
"""

from functools import partial

from amaranth.hdl import Cat, ClockSignal, Instance, Module, Mux, Signal, Value, signed
from amaranth.lib import data, memory, stream, wiring
from amaranth.lib.wiring import In, Out

from models.constants import LANES
from rtl.satellite.layouts import CacheAnswer, CacheQuery, CacheStatus, Symbol

#: Cycles from a query's transfer to its answer's valid (stages ready). Users size their
#: in-flight bookkeeping from it (``rtl.sifting.satellite_sift.PENDING_DEPTH``).
ANSWER_LATENCY = 3


#: Depth of one ECP5 DP16KD block RAM in its 1-bit-wide configuration.
EBR_DEPTH = 16384


def cache_status(m: Module, pulse: Value, head: Value, floor: Value) -> Signal:
    """The :class:`CacheStatus` of a lookup of ``pulse`` in a cache that holds the pulses from
    ``floor`` (signed: negative while the cache fills) up to, not including, ``head``: pending
    at or above the head, expired below the floor, else OK (combinational, in ``m``)."""
    status = Signal(CacheStatus)
    with m.If(pulse >= head):
        m.d.comb += status.eq(CacheStatus.PENDING)
    with m.Elif(pulse < floor):
        m.d.comb += status.eq(CacheStatus.EXPIRED)
    with m.Else():
        m.d.comb += status.eq(CacheStatus.OK)
    return status


def cache_members(lanes: int) -> dict:
    """The ports every RND cache has (on-chip :class:`RndCache`, DRAM-backed
    :class:`rtl.memory.dram_cache.DramRndCache`): rows in, lookups in, answers out, the head
    and the expired/pending counters."""
    return {
        "write": In(stream.Signature(data.ArrayLayout(Symbol, lanes))),
        "query": In(stream.Signature(CacheQuery)),
        "answer": Out(stream.Signature(CacheAnswer)),
        "head": Out(64),
        "expired_count": Out(32),
        "pending_count": Out(32),
    }


class RndCache(wiring.Component):
    """Ring buffer of the newest pulses' symbols, looked up by pulse index.

    Latency: ``query`` to ``answer`` :data:`ANSWER_LATENCY` (3) cycles, one lookup per cycle in
    order, ``answer`` with backpressure (skid register); ``write`` always ready, one beat per cycle.
    ``ecp5_ebr``: build the row store from ECP5 ``DP16KD`` primitives with their output register
    (for synthesis); with ``ebr_model`` too, from their behavioural model
    :class:`rtl.simonly.ecp5_primitives.DP16KD` instead, which simulators run (a read colliding
    with the delayed write returns wrong data there, as it may on ECP5).

    Members
    -------
    write : In(stream.Signature(ArrayLayout(Symbol, lanes)))
        One beat of ``lanes`` consecutive pulses' symbols.
    query : In(stream.Signature(CacheQuery))
        Pulse index to look up.
    answer : Out(stream.Signature(CacheAnswer))
        OK with the symbol, PENDING or EXPIRED, and the head used.
    head : Out(64)
        Pulses written.
    expired_count, pending_count : Out(32)
        Lookups answered EXPIRED, PENDING.
    """

    def __init__(self, lanes: int = LANES, rows: int = 16384, *, ecp5_ebr: bool = False,
                 ebr_model: bool = False) -> None:
        if lanes & (lanes - 1) or rows & (rows - 1):
            raise ValueError(f"RndCache: lanes={lanes} and rows={rows} must be powers of two")
        if ecp5_ebr and rows > EBR_DEPTH:
            raise ValueError(f"RndCache: ecp5_ebr needs rows <= {EBR_DEPTH}, got {rows}")
        self._lanes = lanes
        self._rows = rows
        self._ecp5_ebr = ecp5_ebr
        self._ebr_model = ebr_model
        super().__init__(cache_members(lanes))

    @property
    def capacity(self) -> int:
        return self._lanes * self._rows

    def elaborate(self, platform):
        m = Module()
        lanes, rows = self._lanes, self._rows
        lane_bits = (lanes - 1).bit_length()
        row_bits = (rows - 1).bit_length()
        row_layout = data.ArrayLayout(Symbol, lanes)

        # Signed so that the lowest pulse in the window may be negative while the cache fills.
        floor = Signal(signed(65), init=-self.capacity)
        step = self.write.valid * lanes
        m.d.comb += self.write.ready.eq(1)
        m.d.sync += [self.head.eq(self.head + step), floor.eq(floor + step)]
        # The ECP5 block RAM write is one cycle late (registered beat): a read in the same cycle
        # as that write sees neither old nor new data, so such a read takes the registered beat
        # instead (`s1_hit`, carried along with the row).
        w_en, w_addr, w_data = Signal(), Signal(row_bits), Signal(row_layout)
        m.d.sync += [
            w_en.eq(self.write.valid),
            w_addr.eq(self.head[lane_bits:lane_bits + row_bits]),
            w_data.eq(self.write.payload),
        ]

        s1_valid, s1_pulse, s1_head = Signal(), Signal(64), Signal(64)
        s1_floor = Signal(signed(65))
        s1_hit, s1_beat = Signal(), Signal(row_layout)
        s2_valid, s2_pulse, s2_head = Signal(), Signal(64), Signal(64)
        s2_status, s2_hit, s2_beat = Signal(CacheStatus), Signal(), Signal(row_layout)
        s3_valid, s3_pulse, s3_head = Signal(), Signal(64), Signal(64)
        s3_status, s3_symbol = Signal(CacheStatus), Signal(Symbol)
        # Stage 3 has a skid register behind it, so the stages move on registered state only
        # (`s3_free`): no path from `answer.ready` to the block RAM enables or `query.ready`.
        skid_valid, skid = Signal(), Signal(CacheAnswer)
        s3_free = ~skid_valid
        s2_free = ~s2_valid | s3_free
        s1_free = ~s1_valid | s2_free
        r_addr = self.query.payload.pulse[lane_bits:lane_bits + row_bits]
        s2_row = self._row_store(m, w_en, w_addr, w_data, r_addr, s1_free, s2_free)
        m.d.comb += self.query.ready.eq(s1_free)
        with m.If(s1_free):
            m.d.sync += [
                s1_valid.eq(self.query.valid),
                s1_pulse.eq(self.query.payload.pulse),
                s1_head.eq(self.head),
                s1_floor.eq(floor),
                s1_hit.eq(w_en & (w_addr == r_addr)),
                s1_beat.eq(w_data),
            ]

        status = cache_status(m, s1_pulse, s1_head, s1_floor)
        with m.If(s2_free):
            m.d.sync += [
                s2_valid.eq(s1_valid),
                s2_pulse.eq(s1_pulse),
                s2_head.eq(s1_head),
                s2_status.eq(status),
                s2_hit.eq(s1_hit),
                s2_beat.eq(s1_beat),
            ]

        row = Signal(row_layout)
        m.d.comb += row.eq(Mux(s2_hit, s2_beat, s2_row))
        lane = s2_pulse[:lane_bits] if lane_bits else 0
        with m.If(s3_free):
            m.d.sync += [
                s3_valid.eq(s2_valid),
                s3_pulse.eq(s2_pulse),
                s3_head.eq(s2_head),
                s3_status.eq(s2_status),
                # Outside the window the row holds some other pulse's symbol: never let it out.
                s3_symbol.eq(Mux(s2_status == CacheStatus.OK, row[lane], 0)),
            ]
        # One whole-vector assignment (not per field): Icarus never evaluates a partial
        # `always @*` whose inputs keep their initial value, which leaves fields at X.
        s3_answer = Cat(s3_pulse, s3_head, s3_status, s3_symbol)
        m.d.comb += [
            self.answer.valid.eq(skid_valid | s3_valid),
            self.answer.payload.as_value().eq(Mux(skid_valid, skid.as_value(), s3_answer)),
        ]
        with m.If(skid_valid & self.answer.ready):
            m.d.sync += skid_valid.eq(0)
        with m.If(~skid_valid & s3_valid & ~self.answer.ready):
            # Stage 3 takes the next answer this cycle: the stalled one waits in the skid.
            m.d.sync += [skid_valid.eq(1), skid.as_value().eq(s3_answer)]
        with m.If(self.answer.valid & self.answer.ready):
            with m.If(self.answer.payload.status == CacheStatus.EXPIRED):
                m.d.sync += self.expired_count.eq(self.expired_count + 1)
            with m.If(self.answer.payload.status == CacheStatus.PENDING):
                m.d.sync += self.pending_count.eq(self.pending_count + 1)
        return m

    def _row_store(self, m: Module, w_en: Value, w_addr: Value, w_data: Value, r_addr: Value,
                   r_en: Value, o_en: Value) -> Value:
        """Rows, written at ``w_addr``; reading ``r_addr`` when ``r_en`` (stage 1), the row
        registered when ``o_en`` (stage 2). A read of the row written in the same cycle may
        return anything (the caller bypasses it)."""
        row_layout = data.ArrayLayout(Symbol, self._lanes)
        out = Signal(row_layout)
        if not self._ecp5_ebr:
            # Written in the beat's own cycle: a read one cycle later already sees the row, and
            # the caller's bypass then returns the same beat. (The delayed write of the ECP5
            # version, simulated here, made Yosys 0.70's ABC9 reintegration assert on the
            # satellite_tx top.)
            m.submodules.mem = mem = memory.Memory(shape=row_layout, depth=self._rows, init=[])
            wr = mem.write_port()
            rd = mem.read_port()
            lane_bits = (self._lanes - 1).bit_length()
            m.d.comb += [
                wr.addr.eq(self.head[lane_bits:lane_bits + len(w_addr)]),
                wr.data.eq(self.write.payload), wr.en.eq(self.write.valid),
                rd.addr.eq(r_addr), rd.en.eq(r_en),
            ]
            with m.If(o_en):
                m.d.sync += out.eq(rd.data)
            return out
        # One 16384 x 1 block RAM per bit; stage 2 is its output register (REGMODE OUTREG,
        # clock enable OCEB), whose clock-to-out is 4.3 ns shorter than the array's.
        addr_pins = (EBR_DEPTH - 1).bit_length()
        wa, ra = Signal(addr_pins), Signal(addr_pins)
        m.d.comb += [wa.eq(w_addr), ra.eq(r_addr)]
        w_bits, out_bits = w_data.as_value(), out.as_value()
        if self._ebr_model:
            from rtl.simonly.ecp5_primitives import DP16KD
            make = DP16KD
        else:
            make = partial(Instance, "DP16KD")
        for b in range(len(w_bits)):
            ports = {f"i_ADA{k}": wa[k] for k in range(addr_pins)}
            ports |= {f"i_ADB{k}": ra[k] for k in range(addr_pins)}
            ports |= {f"i_DIA{k}": w_bits[b] if k == 0 else 0 for k in range(18)}
            ports |= {f"i_DIB{k}": 0 for k in range(18)}
            ports |= {f"i_CS{p}{k}": 0 for p in "AB" for k in range(3)}
            dob = Signal(name=f"dob{b}")
            m.d.comb += out_bits[b].eq(dob)
            m.submodules[f"ebr{b}"] = make(
                p_DATA_WIDTH_A=1, p_DATA_WIDTH_B=1, p_REGMODE_A="NOREG", p_REGMODE_B="OUTREG",
                p_RESETMODE="SYNC", p_WRITEMODE_A="NORMAL", p_WRITEMODE_B="NORMAL",
                p_CSDECODE_A="0b000", p_CSDECODE_B="0b000", p_GSR="AUTO",
                i_CLKA=ClockSignal(), i_CEA=w_en, i_OCEA=1, i_WEA=w_en, i_RSTA=0,
                i_CLKB=ClockSignal(), i_CEB=r_en, i_OCEB=o_en, i_WEB=0, i_RSTB=0,
                o_DOB0=dob, **ports,
            )
        return out
