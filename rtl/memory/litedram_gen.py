"""LiteDRAM controller cores as Verilog, from the pinned ``litedram`` / ``litex`` / ``migen``.

Two targets, one controller configuration (DDR3 on a 16-bit bus, 1:2 clock ratio, LiteDRAM's
own refresh and bank machines):

* ``sim``: the core on LiteDRAM's DRAM model (``SDRAMPHYModel``) with the PHY settings of
  ``ECP5DDRPHY`` (two phases, 64-bit DFI, its read and write latencies), so the controller sees
  the latencies it sees on the board. The module is Micron's MT41K64M16 (the DDR3 of the ECP5
  evaluation boards) with its timings, refresh included; only its row count is cut
  (:data:`SIM_ROWS`) so that the model's memory array stays small enough for Icarus. The core
  starts in hardware control (no init sequence: the model ignores mode registers).
* ``ecp5``: the same controller on ``ECP5DDRPHY`` with the full MT41K64M16 (1 Gbit) and DDR3
  pads (:data:`DDR3_PADS`, ports ``ddram_<name>``), the DFII and PHY control registers as a CSR
  bus (``bus_*``: the DRAM's init, write leveling and read leveling are the control
  processor's, through :class:`rtl.memory.ecp5_dram.Ecp5Dram`), the PHY's ``init`` domain
  (``init_clk``, ``init_arst``) and its edge-clock controls (``init_stop``, ``init_reset``).
  ``sys2x_clk`` is the DDR edge clock, ``sys_clk`` half of it.

Both expose ``ports`` native user ports ``p<k>_cmd_*``, ``p<k>_wdata_*``, ``p<k>_rdata_*``
(LiteDRAM's native port: streams of commands, write data with byte enables, read data in
command order) on the ``sys_clk`` / ``sys_rst`` clock domain, and ``refresh``, high while the
refresher holds the DRAM. The Verilog is written under
``build/litedram/`` and reused while the configuration and the package versions are the same
(:func:`core_verilog`); ``python -m rtl.memory.litedram_gen --target sim`` prints its path.

The generated text is not committed: the packages are pinned (``pyproject.toml``), generation
takes seconds and a committed copy would need its own check that it is current.
"""

import argparse
import hashlib
import json
import sys
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
BUILD_DIR = ROOT / "build" / "litedram"

#: The DDR3 pads of the ``ecp5`` core (ports ``ddram_<name>``): name -> width. ``dqs_p`` and
#: ``clk_p`` are the true sides of differential pairs (the LPF's SSTL135D_I puts the
#: complement on the pair's other pin).
DDR3_PADS = {"a": 13, "ba": 3, "ras_n": 1, "cas_n": 1, "we_n": 1, "cs_n": 1, "dm": 2, "dq": 16,
             "dqs_p": 2, "clk_p": 1, "cke": 1, "odt": 1, "reset_n": 1}
#: Pads driven in both directions (the others are outputs).
DDR3_INOUT = ("dq", "dqs_p")

#: Rows per bank of the simulated MT41K64M16 (the part has 8192): 8 banks x 128 rows x 1024
#: columns x 16 bits = 16 Mbit, 131072 user words of 128 bits.
SIM_ROWS = 128


@dataclass(frozen=True)
class CoreConfig:
    """What fixes a generated core."""

    target: str = "sim"
    ports: int = 2
    #: Controller clock (Hz): the DRAM timings in cycles are derived from it.
    clk_freq: float = 100e6
    rows: int = SIM_ROWS

    @property
    def module_name(self) -> str:
        return f"litedram_{self.target}"


class LiteDramConfigError(ValueError):
    """A core configuration the generator cannot build."""


def core_address_bits(config: CoreConfig) -> int:
    """Width of a native port's word address: 8 banks x rows x 1024 columns of 16 bits, in
    128-bit words."""
    return 3 + (config.rows - 1).bit_length() + 10 - 3


def _versions() -> dict[str, str]:
    return {name: metadata.version(name) for name in ("litedram", "litex", "migen")}


def _phy_settings(clk_freq: float):
    """``ECP5DDRPHY``'s settings for a 16-bit DDR3 bus at ``clk_freq`` (same formulas)."""
    from litedram.common import (
        PhySettings,
        get_default_cl,
        get_default_cwl,
        get_sys_latency,
        get_sys_phase,
    )
    nphases, databits = 2, 16
    tck = 2 / (2 * 2 * clk_freq)
    cl, cwl = get_default_cl("DDR3", tck), get_default_cwl("DDR3", tck)
    cl_lat, cwl_lat = get_sys_latency(nphases, cl), get_sys_latency(nphases, cwl)
    return PhySettings(
        phytype="ECP5DDRPHY", memtype="DDR3", databits=databits, dfi_databits=4 * databits,
        nranks=1, nphases=nphases, rdphase=get_sys_phase(nphases, cl_lat, cl),
        wrphase=get_sys_phase(nphases, cwl_lat, cwl), cl=cl, cwl=cwl,
        read_latency=cl_lat + 10, write_latency=cwl_lat, read_leveling=True, bitslips=4,
        delays=8)


def _module(config: CoreConfig):
    from litedram.modules import MT41K64M16

    class Module(MT41K64M16):
        nrows = config.rows

    module = Module(config.clk_freq, "1:2")
    # The part's 13 address pins whatever the row count (A10 is the auto-precharge bit).
    module.geom_settings.addressbits = 13
    return module


