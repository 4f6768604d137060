r"""Clocks and resets of an FPGA top: ECP5 PLLs from the board's reference pin, reset synchronisers.

Overview
--------
The board gives a 25 MHz reference (``refclk``, a dedicated PLL input pin) and an active-low
reset button (``rst_n``). Two ``EHXPLLL`` make every clock of a top:

* PLL 1 (reference in, feedback on ``CLKOP``): ``CLKOP`` 312.5 MHz, ``CLKOS`` 156.25 MHz
  (VCO 625 MHz). With ``gearbox=True`` (satellite) ``CLKOP`` drives the edge clock ``eclk``
  through ``ECLKSYNCB`` and the fabric clock ``sync`` is ``eclk / 2`` from ``CLKDIVF``: the
  ``ODDRX2F`` serialisers of :class:`rtl.satellite.gearbox.ModulatorGearbox` need ``SCLK``
  and ``ECLK`` from one edge-clock tree, phase aligned. Without it (ground) ``sync`` is
  ``CLKOS``.
* PLL 2 (PLL 1's ``CLKOS`` in): ``line`` at 156.25 x 17 / 16 = 166.015625 MHz (VCO 664.0625
  MHz), the classical link's line rate: a 34-bit line block per 32 fabric cycles
  (:mod:`rtl.link.tx`). 166.015625 MHz is not reachable from the 25 MHz reference in one
  PLL (25 x 425 / 64 needs a feedback divider above 80), and not from PLL 1's VCO.

* PLL 3 (PLL 1's ``CLKOS`` in), with ``dram=True``: ``dram2x`` 200 MHz (``CLKOP``), the DDR3
  edge clock of :class:`rtl.memory.ecp5_dram.Ecp5Dram`, whose ``ECLKSYNCB`` / ``CLKDIVF`` make
  the controller's domain ``dram`` (100 MHz), and ``dram_init`` 25 MHz (``CLKOS``), the DDR
  PHY's start-sequence clock. The block gives them as ``dram2x`` and ``dram_init`` with the
  asynchronous reset ``arst``; the memory block defines its domain.

Resets: ``rst_n`` low or either PLL unlocked resets every domain at once (asynchronous assert);
each domain leaves reset on its own clock (:class:`amaranth.lib.cdc.ResetSynchronizer`, two
flops), so no register sees a reset release close to its clock edge. ``eclk`` has no reset
(it only clocks the serialisers).

``ecp5=False`` builds the PLLs from :class:`rtl.simonly.ecp5_primitives.EHXPLLL` (parameter
checks and ``LOCK``) and leaves the domain clocks to the testbench (``sim.add_clock``).

Latency: a domain leaves reset two of its clock edges after ``rst_n`` rises with both PLLs
locked.
"""


from dataclasses import dataclass
from fractions import Fraction

from amaranth.hdl import ClockDomain, ClockSignal, Instance, Module, Signal
from amaranth.lib import cdc, wiring
from amaranth.lib.wiring import In, Out

from models.constants import FABRIC_CLOCK_HZ

REF_HZ = 25_000_000
FABRIC_HZ = int(FABRIC_CLOCK_HZ)
EDGE_HZ = 2 * FABRIC_HZ
#: The classical link's line clock: 34 line bits per 32 fabric cycles.
LINE_HZ = FABRIC_HZ * 17 // 16

# EHXPLLL limits (Lattice FPGA-TN-02200, as ecppll uses them).
PFD_HZ = (3_125_000, 400_000_000)
VCO_HZ = (400_000_000, 800_000_000)
CLKI_DIV_MAX, CLKFB_DIV_MAX, OUT_DIV_MAX = 128, 80, 128


class PllError(ValueError):
    """No EHXPLLL setting gives the requested frequencies exactly."""


