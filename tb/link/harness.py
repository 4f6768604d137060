"""Test tops of the link PHY co-simulations (the cocotb tests carry the line bits from each
transmitter to its receiver through :class:`models.link.channel.BitChannel`):

* :func:`phy_loopback`: :class:`~rtl.link.tx.PhyTx` and :class:`~rtl.link.rx.PhyRx` side by
  side, unconnected (:mod:`tb.link.cocotb_loopback`);
* :func:`clocked_loopback`: the same in three clocks: the transmitter in the satellite's fabric
  (``sat``), the receiver in the recovered clock (``rxrec``) with its outputs in the ground's
  fabric (``sync``) (:mod:`tb.link.cocotb_clocked`);
* :class:`PhyLinkHarness`: both FPGAs' link layers joined by the PHY in both directions
  (:mod:`tb.link.cocotb_link_layer`).
"""

from amaranth.hdl import DomainRenamer, Module
from amaranth.lib import wiring
from amaranth.lib.wiring import Out

from models.link.receiver import DEFAULT_RX, RxConfig
from rtl.common.forward import forward_member
from rtl.link.layouts import RxWord
from rtl.link.rx import RX_COUNTERS, PhyRx
from rtl.link.tx import PhyTx
from rtl.sifting.crc_append import MessageWord
from rtl.sifting.link_layer import GroundLink, SatelliteLink
from tb.sifting.harness import FlatHarness

LOOPBACK_PORTS = {
    "msg": ("tx", "msg"), "sync_in": ("tx", "sync"), "line": ("tx", "o"),
    "rx": ("rx", "i"), "o": ("rx", "o"), "sync": ("rx", "sync"),
    "locked": ("rx", "locked"), "offset": ("rx", "offset"),
    **{name: ("rx", name) for name in RX_COUNTERS},
}


def phy_loopback(config: RxConfig = DEFAULT_RX, depth: int = 16) -> FlatHarness:
    """Both PHY ends with their ports on the top (names in :data:`LOOPBACK_PORTS`)."""
    return FlatHarness({"tx": PhyTx(), "rx": PhyRx(config, depth)}, LOOPBACK_PORTS)


CLOCKED_PORTS = {**LOOPBACK_PORTS, **{name: ("rx", name) for name in
                                      ("cdr_lock", "cdr_locked", "cdr_lock_losses")}}
TX_DOMAIN, RX_DOMAIN = "sat", "rxrec"


def clocked_loopback(config: RxConfig = DEFAULT_RX, depth: int = 16) -> FlatHarness:
    """Both PHY ends in their own clocks (``sat_clk``, ``rxrec_clk``, ``clk``), their ports on
    the top (names in :data:`CLOCKED_PORTS`)."""
    return FlatHarness({"tx": DomainRenamer(TX_DOMAIN)(PhyTx()),
                        "rx": PhyRx(config, depth, rx_domain=RX_DOMAIN)}, CLOCKED_PORTS)


# direction -> (source block, its port, sink block, its port)
_JOINS = {"up": ("gnd", "up", "sat", "up"), "down": ("sat", "down", "gnd", "down")}


class PhyLinkHarness(wiring.Component):
    """Both FPGAs' link layers (:mod:`rtl.sifting.link_layer`) joined by the PHY in both
    directions: ``GroundLink.up -> PhyTx`` (line ``up_line``) and ``up_rx -> PhyRx ->
    SatelliteLink.up``; ``SatelliteLink.down -> PhyTx`` (``down_line``, sync requests on
    ``down_sync``) and ``down_rx -> PhyRx -> GroundLink.down`` (sync counters on
    ``down_rx_sync``). The cocotb test (:mod:`tb.link.cocotb_link_layer`) carries the line bits
    through the bit channel. The link layers' other ports are on the top as ``sat_*`` /
    ``gnd_*``; ``<dir>_sent`` / ``<dir>_got`` (high in a cycle with a transfer, the word on
    ``<dir>_sent_word`` / ``<dir>_got_word``) tap the words going into each transmitter and out
    of each receiver; each receiver's status and counters are ``<dir>_<name>``. A cut message
    reaches the link layer as a truncated copy (``abort`` has no place in a ``MessageWord``),
    which its CRC-32 rejects."""

    def __init__(self, sat: SatelliteLink, gnd: GroundLink, config: RxConfig = DEFAULT_RX,
                 depth: int = 16) -> None:
        self._links = {"sat": sat, "gnd": gnd}
        self._phys = {d: (PhyTx(), PhyRx(config, depth)) for d in _JOINS}
        joined = {(src, port) for src, port, _, _ in _JOINS.values()} | \
            {(dst, port) for _, _, dst, port in _JOINS.values()}
        members = {f"{name}_{port}": member for name, block in self._links.items()
                   for port, member in block.signature.members.items()
                   if (name, port) not in joined}
        for d, (tx, rx) in self._phys.items():
            members[f"{d}_line"] = tx.signature.members["o"]
            members[f"{d}_rx"] = rx.signature.members["i"]
            members[f"{d}_rx_sync"] = rx.signature.members["sync"]
            members[f"{d}_sent"] = Out(1)
            members[f"{d}_sent_word"] = Out(MessageWord)
            members[f"{d}_got"] = Out(1)
            members[f"{d}_got_word"] = Out(RxWord)
            for name in ("locked", "offset", *RX_COUNTERS):
                members[f"{d}_{name}"] = rx.signature.members[name]
        members["down_sync"] = self._phys["down"][0].signature.members["sync"]
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        for name, block in self._links.items():
            m.submodules[name] = block
            for port in block.signature.members:
                if f"{name}_{port}" in self.signature.members:
                    forward_member(m, self, block, port, f"{name}_{port}")
        for d, (src, src_port, dst, dst_port) in _JOINS.items():
            tx, rx = self._phys[d]
            m.submodules[f"{d}_tx"], m.submodules[f"{d}_rx"] = tx, rx
            source = getattr(self._links[src], src_port)
            sink = getattr(self._links[dst], dst_port)
            wiring.connect(m, source, tx.msg)
            m.d.comb += [sink.valid.eq(rx.o.valid), sink.payload.data.eq(rx.o.payload.data),
                         sink.payload.last.eq(rx.o.payload.last), rx.o.ready.eq(sink.ready)]
            m.d.comb += [getattr(self, f"{d}_sent").eq(source.valid & source.ready),
                         getattr(self, f"{d}_sent_word").eq(source.payload),
                         getattr(self, f"{d}_got").eq(rx.o.valid & rx.o.ready),
                         getattr(self, f"{d}_got_word").eq(rx.o.payload)]
            forward_member(m, self, tx, "o", f"{d}_line")
            forward_member(m, self, rx, "i", f"{d}_rx")
            forward_member(m, self, rx, "sync", f"{d}_rx_sync")
            for name in ("locked", "offset", *RX_COUNTERS):
                forward_member(m, self, rx, name, f"{d}_{name}")
        m.d.comb += self._phys["up"][0].sync.valid.eq(0)  # sync words go down only
        forward_member(m, self, self._phys["down"][0], "sync", "down_sync")
        return m
