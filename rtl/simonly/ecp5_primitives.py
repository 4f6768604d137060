r"""Behavioural simulation models of ECP5 primitives that the synthesis tops instantiate.

Overview
--------
:class:`DP16KD` stands in for the ECP5 ``DP16KD`` block RAM where a design instantiates it with
``amaranth.hdl.Instance`` (Yosys does not infer the block RAM's output register), so that the
Amaranth simulator, Verilator and Icarus can run the synthesised configuration. It takes the
same keyword arguments as the ``Instance`` (``p_`` parameters, ``i_`` inputs, ``o_`` outputs)
and models only the configuration :class:`rtl.satellite.rnd_cache.RndCache` uses; anything else
is refused with :class:`PrimitiveModelError` rather than simulated wrongly. :class:`ODDRX2F`
(4:1 DDR output gearing) and :class:`DELAYF` (dynamic fine delay) model the output edge of
:class:`rtl.satellite.gearbox.ModulatorGearbox` the same way. :class:`EHXPLLL` checks a PLL
setting of :mod:`rtl.tops.clocks` and models its ``LOCK``.

EHXPLLL (PLL)
-------------
Feedback from ``CLKOP`` only (``FEEDBK_PATH`` ``CLKOP``, ``CLKFB`` wired to ``CLKOP``): the
model computes ``clkop_hz`` / ``clkos_hz`` from ``CLKI_DIV``, ``CLKFB_DIV``, ``CLKOP_DIV``,
``CLKOS_DIV`` and the reference frequency it is given, and refuses a phase-detector or VCO
frequency outside the device's limits, a non-zero phase or another feedback path. It drives no
clock (the testbench adds the domain clocks); ``LOCK`` rises after :data:`PLL_LOCK_EDGES`
rising edges of ``CLKI`` and stays high.

ODDRX2F (4:1 gearing)
---------------------
``D0..D3`` are latched on ``SCLK`` (the fabric clock) and leave on ``Q`` at twice ``ECLK``'s
rate, ``D0`` first: with ``ECLK`` = 2 x ``SCLK`` aligned on ``SCLK``'s rising edges, the word
latched at an ``SCLK`` edge goes out as ``D0`` (``ECLK`` high) and ``D1`` (low) of the
``ECLK`` cycle that starts half an ``SCLK`` period later, then ``D2``, ``D3``: four unit
intervals of a quarter ``SCLK`` period each (625 MS/s at 156.25 MHz). ``ECLK`` must be
``ClockSignal("eclk")`` and ``RST`` tied low.

DELAYF (dynamic fine delay)
---------------------------
``LOADN`` low loads ``DEL_VALUE``; a rising edge of ``MOVE`` (sampled on the fabric clock) moves
one step, up when ``DIRECTION`` is 0, down when 1, saturating at 0 and 127 (``CFLAG`` high at a
limit). ``Z`` follows ``A``: a step (about 25 ps) is far below a cycle-level model's
resolution, so the model keeps the step count (``taps``, readable in simulation) instead of
delaying the edge.

Modelled configuration
----------------------
16384 x 1 on both ports (``DATA_WIDTH_A = DATA_WIDTH_B = 1``, address pins ``AD*0..13``), port
A write only (``WEA``; its data output unused), port B read only (``WEB = 0``), chip selects
decoded as always selected (``CSDECODE = 0b000``, ``CS* = 0``), resets tied low,
``WRITEMODE`` ``NORMAL``; ``REGMODE_B`` ``NOREG`` or ``OUTREG``.

* Port A writes ``DIA0`` at ``ADA`` on a clock edge with ``CEA & WEA``.
* Port B reads ``ADB`` on an edge with ``CEB`` into the array's output latch (the data of
  before that edge's write: writes are not visible to the other port in the same edge).
* Read during write: if port A writes the address port B reads on the same edge, the ECP5 data
  sheet leaves port B's data undefined. The model then latches the complement of the bit being
  written: never the new data, so that a design relying on it (instead of bypassing the
  collision) gives wrong answers in simulation.
* ``OUTREG``: ``DOB0`` is a register loaded from the latch on edges with ``OCEB`` (one more
  cycle); ``NOREG``: ``DOB0`` is the latch.

Initial contents are zero (the real RAM's are undefined; no user reads an unwritten row and
lets it out).
"""