@dataclass(frozen=True)
class PllConfig:
    """One EHXPLLL setting, feedback from ``CLKOP``: ``CLKOP = ref * clkfb_div / clki_div``,
    VCO ``= CLKOP * clkop_div``, ``CLKOS = VCO / clkos_div``."""

    ref_hz: int
    clki_div: int
    clkfb_div: int
    clkop_div: int
    clkos_div: int | None = None

    @property
    def vco_hz(self) -> Fraction:
        return Fraction(self.ref_hz * self.clkfb_div * self.clkop_div, self.clki_div)

    @property
    def clkop_hz(self) -> Fraction:
        return self.vco_hz / self.clkop_div

    @property
    def clkos_hz(self) -> Fraction | None:
        return None if self.clkos_div is None else self.vco_hz / self.clkos_div

    def parameters(self) -> dict[str, object]:
        """``Instance("EHXPLLL", ...)`` parameters (``p_`` prefixed); each output's coarse
        phase is ``div - 1`` (zero phase)."""
        params: dict[str, object] = {
            "PLLRST_ENA": "DISABLED", "INTFB_WAKE": "DISABLED", "STDBY_ENABLE": "DISABLED",
            "DPHASE_SOURCE": "DISABLED", "OUTDIVIDER_MUXA": "DIVA", "OUTDIVIDER_MUXB": "DIVB",
            "OUTDIVIDER_MUXC": "DIVC", "OUTDIVIDER_MUXD": "DIVD", "FEEDBK_PATH": "CLKOP",
            "CLKI_DIV": self.clki_div, "CLKFB_DIV": self.clkfb_div,
            "CLKOP_ENABLE": "ENABLED", "CLKOP_DIV": self.clkop_div,
            "CLKOP_CPHASE": self.clkop_div - 1, "CLKOP_FPHASE": 0,
        }
        if self.clkos_div is not None:
            params |= {"CLKOS_ENABLE": "ENABLED", "CLKOS_DIV": self.clkos_div,
                       "CLKOS_CPHASE": self.clkos_div - 1, "CLKOS_FPHASE": 0}
        return {f"p_{name}": value for name, value in params.items()}


def pll_config(ref_hz: int, clkop_hz: int, clkos_hz: int | None = None) -> PllConfig:
    """The EHXPLLL setting with the highest phase-detector frequency (least jitter) that
    gives ``clkop_hz`` (and ``clkos_hz``) exactly within the PFD and VCO limits."""
    for clki_div in range(1, CLKI_DIV_MAX + 1):
        pfd = Fraction(ref_hz, clki_div)
        if not PFD_HZ[0] <= pfd <= PFD_HZ[1]:
            continue
        fb = Fraction(clkop_hz) / pfd
        if fb.denominator != 1 or not 1 <= fb <= CLKFB_DIV_MAX:
            continue
        for clkop_div in range(1, OUT_DIV_MAX + 1):
            config = PllConfig(ref_hz, clki_div, int(fb), clkop_div)
            if not VCO_HZ[0] <= config.vco_hz <= VCO_HZ[1]:
                continue
            if clkos_hz is None:
                return config
            os_div = config.vco_hz / Fraction(clkos_hz)
            if os_div.denominator == 1 and 1 <= os_div <= OUT_DIV_MAX:
                return PllConfig(ref_hz, clki_div, int(fb), clkop_div, int(os_div))
    wanted = f"{clkop_hz} Hz" + (f" and {clkos_hz} Hz" if clkos_hz else "")
    raise PllError(f"EHXPLLL: no setting gives {wanted} exactly from {ref_hz} Hz")


#: PLL 1: reference -> 312.5 MHz (CLKOP) and 156.25 MHz (CLKOS).
MAIN_PLL = pll_config(REF_HZ, EDGE_HZ, FABRIC_HZ)
#: PLL 2: 156.25 MHz -> the line clock.
LINE_PLL = pll_config(FABRIC_HZ, LINE_HZ)
#: The DDR3 edge clock (twice the controller's 100 MHz) and the DDR PHY's start-sequence clock.
DRAM2X_HZ, DRAM_INIT_HZ = 200_000_000, 25_000_000
#: PLL 3: 156.25 MHz -> the DDR3 edge clock (CLKOP) and the PHY's init clock (CLKOS).
DRAM_PLL = pll_config(FABRIC_HZ, DRAM2X_HZ, DRAM_INIT_HZ)


