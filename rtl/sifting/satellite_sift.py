r"""Satellite sifting (SPEC 5): reports in, RND cache lookups, sift entries and key beats out.

Overview
--------
Each report (pulse n, reported basis, sampled, bit if sampled) becomes one RND cache query; its
other fields wait in a 4-deep FIFO until the answer returns. The answer gives the sift entry
(``models.sifting.entries.satellite_codes``): intensity of the symbol and basis match, or
intensity 3 ("dropped") when the lookup is EXPIRED or PENDING, never a wrong symbol. A pulse
sent with the safe symbol (laser off) has intensity code 3 in the cache: its entry is
"dropped" as well (match 0), so both sides drop the detection. The entry
goes to ``entry`` (for the downlink sift message) and, with the symbol bit as key bit and the
reported bit as reference, to the shared :class:`~rtl.sifting.sifter.Sifter`.

:class:`SatelliteSiftUnit` is the RND cache with this block attached (the ``satellite_sift``
synthesis top and the unit under test).

Latency, throughput
-------------------
One report per cycle (the cache answers in ``ANSWER_LATENCY`` = 3 cycles, then a register
stage); report to entry: 5 cycles. ``entry`` and ``key`` both stall the block; the link
delivers at most one report per 32 cycles, so in operation neither ever does
(``docs/sifting.md``)::

    clk          _/‾\_/‾\_/‾\_/‾\_/‾\_/‾\_/‾\_
    report.valid ‾‾‾‾‾‾‾‾\____________________
    query            q0  q1
    answer                       a0  a1
    entry.valid  ____________________/‾‾‾‾‾‾‾\  (entry e0 two cycles after a0)
"""

from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import data, fifo, stream, wiring
from amaranth.lib.wiring import In, Out

from models.constants import LANES
from models.memory.flight import check_cache_life
from models.sifting.entries import DROPPED_INTENSITY
from models.sifting.packets import PACKET_BITS
from rtl.satellite.layouts import CacheAnswer, CacheQuery, CacheStatus, Symbol
from rtl.satellite.rnd_cache import ANSWER_LATENCY, RndCache
from rtl.sifting.layouts import COUNTER_BITS, KeyBeat, Report, SiftEntry
from rtl.sifting.sifter import Sifter, counter_ports, forward_counters

# One report waits here per lookup in the cache's pipeline, plus one written while the oldest
# is read: full throughput with no stall.
PENDING_DEPTH = ANSWER_LATENCY + 1


