"""Synthesis tops of the link PHY (``make synth``): the receiver in the CDR's recovered clock
(``rxrec``) with its crossings into the fabric (``sync``), and the transmitter in the fabric."""

from collections.abc import Callable

from amaranth.lib import wiring

from rtl.link.rx import PhyRx
from rtl.link.tx import PhyTx

RX_DOMAIN = "rxrec"
"""The recovered block clock of the CDR in front of the receiving FPGA."""

SYNTH_TOPS: dict[str, Callable[[], wiring.Component]] = {
    "link_rx": lambda: PhyRx(rx_domain=RX_DOMAIN),
    "link_tx": PhyTx,
}
