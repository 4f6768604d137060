r"""The satellite FPGA (``satellite_fpga``): every satellite block on pins, one clock tree.

::

    refclk, rst_n --> Ecp5Clocks: sync 156.25 MHz, eclk 312.5 MHz, line 166.015625 MHz
    qrng_data/valid --IDDRX1F--> SatelliteTx --symbols--> ModulatorGearbox --> im, pm, trigger
                         |            `--symbols--> SatelliteLink (RND cache, sifting) --key-->
                         `--downlink words--> DownlinkPin --> sync_tx      ^ up   | down
    link_rx, link_rx_clk --> LinkPort (PHY + line) ------------------------'      |
    link_tx <-- LinkPort <-- SYNC request per sync frame, messages ---------------'
    key_* <-- KeyPins <-- key;  csr_* <--> SerialRegisters: registers and counters

The RND cache the sifting reads is :class:`rtl.sifting.link_layer.SatelliteLink`'s (``DP16KD``
with output register, written with every fired beat); :class:`rtl.satellite.transmitter.
SatelliteTx`'s own cache has no reader here (``query`` idle), so synthesis removes its block
RAM. The sync framer's downlink (``sync_tx``) carries the sync headers the ground's sync
detector locks to, no payload: sift messages travel on the PHY (``link_tx``). The PHY sends a
SYNC request with frame counter ``k mod 2**24`` on each beat that starts sync frame ``k``
(pulse index a multiple of 2**16).

The RND cache is in DDR3 at its flight size (``models.memory.flight``: 2**24 pulses against
the Jinan pass's round trip): ``SatelliteLink(memory="dram")``'s port goes to
:class:`rtl.memory.ecp5_dram.Ecp5Dram` (LiteDRAM on the ECP5 DDR3 PHY, its own ``dram``
domain from PLL 3, ``ddram_*`` pins), whose CSR bus the control processor drives through the
register port (``dram_bus_*``) to initialise and level the DRAM.

Latency and throughput: those of the blocks; one beat of 4 pulses per fabric cycle.
"""

from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out, connect

from models.constants import FRAME_PULSES, LANES
from models.link.line_code import ARG_BITS
from models.memory.flight import flight_pass_sizes
from rtl.common.forward import forward_member
from rtl.common.streams import RegisterSlice
from rtl.memory.ecp5_dram import Ecp5Dram
from rtl.satellite.gearbox import CHANNEL_PINS, ModulatorGearbox
from rtl.satellite.transmitter import SatelliteTx
from rtl.sifting.layouts import KeyBeat
from rtl.sifting.link_layer import SatelliteLink
from rtl.tops.clocks import Ecp5Clocks
from rtl.tops.csr import bind_registers, registers_of
from rtl.tops.line import LINE_PINS, LinkPort
from rtl.tops.pins import (
    DRAM_SKIP,
    KEY_PINS,
    QRNG_PINS,
    SHARED_PINS,
    DownlinkPin,
    KeyPins,
    QrngPins,
    connect_dram,
)

#: Blocks whose resources ``make synth`` reports apart (hierarchy kept in synthesis).
BUDGET_BLOCKS = ("clocks", "qrng", "tx.intake", "tx.mapper", "tx.timebase", "tx.framer",
                 "gearbox", "link", "dram", "port", "downlink", "key", "csr")
#: Ports of the blocks that are not registers (wired inside, or not used).
_TX_SKIP = {"cache_head"}