from amaranth.hdl import Cat, ClockDomain, ClockSignal, Elaboratable, Module, Mux, Signal, Value
from amaranth.lib import memory

#: Depth of the modelled 16384 x 1 configuration.
DP16KD_DEPTH = 16384
_ADDR_PINS = (DP16KD_DEPTH - 1).bit_length()

# Parameters whose value the model needs as given (anything else is not modelled).
_FIXED = {
    "DATA_WIDTH_A": 1, "DATA_WIDTH_B": 1, "REGMODE_A": "NOREG", "WRITEMODE_A": "NORMAL",
    "WRITEMODE_B": "NORMAL", "CSDECODE_A": "0b000", "CSDECODE_B": "0b000",
}
_IGNORED = {"RESETMODE", "GSR"}  # no effect with the resets tied low
_TIED_LOW = ["WEB", "RSTA", "RSTB"] + [f"CS{p}{k}" for p in "AB" for k in range(3)]


class PrimitiveModelError(ValueError):
    """A primitive was instantiated in a configuration its simulation model does not cover."""


def _const(value: object) -> int | None:
    """The integer value of a constant input (``0``, ``1``, ``Const``), else ``None``."""
    if isinstance(value, int):
        return value
    try:
        return Value.cast(value).value
    except (AttributeError, TypeError):
        return None


def split_instance_args(primitive: str, kwargs: dict) -> tuple[dict, dict, dict]:
    """``Instance``-style keyword arguments as (parameters, inputs, outputs) by name."""
    params, inputs, outputs = {}, {}, {}
    for key, value in kwargs.items():
        kind, _, name = key.partition("_")
        target = {"p": params, "i": inputs, "o": outputs}.get(kind)
        if target is None:
            raise PrimitiveModelError(f"{primitive} model: unknown argument {key!r}")
        target[name] = value
    return params, inputs, outputs


def require_clock(primitive: str, inputs: dict, name: str, domain: str) -> None:
    """Refuse a clock input that is not ``ClockSignal(domain)``."""
    clock = inputs.get(name)
    if not (isinstance(clock, ClockSignal) and clock.domain == domain):
        raise PrimitiveModelError(
            f"{primitive} model: input {name} must be ClockSignal({domain!r})")


class DP16KD(Elaboratable):
    """Simulation model of ``Instance("DP16KD", **kwargs)``; see the module docstring."""

    def __init__(self, **kwargs: object) -> None:
        params, self._i, self._o = split_instance_args("DP16KD", kwargs)
        for name, want in _FIXED.items():
            if params.get(name, want) != want:
                raise PrimitiveModelError(
                    f"DP16KD model: {name}={params[name]!r} not modelled (only {want!r})")
        self._outreg = params.get("REGMODE_B", "NOREG") == "OUTREG"
        if params.get("REGMODE_B", "NOREG") not in ("NOREG", "OUTREG"):
            raise PrimitiveModelError(
                f"DP16KD model: REGMODE_B={params['REGMODE_B']!r} not modelled")
        unknown = set(params) - set(_FIXED) - _IGNORED - {"REGMODE_B"}
        if unknown:
            raise PrimitiveModelError(f"DP16KD model: parameters {sorted(unknown)} not modelled")
        for name in _TIED_LOW:
            if _const(self._i.get(name, 0)) != 0:
                raise PrimitiveModelError(f"DP16KD model: input {name} must be tied to 0")
        if set(self._o) - {"DOB0"}:
            raise PrimitiveModelError(
                f"DP16KD model: outputs {sorted(set(self._o) - {'DOB0'})} not modelled "
                "(port A is write only, port B one bit wide)")
        for name in ("CLKA", "CLKB"):
            require_clock("DP16KD", self._i, name, "sync")

    def _pin(self, name: str) -> Value:
        return Value.cast(self._i.get(name, 0))

    def _addr(self, port: str) -> Value:
        return Cat(*(self._pin(f"AD{port}{k}") for k in range(_ADDR_PINS)))

    def elaborate(self, platform):
        m = Module()
        m.submodules.array = array = memory.Memory(shape=1, depth=DP16KD_DEPTH, init=[])
        wr = array.write_port()
        rd = array.read_port()  # not transparent: the data of before this edge's write
        write = self._pin("CEA") & self._pin("WEA")
        m.d.comb += [
            wr.addr.eq(self._addr("A")),
            wr.data.eq(self._pin("DIA0")),
            wr.en.eq(write),
            rd.addr.eq(self._addr("B")),
            rd.en.eq(self._pin("CEB")),
        ]
        # The collision is decided with the read, and held with the latch while CEB is low.
        clash, poison = Signal(), Signal()
        with m.If(self._pin("CEB")):
            m.d.sync += [
                clash.eq(write & (self._addr("A") == self._addr("B"))),
                poison.eq(~self._pin("DIA0")),
            ]
        latch = Mux(clash, poison, rd.data)
        dob = self._o.get("DOB0")
        if dob is None:
            return m
        if self._outreg:
            out = Signal()
            with m.If(self._pin("OCEB")):
                m.d.sync += out.eq(latch)
            m.d.comb += dob.eq(out)
        else:
            m.d.comb += dob.eq(latch)
        return m