class Ecp5Clocks(wiring.Component):
    """PLLs, clock tree and reset synchronisers of a top (see the module docstring).

    Drives the domains ``sync`` (156.25 MHz), ``line`` (166.015625 MHz) and, with
    ``gearbox``, the reset-less ``eclk`` (312.5 MHz); the parent defines them
    (:meth:`add_domains`).

    Members
    -------
    refclk : In(1)
        The 25 MHz reference pin.
    rst_n : In(1)
        The reset pin, active low.
    locked : Out(1)
        Every PLL locked (status register).
    dram2x, dram_init, arst : Out(1)
        With ``dram``: PLL 3's clocks and the asynchronous reset of every domain.
    """

    def __init__(self, gearbox: bool, *, ecp5: bool = True, dram: bool = False) -> None:
        self._gearbox, self._ecp5, self._dram = gearbox, ecp5, dram
        members = {"refclk": In(1), "rst_n": In(1), "locked": Out(1)}
        if dram:
            members |= {"dram2x": Out(1), "dram_init": Out(1), "arst": Out(1)}
        super().__init__(members)

    def add_domains(self, m: Module) -> None:
        """Define the domains this block drives in ``m``, the module that holds it (a domain is
        defined where it is used or above)."""
        m.domains.sync = ClockDomain("sync", async_reset=True)
        m.domains.line = ClockDomain("line", async_reset=True)
        if self._gearbox:
            m.domains.eclk = ClockDomain("eclk", reset_less=True)

    def elaborate(self, platform):
        m = Module()
        if self._ecp5:
            def make(**kwargs: object) -> Instance:
                return Instance("EHXPLLL", **kwargs)
        else:
            from rtl.simonly import ecp5_primitives
            make = ecp5_primitives.EHXPLLL
        edge, fabric, line = Signal(), Signal(), Signal()
        lock1, lock2 = Signal(), Signal()
        m.submodules.pll_main = make(**MAIN_PLL.parameters(),
                                **_pll_pins(self.refclk, edge, fabric, lock1))
        m.submodules.pll_line = make(**LINE_PLL.parameters(),
                                **_pll_pins(fabric, line, None, lock2))
        lock3 = Signal(init=1)
        if self._dram:
            lock3 = Signal()
            m.submodules.pll_dram = make(**DRAM_PLL.parameters(),
                                         **_pll_pins(fabric, self.dram2x, self.dram_init, lock3))
        if self._ecp5:
            m.d.comb += ClockSignal("line").eq(line)
            if self._gearbox:
                m.submodules.eclksync = Instance("ECLKSYNCB", i_ECLKI=edge, i_STOP=0,
                                                 o_ECLKO=ClockSignal("eclk"))
                m.submodules.clkdiv = Instance("CLKDIVF", p_DIV="2.0", i_CLKI=ClockSignal("eclk"),
                                               i_RST=0, i_ALIGNWD=0, o_CDIVX=ClockSignal("sync"))
            else:
                m.d.comb += ClockSignal("sync").eq(fabric)
        else:  # the testbench drives the domain clocks; the model of PLL 2 counts on `sync`
            m.d.comb += fabric.eq(ClockSignal("sync"))
        m.d.comb += self.locked.eq(lock1 & lock2 & lock3)
        arst = Signal()
        m.d.comb += arst.eq(~self.rst_n | ~self.locked)
        if self._dram:
            m.d.comb += self.arst.eq(arst)
        for domain in ("sync", "line"):
            m.submodules[f"reset_{domain}"] = cdc.ResetSynchronizer(arst, domain=domain)
        return m


def _pll_pins(clki, clkop, clkos, lock) -> dict[str, object]:
    pins = {"i_CLKI": clki, "i_CLKFB": clkop, "i_RST": 0, "i_STDBY": 0, "i_PHASESEL0": 0,
            "i_PHASESEL1": 0, "i_PHASEDIR": 1, "i_PHASESTEP": 1, "i_PHASELOADREG": 1,
            "i_PLLWAKESYNC": 0, "i_ENCLKOP": 0, "o_CLKOP": clkop, "o_LOCK": lock}
    if clkos is not None:
        pins |= {"i_ENCLKOS": 0, "o_CLKOS": clkos}
    return pins
