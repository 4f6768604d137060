r"""The DDR3 memory of an FPGA top: LiteDRAM on the ECP5 DDR3 PHY, its clocks and crossings.

::

    clk2x (PLL) -> ECLKSYNCB (STOP: init_stop) -> sys2x, the DDR edge clock
                       `-> CLKDIVF / 2 (RST: init_reset) -> ClockSignal("dram"), the controller
    port<k> (sync) == AsyncFIFO cmd, wdata ==> litedram_ecp5 (dram) == AsyncFIFO rdata ==> port<k>
    bus_* (sync, registers) == AsyncFIFO request ==> CSR bus (dram) == AsyncFIFO answer ==> bus_*
                                                   `-> DDR3 pads (ddram_*)

The controller is the ``ecp5`` core of :mod:`rtl.memory.litedram_gen` (``ECP5DDRPHY``,
MT41K64M16 at :data:`DRAM_HZ`). Its edge clock ``sys2x`` (``clk2x``, twice the controller
clock, from a PLL) goes through an ``ECLKSYNCB`` and its half from a ``CLKDIVF`` is the
controller's domain ``dram``; the PHY's start sequence (on ``init_clk``, 25 MHz) stops the edge
clock and resets the divider once its ``DDRDLLA`` locks, as LiteX's ECP5 boards do, and the
``dram`` domain stays in reset until then. Everything the fabric (``sync``) exchanges with the
controller crosses in :class:`amaranth.lib.fifo.AsyncFIFO`\ s:

* each native port's commands and write data (``sync`` to ``dram``) and its read data
  (``dram`` to ``sync``). LiteDRAM never holds read data back; the users keep at most 16 reads
  in flight (:class:`~rtl.memory.dram_cache.DramRndCache`, :class:`~rtl.memory.dram_store.
  DramRecordStore`) and take read data every cycle, so the read FIFO (:data:`READ_DEPTH`
  places and an output register) never fills. Order is kept: a port's commands reach the
  controller in the order the user issued them, which is all the users' head and window rules
  need.
* the CSR bus (the DFII and PHY registers: DRAM init, write and read leveling), driven by the
  control processor through the register port (``bus_adr``, ``bus_we``, ``bus_wdata``; a
  rising edge of ``bus_go`` makes one access, ``bus_rdata`` and ``bus_done`` show its answer),
  as LiteX's BIOS drives them over its CPU bus.

Latency: a crossing adds about 3 cycles of the receiving clock each way to LiteDRAM's own
(``docs/memory.md``). Throughput: a 128-bit word per ``dram`` cycle per direction at most.
"""

from amaranth.hdl import (
    Cat,
    ClockDomain,
    ClockSignal,
    Instance,
    IOPort,
    Module,
    ResetSignal,
    Signal,
)
from amaranth.lib import cdc, fifo, wiring
from amaranth.lib.wiring import In, Out

from rtl.memory.layouts import dram_port
from rtl.memory.litedram import native_port_connections
from rtl.memory.litedram_gen import (
    DDR3_INOUT,
    DDR3_PADS,
    CoreConfig,
    core_address_bits,
)

#: The controller clock (``dram``): DDR3 at 200 MHz, 400 MT/s on the 16-bit bus.
DRAM_HZ = 100_000_000
#: Read data words a port's crossing holds (the users keep at most 16 reads in flight).
READ_DEPTH = 16
#: Width of LiteX's CSR bus address and data.
BUS_ADDR_BITS, BUS_DATA_BITS = 14, 8


def ecp5_core(ports: int = 1) -> CoreConfig:
    """The ``ecp5`` core configuration of a top with ``ports`` native ports (full 1 Gbit)."""
    return CoreConfig("ecp5", ports, clk_freq=DRAM_HZ, rows=8192)


