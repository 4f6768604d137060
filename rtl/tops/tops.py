"""Synthesis tops of the two FPGAs (``make synth``, in context: pins, PLLs, constraints).

* ``satellite_fpga``: :class:`rtl.tops.satellite.SatelliteFpga`;
* ``ground_fpga``: :class:`rtl.tops.ground.GroundFpga`.

Both go on the LFE5U-45F-8 in the CABGA381 package (``docs/synthesis.md`` says why), with the
pins and clock constraints of ``constraints/<top>.lpf`` and the LiteDRAM core's Verilog.
"""

from collections.abc import Callable
from pathlib import Path

from amaranth.lib import wiring

from rtl.memory.ecp5_dram import ecp5_core
from rtl.memory.litedram_gen import core_verilog
from rtl.tops import ground, satellite
from rtl.tops.ground import GroundFpga
from rtl.tops.satellite import SatelliteFpga

SYNTH_TOPS: dict[str, Callable[[], wiring.Component]] = {
    "satellite_fpga": SatelliteFpga,
    "ground_fpga": GroundFpga,
}
#: Verilog the tops instantiate: the LiteDRAM core of ``Ecp5Dram`` (generated, cached).
SYNTH_SOURCES: dict[str, Callable[[], list[Path]]] = dict.fromkeys(
    SYNTH_TOPS, lambda: [core_verilog(ecp5_core())])
SYNTH_DEVICES: dict[str, str] = dict.fromkeys(SYNTH_TOPS, "LFE5U-45F-8")
SYNTH_LPF: dict[str, str] = {name: f"constraints/{name}.lpf" for name in SYNTH_TOPS}
SYNTH_BUDGET: dict[str, tuple[str, ...]] = {
    "satellite_fpga": satellite.BUDGET_BLOCKS,
    "ground_fpga": ground.BUDGET_BLOCKS,
}
#: nextpnr's clock net names -> clock domains (``sim.synth.domain_fmax``).
_NETS = {"clk": "sync", "line_clk": "line", "eclk_clk": "eclk",
         "port.line_rx_clk": "line_rx", "link_rx_clk$TRELLIS_IO_IN": "line_rx",
         "timing.lines.oscillator.osc_clk": "osc",
         # the DDR3 controller's clock, its edge clock and the PHY's start-sequence clock
         # (rtl.memory.ecp5_dram; nextpnr names a net after one of its hierarchical names)
         "dram.core.sys_clk": "dram", "dram.bus_ans.consume_cdc.dram_clk": "dram",
         "dram.core.sys2x_clk": "sys2x", "dram.core.init_clk": "init",
         "clocks.dram_init": "init", "dram.init_clk": "init"}
SYNTH_DOMAINS: dict[str, dict[str, str]] = dict.fromkeys(SYNTH_TOPS, _NETS)