class SatelliteFpga(wiring.Component):
    """The satellite FPGA top (module docstring); all members are pins."""

    def __init__(self) -> None:
        sizes = flight_pass_sizes()
        self.clocks = Ecp5Clocks(gearbox=True, dram=True)
        self.qrng = QrngPins(LANES)
        self.tx = SatelliteTx(LANES)
        self.gearbox = ModulatorGearbox(LANES, ecp5=True)
        self.link = SatelliteLink(memory="dram", cache_pulses=sizes.cache_pulses,
                                  round_trip=sizes.round_trip_pulses)
        self.dram = Ecp5Dram()
        self.port = LinkPort()
        self.downlink = DownlinkPin()
        self.key = KeyPins()
        self.csr = registers_of(self._registers())
        super().__init__({"refclk": In(1), "rst_n": In(1), "qrng_data": In(QRNG_PINS),
                          "qrng_valid": In(1), "im": Out(CHANNEL_PINS["im"]),
                          "pm": Out(CHANNEL_PINS["pm"]), "trigger": Out(CHANNEL_PINS["trigger"]),
                          "sync_tx": Out(1)} | SHARED_PINS)

    def _registers(self) -> tuple:
        return (("clk_", self.clocks, {"refclk", "rst_n"}),
                ("qrng_", self.qrng, {"qrng_data", "qrng_valid"}),
                ("tx_", self.tx, _TX_SKIP),
                ("gear_", self.gearbox, set(CHANNEL_PINS)),
                ("link_", self.link, set()),
                ("dram_", self.dram, DRAM_SKIP),
                ("phy_", self.port, {"line_tx", "line_rx", "line_rx_clk"}))

    def elaborate(self, platform):
        m = Module()
        for name in ("clocks", "qrng", "tx", "gearbox", "link", "dram", "port", "downlink",
                     "key", "csr"):
            m.submodules[name] = getattr(self, name)
        self.clocks.add_domains(m)
        tx, link, port = self.tx, self.link, self.port
        m.d.comb += [self.clocks.refclk.eq(self.refclk), self.clocks.rst_n.eq(self.rst_n),
                     self.qrng.qrng_data.eq(self.qrng_data),
                     self.qrng.qrng_valid.eq(self.qrng_valid)]
        connect(m, self.qrng.o, tx.qrng)
        # every fired beat goes to the modulators and into the sifting's RND cache
        connect(m, tx.symbols, self.gearbox.i)
        m.d.comb += [link.write.valid.eq(tx.symbols.valid),
                     link.write.payload.eq(tx.symbols.payload.symbol),
                     tx.query.valid.eq(0), tx.answer.ready.eq(1),
                     tx.link_payload.valid.eq(0)]
        for channel in CHANNEL_PINS:
            m.d.comb += getattr(self, channel).eq(getattr(self.gearbox, channel))
        connect(m, tx.downlink, self.downlink.i)
        m.d.comb += self.sync_tx.eq(self.downlink.pin)
        connect(m, link.down, port.msg)
        connect(m, port.rx, link.up)
        connect_dram(m, self.clocks, link, self.dram)
        m.d.comb += port.rx_sync.ready.eq(1)
        self._sync_requests(m, port)
        # The key pins' handshake register sits at the pins, across the die from the sifter:
        # a slice keeps that route off the sifter's and the DRAM cache's ready chain.
        m.submodules.key_slice = key_slice = RegisterSlice(KeyBeat)
        connect(m, link.key, key_slice.i)
        connect(m, key_slice.o, self.key.i)
        for name in KEY_PINS:
            forward_member(m, self, self.key, name)
        for name, pin in LINE_PINS.items():
            forward_member(m, self, port, name, pin)
        bind_registers(m, self, self.csr, self._registers())
        return m

    def _sync_requests(self, m: Module, port: LinkPort) -> None:
        """A SYNC request for each beat that starts a sync frame, held until the PHY takes it."""
        beat = self.tx.symbols
        shift = FRAME_PULSES.bit_length() - 1  # FRAME_PULSES is a power of two
        pulse = beat.payload.pulse
        start = beat.valid & (pulse[:shift] == 0)
        counter = pulse[shift:shift + ARG_BITS]
        with m.If(start):
            m.d.sync += [port.sync.valid.eq(1), port.sync.payload.counter.eq(counter)]
        with m.Elif(port.sync.ready):
            m.d.sync += port.sync.valid.eq(0)