def _pin(inputs: dict, name: str) -> Value:
    return Value.cast(inputs.get(name, 0))


class ODDRX2F(Elaboratable):
    """Simulation model of ``Instance("ODDRX2F", **kwargs)``; see the module docstring.

    Latency: a word latched at an ``SCLK`` edge starts on ``Q`` half an ``SCLK`` period later.
    """

    def __init__(self, **kwargs: object) -> None:
        params, self._i, self._o = split_instance_args("ODDRX2F", kwargs)
        if params:
            raise PrimitiveModelError(f"ODDRX2F model: parameters {sorted(params)} not modelled")
        require_clock("ODDRX2F", self._i, "SCLK", "sync")
        require_clock("ODDRX2F", self._i, "ECLK", "eclk")
        if _const(self._i.get("RST", 0)) != 0:
            raise PrimitiveModelError("ODDRX2F model: input RST must be tied to 0")
        if set(self._o) != {"Q"}:
            raise PrimitiveModelError("ODDRX2F model: the only output is Q")

    def elaborate(self, platform):
        m = Module()
        word, toggle = Signal(4), Signal()
        m.d.sync += [word.eq(Cat(*(_pin(self._i, f"D{k}") for k in range(4)))),
                     toggle.eq(~toggle)]
        # ECLK edges between SCLK edges see a new word (toggle changed): load it; the edges
        # that coincide with SCLK's see the old toggle: send the word's second half.
        seen, shift = Signal(), Signal(4)
        with m.If(toggle != seen):
            m.d.eclk += [shift.eq(word), seen.eq(toggle)]
        with m.Else():
            m.d.eclk += shift.eq(shift >> 2)
        m.d.comb += self._o["Q"].eq(Mux(ClockSignal("eclk"), shift[0], shift[1]))
        return m


#: Steps of the modelled DELAYF (7-bit delay code).
DELAYF_STEPS = 128


