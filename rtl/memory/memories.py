"""The flight-size memories on one DRAM: the RND cache on port 0, the record store on port 1.

One LiteDRAM core (:class:`rtl.memory.litedram.LiteDram`) serves both (a satellite build uses
only the cache, a ground build only the store; the simulation carries both to show them sharing
a controller). ``port_model``: a behavioural stand-in for the core
(:class:`rtl.simonly.dram_port_model.DramPortModel`), for Icarus, which cannot run LiteDRAM's
Verilog. The cache's and the store's ports are this component's own; the DRAM layout puts
the cache at word 0 and the store right after it.
"""

from amaranth.hdl import Module
from amaranth.lib import wiring

from rtl.common.forward import forward_member
from rtl.memory.dram_cache import DramRndCache
from rtl.memory.dram_store import DramRecordStore
from rtl.memory.litedram import LiteDram
from rtl.memory.litedram_gen import CoreConfig, core_address_bits


class DramMemories(wiring.Component):
    """:class:`DramRndCache` and :class:`DramRecordStore` on one LiteDRAM core.

    Members: the cache's (``write``, ``query``, ``answer``, ``head``, ``expired_count``,
    ``pending_count``, ``write_overflow``), the store's (``w_stream``, ``r_stream``, ``level``)
    and the core's ``refresh``. Latency and throughput: the two components' docstrings.
    """

    _CACHE = ("write", "query", "answer", "head", "expired_count", "pending_count",
              "write_overflow")
    _STORE = ("w_stream", "r_stream", "level")

    def __init__(self, *, capacity: int, round_trip: int, store_width: int, store_depth: int,
                 frame_records: int, core: CoreConfig | None = None, port_model: bool = False,
                 verilog_words: bool = False, **cache_options) -> None:
        core = core or CoreConfig()
        bits = core_address_bits(core)
        if port_model:
            # Simulation only (Icarus): see rtl.simonly.dram_port_model.
            from rtl.simonly.dram_port_model import DramPortModel
            words = capacity // 32 + store_depth
            self.core = DramPortModel(bits, core.ports, words=1 << (words - 1).bit_length(),
                                      verilog=verilog_words)
        else:
            self.core = LiteDram(core)
        self.cache = DramRndCache(capacity=capacity, round_trip=round_trip, addr_bits=bits,
                                  **cache_options)
        self.store = DramRecordStore(width=store_width, depth=store_depth,
                                     frame_records=frame_records, addr_bits=bits,
                                     base=capacity // 32)
        members = {name: self.cache.signature.members[name] for name in self._CACHE}
        members |= {name: self.store.signature.members[name] for name in self._STORE}
        members["refresh"] = self.core.signature.members["refresh"]
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        m.submodules.core, m.submodules.cache = self.core, self.cache
        m.submodules.store = self.store
        wiring.connect(m, self.cache.dram, self.core.port0)
        wiring.connect(m, self.store.dram, self.core.port1)
        for name in self._CACHE:
            forward_member(m, self, self.cache, name)
        for name in self._STORE:
            forward_member(m, self, self.store, name)
        forward_member(m, self, self.core, "refresh")
        return m
