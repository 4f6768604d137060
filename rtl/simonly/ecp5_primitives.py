r"""Behavioural simulation models of ECP5 primitives that the synthesis tops instantiate.

Overview
--------
:class:`DP16KD` stands in for the ECP5 ``DP16KD`` block RAM where a design instantiates it with
``amaranth.hdl.Instance`` (Yosys does not infer the block RAM's output register), so that the
Amaranth simulator, Verilator and Icarus can run the synthesised configuration. It takes the
same keyword arguments as the ``Instance`` (``p_`` parameters, ``i_`` inputs, ``o_`` outputs)
and models only the configuration :class:`rtl.satellite.rnd_cache.RndCache` uses; anything else
is refused with :class:`PrimitiveModelError` rather than simulated wrongly.

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

from amaranth.hdl import Cat, ClockSignal, Elaboratable, Module, Mux, Signal, Value
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


class DP16KD(Elaboratable):
    """Simulation model of ``Instance("DP16KD", **kwargs)``; see the module docstring."""

    def __init__(self, **kwargs: object) -> None:
        params, self._i, self._o = {}, {}, {}
        for key, value in kwargs.items():
            kind, _, name = key.partition("_")
            target = {"p": params, "i": self._i, "o": self._o}.get(kind)
            if target is None:
                raise PrimitiveModelError(f"DP16KD model: unknown argument {key!r}")
            target[name] = value
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
            clock = self._i.get(name)
            if not (isinstance(clock, ClockSignal) and clock.domain == "sync"):
                raise PrimitiveModelError(
                    f"DP16KD model: input {name} must be ClockSignal() (the sync domain)")

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
