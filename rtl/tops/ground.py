r"""The ground FPGA (``ground_fpga``): timing chain with the TDC, sifting, link, on pins.

::

    refclk, rst_n --> Ecp5Clocks: sync 156.25 MHz (also the TDC's first rank), line
    det[0..3], strobe, sync_rx --> GroundTiming(lines="carry"): carry-chain TDC, tagger,
        sync detector, indexer, squasher --detections--> GroundLink --key--> KeyPins
    link_rx, link_rx_clk --> LinkPort --down--> GroundLink --up--> LinkPort --> link_tx
    csr_* <--> SerialRegisters: every register and counter of the blocks

``sync_rx`` is the satellite's ``sync_tx`` (a bit per fabric cycle), retimed by the receiver
board and sampled through two flops. ``now`` (the ground's pulse time that closes uplink
frames, :class:`rtl.sifting.link_layer.GroundLink`) counts 4 pulses per cycle from the
register ``now_base`` (``now_load`` copies it), which the control processor sets from the
timing chain's calibration. The PHY's received SYNC counters are not used here (``rx_sync``
always ready): the ground's time reference is the sync detector.

The record store is in DDR3 at its flight size (``models.memory.flight``: 89,923 records, a
50 ms downlink outage at the design rate): ``GroundLink(memory="dram")``'s port goes to
:class:`rtl.memory.ecp5_dram.Ecp5Dram` (LiteDRAM on the ECP5 DDR3 PHY, its own ``dram``
domain from PLL 3, ``ddram_*`` pins, CSR bus on the register port as ``dram_bus_*``).

Latency and throughput: those of the blocks.
"""

from amaranth.hdl import ClockSignal, Module, Signal
from amaranth.lib import cdc, wiring
from amaranth.lib.wiring import In, Out, connect

from models.constants import LANES, TDC_CHANNELS
from models.memory.flight import flight_pass_sizes
from rtl.common.forward import forward_member
from rtl.ground.tops import GroundTiming
from rtl.memory.ecp5_dram import Ecp5Dram
from rtl.sifting.link_layer import GroundLink
from rtl.tops.clocks import Ecp5Clocks
from rtl.tops.csr import bind_registers, registers_of
from rtl.tops.line import LINE_PINS, LinkPort
from rtl.tops.pins import DRAM_SKIP, KEY_PINS, SHARED_PINS, KeyPins, connect_dram

#: Blocks whose resources ``make synth`` reports apart (hierarchy kept in synthesis).
BUDGET_BLOCKS = ("clocks", "timing", "link", "dram", "port", "key", "csr")


class PulseClock(wiring.Component):
    """The ground's pulse time: ``now`` advances by the lanes per cycle, ``load`` (a register
    level; its rising edge) sets it to ``base``. Latency: ``now`` shows ``base`` the cycle
    after the edge.

    Members
    -------
    base : In(64); load : In(1); now : Out(64)
    """

    base: In(64)
    load: In(1)
    now: Out(64)

    def elaborate(self, platform):
        m = Module()
        last = Signal()
        m.d.sync += [last.eq(self.load), self.now.eq(self.now + LANES)]
        with m.If(self.load & ~last):
            m.d.sync += self.now.eq(self.base)
        return m


class GroundFpga(wiring.Component):
    """The ground FPGA top (module docstring); all members are pins."""

    def __init__(self) -> None:
        sizes = flight_pass_sizes()
        self.clocks = Ecp5Clocks(gearbox=False, dram=True)
        self.timing = GroundTiming(lines="carry")
        self.link = GroundLink(memory="dram", store_depth=sizes.store_records,
                               frame_records=sizes.frame_records)
        self.dram = Ecp5Dram()
        self.pulse = PulseClock()
        self.port = LinkPort()
        self.key = KeyPins()
        self.csr = registers_of(self._registers())
        super().__init__({"refclk": In(1), "rst_n": In(1), "det": In(TDC_CHANNELS - 1),
                          "strobe": In(1), "sync_rx": In(1)} | SHARED_PINS)

    def _registers(self) -> tuple:
        return (("clk_", self.clocks, {"refclk", "rst_n"}),
                ("tdc_", self.timing, {"inputs", "tdc_clk"}),
                ("link_", self.link, {"now"}),
                ("now_", self.pulse, {"now"}),
                ("dram_", self.dram, DRAM_SKIP),
                ("phy_", self.port, {"line_tx", "line_rx", "line_rx_clk"}))

    def elaborate(self, platform):
        m = Module()
        for name in ("clocks", "timing", "link", "dram", "pulse", "port", "key", "csr"):
            m.submodules[name] = getattr(self, name)
        self.clocks.add_domains(m)
        timing, link, port = self.timing, self.link, self.port
        m.d.comb += [self.clocks.refclk.eq(self.refclk), self.clocks.rst_n.eq(self.rst_n),
                     timing.inputs.eq(self.det | self.strobe << (TDC_CHANNELS - 1)),
                     timing.tdc_clk.eq(ClockSignal("sync"))]
        bit = Signal()
        m.submodules.sync_rx = cdc.FFSynchronizer(self.sync_rx, bit)
        m.d.comb += [timing.bits.valid.eq(1), timing.bits.payload.eq(bit)]
        connect(m, timing.detections, link.det)
        m.d.comb += link.now.eq(self.pulse.now)
        connect(m, link.up, port.msg)
        connect(m, port.rx, link.down)
        connect_dram(m, self.clocks, link, self.dram)
        m.d.comb += [port.sync.valid.eq(0), port.rx_sync.ready.eq(1)]
        connect(m, link.key, self.key.i)
        for name in KEY_PINS:
            forward_member(m, self, self.key, name)
        for name, pin in LINE_PINS.items():
            forward_member(m, self, port, name, pin)
        bind_registers(m, self, self.csr, self._registers())
        return m