class SatelliteSift(wiring.Component):
    """Reports to RND cache queries, answers to sift entries and key beats.

    Latency: report to entry five cycles (cache three, then a register stage); one report per
    cycle; ``entry`` and ``key`` both stall the block.

    Members
    -------
    report : In(stream.Signature(Report))
        Reports from the uplink receiver.
    query, answer : Out(stream.Signature(CacheQuery)), In(stream.Signature(CacheAnswer))
        RND cache lookup of each report's pulse.
    entry : Out(stream.Signature(SiftEntry))
        The sift entry of each report, for the downlink message.
    key : Out(stream.Signature(KeyBeat))
        Sifted key beats.
    detected, dropped, packets, errors : Out
        Counters of :func:`~rtl.sifting.sifter.counter_ports`.
    """

    def __init__(self, packet_bits: int = PACKET_BITS) -> None:
        self._packet_bits = packet_bits
        super().__init__({
            "report": In(stream.Signature(Report)),
            "query": Out(stream.Signature(CacheQuery)),
            "answer": In(stream.Signature(CacheAnswer)),
            "entry": Out(stream.Signature(SiftEntry)),
            "key": Out(stream.Signature(KeyBeat)),
            **counter_ports(errors=True, missing=False),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.sifter = sifter = Sifter(self._packet_bits, count_errors=True)
        m.submodules.pending = pending = fifo.SyncFIFO(width=3, depth=PENDING_DEPTH)
        rep = self.report.payload

        m.d.comb += [
            self.query.valid.eq(self.report.valid & pending.w_rdy),
            self.query.payload.pulse.eq(rep.pulse),
            self.report.ready.eq(self.query.ready & pending.w_rdy),
            pending.w_en.eq(self.report.valid & self.report.ready),
            pending.w_data.eq(Cat(rep.basis, rep.sampled, rep.bit)),
        ]

        # Stage A registers the answer (the cache's 64-bit window compares end here) together
        # with the report fields that waited for it.
        wait_layout = data.StructLayout({"basis": 1, "sampled": 1, "bit": 1})
        a_valid = Signal()
        a_ok = Signal()
        a_symbol = Signal(Symbol)
        a_wait = Signal(wait_layout)
        entry = data.View(SiftEntry, sifter.i.payload.entry)
        entry_free = ~self.entry.valid | self.entry.ready
        a_take = a_valid & entry_free & sifter.i.ready
        a_free = ~a_valid | a_take
        load = self.answer.valid & a_free
        m.d.comb += [
            self.answer.ready.eq(a_free),
            pending.r_en.eq(load),
            entry.intensity.eq(Mux(a_ok, a_symbol.intensity, DROPPED_INTENSITY)),
            entry.match.eq(a_ok & (a_symbol.intensity.as_value() != DROPPED_INTENSITY)
                           & (a_symbol.basis.as_value() == a_wait.basis)),
            sifter.i.payload.basis.eq(a_wait.basis),
            sifter.i.payload.sampled.eq(a_wait.sampled),
            sifter.i.payload.key_bit.eq(a_symbol.bit),
            sifter.i.payload.ref_bit.eq(a_wait.bit),
            sifter.i.valid.eq(a_valid & entry_free),
        ]
        with m.If(a_take):
            m.d.sync += a_valid.eq(0)
        with m.If(load):
            m.d.sync += [
                a_valid.eq(1),
                a_ok.eq(self.answer.payload.status == CacheStatus.OK),
                a_symbol.eq(self.answer.payload.symbol),
                a_wait.eq(pending.r_data),
            ]
        with m.If(self.entry.valid & self.entry.ready):
            m.d.sync += self.entry.valid.eq(0)
        with m.If(a_take):
            m.d.sync += [self.entry.valid.eq(1), self.entry.payload.eq(entry)]
        wiring.connect(m, sifter.key, wiring.flipped(self.key))
        forward_counters(m, self, sifter)
        return m


class SatelliteSiftUnit(wiring.Component):
    """:class:`~rtl.satellite.rnd_cache.RndCache` plus :class:`SatelliteSift`.

    Latency, throughput as :class:`SatelliteSift` (report to entry five cycles, one per cycle);
    ``write`` takes one beat per cycle, always. ``round_trip`` (pulses, optional): the link
    round trip; a cache of ``lanes * rows`` pulses shorter than it is refused
    (:class:`models.memory.flight.MemoryConfigError`).

    Members
    -------
    write : In(stream.Signature(ArrayLayout(Symbol, lanes)))
        The cache's symbol input (one beat of ``lanes`` pulses).
    report : In(stream.Signature(Report))
        Reports to sift.
    head, expired_count : Out
        The cache's write head and expired lookups.
    entry, key : Out
        As :class:`SatelliteSift`; and its counters.
    """

    def __init__(self, lanes: int = LANES, rows: int = 16384, packet_bits: int = PACKET_BITS, *,
                 ecp5_ebr: bool = False, round_trip: int | None = None) -> None:
        # A cache life (lanes x rows pulses) below the link round trip would answer every
        # lookup EXPIRED: refused here rather than built.
        check_cache_life("SatelliteSiftUnit", lanes * rows, round_trip)
        self._cache = RndCache(lanes, rows, ecp5_ebr=ecp5_ebr)
        self._packet_bits = packet_bits
        super().__init__({
            "write": In(stream.Signature(data.ArrayLayout(Symbol, lanes))),
            "report": In(stream.Signature(Report)),
            "head": Out(64),
            "expired_count": Out(COUNTER_BITS),
            "entry": Out(stream.Signature(SiftEntry)),
            "key": Out(stream.Signature(KeyBeat)),
            **counter_ports(errors=True, missing=False),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.cache = cache = self._cache
        m.submodules.sift = sift = SatelliteSift(self._packet_bits)
        connect_cache_to_sift(m, self, cache, sift)
        return m


def connect_cache_to_sift(m: Module, unit: wiring.Component, cache: wiring.Component,
                          sift: SatelliteSift) -> None:
    """Wire an RND cache (block RAM or DRAM) to :class:`SatelliteSift` inside a sift unit
    ``unit``: writes and reports in, lookups between them, entries, key and counters out; the
    cache's ``head`` and ``expired_count`` forwarded."""
    wiring.connect(m, wiring.flipped(unit.write), cache.write)
    wiring.connect(m, wiring.flipped(unit.report), sift.report)
    wiring.connect(m, sift.query, cache.query)
    wiring.connect(m, cache.answer, sift.answer)
    wiring.connect(m, sift.entry, wiring.flipped(unit.entry))
    wiring.connect(m, sift.key, wiring.flipped(unit.key))
    m.d.comb += [unit.head.eq(cache.head), unit.expired_count.eq(cache.expired_count)]
    forward_counters(m, unit, sift)
