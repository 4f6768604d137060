"""Sim-only stimulus for the transmitter's side ports: link payload words and RND cache queries.

Both are stream sources with registered ``valid`` (independent of ``ready``) and seeded idle.
"""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from rtl.satellite.layouts import CacheQuery
from rtl.simonly.xorshift import Xorshift32, happens, validate_rate


class PayloadCounter(wiring.Component):
    """Link payload words 1, 2, 3, ...; offered in all but ``idle_per_1024``/1024 of cycles.

    A counting sequence makes every lost, repeated or reordered payload word visible to
    :func:`models.framing.check_downlink`. Latency none (a register), at most one word per cycle.

    Members
    -------
    o : Out(stream.Signature(32))
        The counting words.
    """

    o: Out(stream.Signature(32))

    def __init__(self, seed: int = 1, idle_per_1024: int = 512) -> None:
        validate_rate("idle_per_1024", idle_per_1024)
        self._idle = idle_per_1024
        self.random = Xorshift32(seed ^ 0x7A71_0AD5)
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        m.submodules.random = self.random
        word = Signal(32, init=1)
        m.d.comb += self.o.payload.eq(word)
        with m.If(self.o.valid & self.o.ready):
            m.d.sync += word.eq(word + 1)
        with m.If(~self.o.valid | self.o.ready):
            m.d.sync += self.o.valid.eq(~happens(self.random.value, self._idle))
        return m


class CacheQueryGenerator(wiring.Component):
    """Lookups of the RND cache around its write pointer ``head``, as the sifting block makes.

    In a fraction ``rate_per_1024`` of free cycles a query is issued. One in eight asks for a
    pulse not yet written (``head`` + 0..15: PENDING); the others ask ``1 + offset`` pulses back,
    offset uniform in ``[0, 2 * capacity)``, so about half are inside the window (OK) and half have
    been overwritten (EXPIRED). Indices below 0 wrap to 2**64 - x, which the cache reports PENDING.
    Throughput: at most one query per cycle.

    Members
    -------
    head : In(64)
        The cache's write head.
    o : Out(stream.Signature(CacheQuery))
        The queries.
    """

    head: In(64)
    o: Out(stream.Signature(CacheQuery))

    def __init__(self, capacity: int, seed: int = 1, rate_per_1024: int = 64) -> None:
        if capacity & (capacity - 1):
            raise ValueError(f"CacheQueryGenerator: capacity={capacity} must be a power of two")
        validate_rate("rate_per_1024", rate_per_1024)
        self._offset_bits = capacity.bit_length()  # offsets up to 2 * capacity
        self._rate = rate_per_1024
        self.random = Xorshift32(seed ^ 0x0C0F_FEE5)
        self.pick = Xorshift32(seed ^ 0x1234_5678)
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        m.submodules.random = self.random
        m.submodules.pick = pick = self.pick
        r = pick.value
        ahead = (self.head + r[:4])[:64]
        behind = (self.head - 1 - r[4:4 + self._offset_bits])[:64]
        with m.If(~self.o.valid | self.o.ready):
            m.d.sync += [
                self.o.valid.eq(happens(self.random.value, self._rate)),
                self.o.payload.pulse.eq(Mux(r[29:32] == 0, ahead, behind)),
            ]
        return m
