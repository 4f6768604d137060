"""Satellite sifting on the RND cache in DRAM: :class:`DramSiftUnit`, the DRAM twin of
:class:`rtl.sifting.satellite_sift.SatelliteSiftUnit` for :class:`rtl.sifting.link_layer.
SatelliteLink` (``memory="dram"``).
"""

from amaranth.hdl import Module
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from models.sifting.packets import PACKET_BITS
from rtl.common.forward import forward_member
from rtl.memory.dram_cache import DramRndCache
from rtl.memory.layouts import dram_port
from rtl.satellite.layouts import Symbol
from rtl.sifting.layouts import COUNTER_BITS, KeyBeat, Report, SiftEntry
from rtl.sifting.satellite_sift import SatelliteSift, connect_cache_to_sift
from rtl.sifting.sifter import counter_ports


class DramSiftUnit(wiring.Component):
    """:class:`~rtl.memory.dram_cache.DramRndCache` plus
    :class:`~rtl.sifting.satellite_sift.SatelliteSift`.

    Latency and throughput: the cache's (``docs/memory.md``: an OK lookup 28 cycles on an idle
    DRAM, one per about 5.4 cycles sustained, up to 16 in flight) then the sifting's register
    stages; reports wait in order. ``write`` is always ready. A cache of ``capacity`` pulses
    whose life is shorter than ``round_trip`` is refused
    (:class:`models.memory.flight.MemoryConfigError`).

    Members
    -------
    write, report, head, expired_count, entry, key and the counters
        As :class:`~rtl.sifting.satellite_sift.SatelliteSiftUnit`.
    write_overflow : Out(32)
        Cache words lost to a full write queue.
    dram : Out(dram_port(addr_bits))
        The cache's LiteDRAM native port.
    """

    def __init__(self, *, capacity: int, round_trip: int | None, addr_bits: int, lanes: int,
                 packet_bits: int = PACKET_BITS) -> None:
        self._cache = DramRndCache(capacity=capacity, round_trip=round_trip,
                                   addr_bits=addr_bits, lanes=lanes)
        self._sift = SatelliteSift(packet_bits)
        super().__init__({
            "write": In(stream.Signature(data.ArrayLayout(Symbol, lanes))),
            "report": In(stream.Signature(Report)),
            "head": Out(64),
            "expired_count": Out(COUNTER_BITS),
            "write_overflow": Out(32),
            "entry": Out(stream.Signature(SiftEntry)),
            "key": Out(stream.Signature(KeyBeat)),
            "dram": Out(dram_port(addr_bits)),
            **counter_ports(errors=True, missing=False),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.cache = cache = self._cache
        m.submodules.sift = sift = self._sift
        connect_cache_to_sift(m, self, cache, sift)
        wiring.connect(m, cache.dram, wiring.flipped(self.dram))
        forward_member(m, self, cache, "write_overflow")
        return m