class Ecp5Dram(wiring.Component):
    """LiteDRAM with ``ECP5DDRPHY``, its edge-clock tree and its clock-domain crossings (module
    docstring).

    Members
    -------
    port<k> : In(dram_port(23))
        Native user port ``k``, in the ``sync`` domain.
    clk2x : In(1)
        The DDR edge clock from a PLL (2 x :data:`DRAM_HZ`).
    init_clk : In(1)
        The PHY's start-sequence clock (25 MHz, a PLL output).
    arst : In(1)
        Asynchronous reset (reset pin or a PLL unlocked).
    bus_adr, bus_we, bus_wdata, bus_go : In
        One CSR access per rising edge of ``bus_go`` (registers).
    bus_rdata : Out(8); bus_done : Out(16)
        The last access's read data; accesses completed.

    ``pads``: the DDR3 pins (:class:`amaranth.hdl.IOPort` ``ddram_<name>``), top-level ports of
    the design. The controller's Verilog is ``core_verilog(ecp5_core(ports))``
    (:mod:`rtl.memory.litedram_gen`), a synthesis flow's extra source.
    """

    def __init__(self, ports: int = 1) -> None:
        self.config = ecp5_core(ports)
        self.addr_bits = core_address_bits(self.config)
        self.pads = {name: IOPort(width, name=f"ddram_{name}")
                     for name, width in DDR3_PADS.items()}
        members = {f"port{k}": In(dram_port(self.addr_bits)) for k in range(ports)}
        super().__init__(members | {
            "clk2x": In(1), "init_clk": In(1), "arst": In(1),
            "bus_adr": In(BUS_ADDR_BITS), "bus_we": In(1), "bus_wdata": In(BUS_DATA_BITS),
            "bus_go": In(1), "bus_rdata": Out(BUS_DATA_BITS), "bus_done": Out(16),
        })

    def elaborate(self, platform):
        m = Module()
        m.domains.dram = ClockDomain("dram", async_reset=True)
        eclk, stop, reset = Signal(), Signal(), Signal()
        m.submodules.eclksync = Instance("ECLKSYNCB", i_ECLKI=self.clk2x, i_STOP=stop,
                                         o_ECLKO=eclk)
        m.submodules.clkdiv = Instance("CLKDIVF", p_DIV="2.0", i_CLKI=eclk, i_RST=reset,
                                       i_ALIGNWD=0, o_CDIVX=ClockSignal("dram"))
        m.submodules.reset_dram = cdc.ResetSynchronizer(self.arst | reset, domain="dram")

        core_ports: dict = {}
        for k in range(self.config.ports):
            inner = dram_port(self.addr_bits).flip().create(path=(f"core{k}",))
            self._cross_port(m, k, getattr(self, f"port{k}"), inner)
            core_ports |= native_port_connections(k, inner)
        bus = self._cross_bus(m)
        pads = {(f"io_ddram_{n}" if n in DDR3_INOUT else f"o_ddram_{n}"): port
                for n, port in self.pads.items()}
        m.submodules.core = Instance(
            self.config.module_name, i_sys_clk=ClockSignal("dram"),
            i_sys_rst=ResetSignal("dram"), i_sys2x_clk=eclk, i_sys2x_rst=0,
            i_init_clk=self.init_clk, i_init_arst=self.arst, o_init_stop=stop,
            o_init_reset=reset, i_bus_re=0, **bus, **pads, **core_ports)
        return m

    @staticmethod
    def _cross_port(m: Module, k: int, user, core) -> None:
        """``user`` (``sync``) to ``core`` (``dram``): commands and write data one way, read
        data the other."""
        for name, depth in (("cmd", 4), ("wdata", 4)):
            width = len(getattr(user, name).payload.as_value())
            q = fifo.AsyncFIFO(width=width, depth=depth, w_domain="sync", r_domain="dram")
            m.submodules[f"p{k}_{name}"] = q
            wiring.connect(m, wiring.flipped(getattr(user, name)), q.w_stream)
            m.d.comb += [getattr(core, name).valid.eq(q.r_stream.valid),
                         getattr(core, name).payload.eq(q.r_stream.payload),
                         q.r_stream.ready.eq(getattr(core, name).ready)]
        # Buffered: the read data's valid leaves a flip-flop, so the gray-pointer compare at
        # the controller's pins ends there instead of running across the die into the user.
        rq = fifo.AsyncFIFOBuffered(width=len(user.rdata.payload.as_value()),
                                    depth=READ_DEPTH + 1, w_domain="dram", r_domain="sync")
        m.submodules[f"p{k}_rdata"] = rq
        m.d.comb += [rq.w_stream.valid.eq(core.rdata.valid),
                     rq.w_stream.payload.eq(core.rdata.payload), core.rdata.ready.eq(1),
                     user.rdata.valid.eq(rq.r_stream.valid),
                     user.rdata.payload.eq(rq.r_stream.payload),
                     rq.r_stream.ready.eq(user.rdata.ready)]

    def _cross_bus(self, m: Module) -> dict:
        """The CSR bus behind the register fields: a request per ``bus_go`` edge crosses to
        ``dram``, drives the bus for one cycle, and the read data of the next cycle (LiteX's CSR
        bus answers one cycle after the address) cross back."""
        req = fifo.AsyncFIFO(width=BUS_ADDR_BITS + 1 + BUS_DATA_BITS, depth=4,
                             w_domain="sync", r_domain="dram")
        ans = fifo.AsyncFIFO(width=BUS_DATA_BITS, depth=4, w_domain="dram", r_domain="sync")
        m.submodules.bus_req, m.submodules.bus_ans = req, ans
        last_go = Signal()
        m.d.sync += last_go.eq(self.bus_go)
        m.d.comb += [req.w_stream.valid.eq(self.bus_go & ~last_go),
                     req.w_stream.payload.eq(Cat(self.bus_adr, self.bus_we, self.bus_wdata))]
        adr, we, wdata = Signal(BUS_ADDR_BITS), Signal(), Signal(BUS_DATA_BITS)
        rdata, busy, answer = Signal(BUS_DATA_BITS), Signal(), Signal()
        take = req.r_stream.valid & ~busy & ~answer
        m.d.comb += req.r_stream.ready.eq(take)
        m.d.dram += [busy.eq(take), answer.eq(busy),
                     we.eq(take & req.r_stream.payload[BUS_ADDR_BITS])]
        with m.If(take):
            m.d.dram += [adr.eq(req.r_stream.payload[:BUS_ADDR_BITS]),
                         wdata.eq(req.r_stream.payload[BUS_ADDR_BITS + 1:])]
        m.d.comb += [ans.w_stream.valid.eq(answer), ans.w_stream.payload.eq(rdata),
                     ans.r_stream.ready.eq(1)]
        with m.If(ans.r_stream.valid):
            m.d.sync += [self.bus_rdata.eq(ans.r_stream.payload),
                         self.bus_done.eq(self.bus_done + 1)]
        return {"i_bus_adr": adr, "i_bus_we": we, "i_bus_dat_w": wdata, "o_bus_dat_r": rdata}