class DELAYF(Elaboratable):
    """Simulation model of ``Instance("DELAYF", **kwargs)``; see the module docstring.

    ``taps`` holds the step count the real delay line would be at.
    """

    def __init__(self, **kwargs: object) -> None:
        params, self._i, self._o = split_instance_args("DELAYF", kwargs)
        if params.get("DEL_MODE", "USER_DEFINED") != "USER_DEFINED":
            raise PrimitiveModelError(f"DELAYF model: DEL_MODE={params['DEL_MODE']!r} not "
                                      "modelled (only 'USER_DEFINED')")
        self._initial = int(params.get("DEL_VALUE", 0))
        if not 0 <= self._initial < DELAYF_STEPS or set(params) - {"DEL_MODE", "DEL_VALUE"}:
            raise PrimitiveModelError(f"DELAYF model: parameters {params} not modelled")
        if set(self._o) - {"Z", "CFLAG"}:
            raise PrimitiveModelError(f"DELAYF model: outputs {sorted(self._o)} not modelled")
        self.taps = Signal(range(DELAYF_STEPS), init=self._initial)

    def elaborate(self, platform):
        m = Module()
        move = _pin(self._i, "MOVE")
        last_move = Signal()
        m.d.sync += last_move.eq(move)
        down = _pin(self._i, "DIRECTION")
        at_limit = Mux(down, self.taps == 0, self.taps == DELAYF_STEPS - 1)
        with m.If(~_pin(self._i, "LOADN")):
            m.d.sync += self.taps.eq(self._initial)
        with m.Elif(move & ~last_move & ~at_limit):
            m.d.sync += self.taps.eq(Mux(down, self.taps - 1, self.taps + 1))
        if "Z" in self._o:
            m.d.comb += self._o["Z"].eq(_pin(self._i, "A"))
        if "CFLAG" in self._o:
            m.d.comb += self._o["CFLAG"].eq(at_limit)
        return m


#: CLKI rising edges from start to LOCK in the EHXPLLL model (the device locks within 15 us).
PLL_LOCK_EDGES = 16


class EHXPLLL(Elaboratable):
    """Simulation model of ``Instance("EHXPLLL", **kwargs)``; see the module docstring.

    ``ref_hz`` is the frequency on ``CLKI`` (the model cannot measure it); ``clkop_hz`` and
    ``clkos_hz`` (``None`` when disabled) are what the device would give.
    """

    def __init__(self, ref_hz: int | None = None, **kwargs: object) -> None:
        from rtl.tops.clocks import PFD_HZ, VCO_HZ, PllConfig

        params, self._i, self._o = split_instance_args("EHXPLLL", kwargs)
        if params.get("FEEDBK_PATH") != "CLKOP" or self._i.get("CLKFB") is not self._o.get("CLKOP"):
            raise PrimitiveModelError("EHXPLLL model: only FEEDBK_PATH='CLKOP' with CLKFB wired "
                                      "to CLKOP is modelled")
        for out in ("CLKOP", "CLKOS"):
            div = params.get(f"{out}_DIV")
            if div is not None and (params.get(f"{out}_CPHASE") != div - 1
                                    or params.get(f"{out}_FPHASE", 0) != 0):
                raise PrimitiveModelError(f"EHXPLLL model: {out} must have zero phase "
                                          f"(CPHASE = DIV - 1, FPHASE = 0)")
        self.config = PllConfig(ref_hz or 0, int(params["CLKI_DIV"]), int(params["CLKFB_DIV"]),
                                int(params["CLKOP_DIV"]),
                                None if "CLKOS_DIV" not in params else int(params["CLKOS_DIV"]))
        if ref_hz is not None:
            pfd = ref_hz / self.config.clki_div
            if not (PFD_HZ[0] <= pfd <= PFD_HZ[1] and VCO_HZ[0] <= self.config.vco_hz <= VCO_HZ[1]):
                raise PrimitiveModelError(
                    f"EHXPLLL model: PFD {pfd / 1e6:.3f} MHz or VCO "
                    f"{float(self.config.vco_hz) / 1e6:.3f} MHz outside the device's limits")
        self.clkop_hz = self.config.clkop_hz
        self.clkos_hz = self.config.clkos_hz

    def elaborate(self, platform):
        m = Module()
        m.domains.pll_ref = ClockDomain("pll_ref", local=True, reset_less=True)
        m.d.comb += ClockSignal("pll_ref").eq(_pin(self._i, "CLKI"))
        edges = Signal(range(PLL_LOCK_EDGES + 1))
        with m.If(edges != PLL_LOCK_EDGES):
            m.d.pll_ref += edges.eq(edges + 1)
        if "LOCK" in self._o:
            m.d.comb += self._o["LOCK"].eq(edges == PLL_LOCK_EDGES)
        return m