def _build(config: CoreConfig) -> str:
    """Verilog text of the core."""
    from litedram.core import LiteDRAMCore
    from migen import Module, Signal
    from migen.fhdl import verilog

    top = Module()
    module = _module(config)
    ios: set = set()
    if config.target == "sim":
        from litedram.phy.model import SDRAMPHYModel
        phy = SDRAMPHYModel(module, settings=_phy_settings(config.clk_freq),
                            clk_freq=config.clk_freq)
        top.submodules.phy = phy
    else:
        from litedram.phy.ecp5ddrphy import ECP5DDRPHY
        from migen.genlib.record import Record
        pads = Record(list(DDR3_PADS.items()), name="ddram")
        phy = ECP5DDRPHY(pads, sys_clk_freq=config.clk_freq)
        top.submodules.phy = phy
        ios |= set(pads.flatten()) | _init_domain(top, phy)
    core = LiteDRAMCore(phy, module.geom_settings, module.timing_settings, config.clk_freq)
    top.submodules.core = core
    for k in range(config.ports):
        port = core.crossbar.get_port()
        for stream_name in ("cmd", "wdata", "rdata"):
            endpoint = getattr(port, stream_name)
            for name, sig in [("valid", endpoint.valid), ("ready", endpoint.ready)] + [
                    (field, getattr(endpoint, field))
                    for field, *_ in endpoint.description.payload_layout]:
                outer = Signal(len(sig), name=f"p{k}_{stream_name}_{name}")
                # Only the ports the user drives are inputs.
                drives = (stream_name == "rdata") == (name == "ready")
                top.comb += sig.eq(outer) if drives else outer.eq(sig)
                ios.add(outer)
    # Observation: high while the refresher holds the DRAM (precharge-all, refresh, tRFC).
    refresh = Signal(name="refresh")
    top.comb += refresh.eq(core.controller.refresher.cmd.valid)
    ios.add(refresh)
    if config.target == "ecp5":
        from litex.soc.interconnect.csr_bus import CSRBankArray, Interface
        banks = CSRBankArray(top, lambda name, memory: {"phy": 0, "core": 1}.get(name))
        top.submodules.csrbanks = banks
        bus = Interface()
        top.submodules.csrcon = _csr_interconnect(bus, banks)
        ios |= set(bus.flatten())
    overrides = {}
    if config.target == "ecp5":
        # LiteX's ECP5 lowering: the PHY's tristates become TRELLIS_IO (T straight from the
        # TSHX2DQA / TSHX2DQSA outputs, as nextpnr requires), not generic Verilog tristates.
        from litex.build.lattice.common import lattice_ecp5_trellis_special_overrides
        overrides = lattice_ecp5_trellis_special_overrides
    return str(verilog.convert(top, ios=ios, name=config.module_name,
                               special_overrides=overrides))


def _init_domain(top, phy) -> set:
    """The PHY's ``init`` domain (its DDRDLLA lock and edge-clock start sequence): clock
    ``init_clk`` from the board's PLL, reset from ``init_arst`` (asynchronous: PLL unlocked or
    the reset pin) through two flops on ``init_clk``, as LiteX's ECP5 clock generators do; and
    the sequence's ``init_stop`` / ``init_reset``, which the edge-clock tree outside takes
    (``ECLKSYNCB.STOP``, ``CLKDIVF.RST`` and the ``sys`` domain's reset)."""
    from migen import Cat, ClockDomain, Signal
    cd = ClockDomain("init")
    top.clock_domains.cd_init = cd
    arst, stop, reset = (Signal(name=n) for n in ("init_arst", "init_stop", "init_reset"))
    flops = Signal(2, reset=0b11, reset_less=True)
    top.sync.init += flops.eq(Cat(arst, flops[0]))
    top.comb += [cd.rst.eq(flops[1]), stop.eq(phy.init.stop), reset.eq(phy.init.reset)]
    return {cd.clk, arst, stop, reset}


def _csr_interconnect(bus, banks):
    from litex.soc.interconnect.csr_bus import InterconnectShared
    return InterconnectShared([bus], banks.get_buses())


def core_verilog(config: CoreConfig | None = None) -> Path:
    """Path of the core's Verilog, generated unless a file for the same configuration and
    package versions is there already."""
    config = config or CoreConfig()
    if config.target not in ("sim", "ecp5"):
        raise LiteDramConfigError(f"LiteDRAM target {config.target!r}: use 'sim' or 'ecp5'")
    if config.rows & (config.rows - 1) or not 8 <= config.rows <= 8192:
        raise LiteDramConfigError(f"LiteDRAM rows={config.rows}: a power of two in 8..8192")
    key = hashlib.sha256(json.dumps([asdict(config), _versions(),
                                     Path(__file__).read_text()]).encode()).hexdigest()[:16]
    path = BUILD_DIR / f"{config.module_name}_{key}.v"
    if not path.exists():
        BUILD_DIR.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(_build(config))
        tmp.replace(path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--target", default="sim", help="sim (DRAM model) or ecp5 (ECP5DDRPHY)")
    parser.add_argument("--ports", type=int, default=2)
    parser.add_argument("--rows", type=int, default=None)
    args = parser.parse_args(argv)
    rows = args.rows or (SIM_ROWS if args.target == "sim" else 8192)
    try:
        print(core_verilog(CoreConfig(args.target, args.ports, rows=rows)))
    except LiteDramConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
