"""Test top of the PHY loopback: :class:`~rtl.link.tx.PhyTx` and :class:`~rtl.link.rx.PhyRx`
side by side, unconnected (the cocotb test, :mod:`tb.link.cocotb_loopback`, carries the line
bits from one to the other through :class:`models.link.channel.BitChannel`)."""

from models.link.receiver import DEFAULT_RX, RxConfig
from rtl.link.rx import RX_COUNTERS, PhyRx
from rtl.link.tx import PhyTx
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
