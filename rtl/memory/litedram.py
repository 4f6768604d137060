"""The LiteDRAM core (:mod:`rtl.memory.litedram_gen`) as an Amaranth component.

:class:`LiteDram` instantiates the generated Verilog module; a simulator or synthesis flow gets
that file from :func:`rtl.memory.litedram_gen.core_verilog` as an extra source.
"""

from amaranth.hdl import ClockSignal, Instance, Module, ResetSignal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from rtl.memory.layouts import dram_port
from rtl.memory.litedram_gen import CoreConfig, core_address_bits


class LiteDram(wiring.Component):
    """LiteDRAM controller with its native user ports, on the ``sync`` domain.

    Latency and throughput are LiteDRAM's (``docs/memory.md``): a read's data return about 25
    cycles after its command in the simulated configuration, a port's commands complete in
    order, the refresher takes the DRAM every 7.8 us (780 cycles at 100 MHz).

    Members
    -------
    port<k> : In(dram_port(addr_bits))
        Native user port ``k`` (``cmd``, ``wdata`` from the user, ``rdata`` to it, never held
        back).
    refresh : Out(1)
        High while the refresher holds the DRAM.
    """

    def __init__(self, config: CoreConfig | None = None) -> None:
        self.config = config = config or CoreConfig()
        self.addr_bits = core_address_bits(config)
        members = {f"port{k}": In(dram_port(self.addr_bits)) for k in range(config.ports)}
        super().__init__(members | {"refresh": Out(1)})

    def elaborate(self, platform):
        m = Module()
        ports = {"i_sys_clk": ClockSignal(), "i_sys_rst": ResetSignal(), "o_refresh": self.refresh}
        for k in range(self.config.ports):
            ports |= native_port_connections(k, getattr(self, f"port{k}"))
        m.submodules.core = Instance(self.config.module_name, **ports)
        return m


def native_port_connections(k: int, port) -> dict:
    """``Instance`` keywords that connect native port ``k`` of a generated core to ``port`` (a
    :func:`~rtl.memory.layouts.dram_port` interface seen from its user)."""
    p = f"p{k}_"
    return {
        f"i_{p}cmd_valid": port.cmd.valid, f"o_{p}cmd_ready": port.cmd.ready,
        f"i_{p}cmd_we": port.cmd.payload.we, f"i_{p}cmd_addr": port.cmd.payload.addr,
        f"i_{p}wdata_valid": port.wdata.valid, f"o_{p}wdata_ready": port.wdata.ready,
        f"i_{p}wdata_data": port.wdata.payload.data, f"i_{p}wdata_we": port.wdata.payload.we,
        f"o_{p}rdata_valid": port.rdata.valid, f"i_{p}rdata_ready": port.rdata.ready,
        f"o_{p}rdata_data": port.rdata.payload.data,
    }
