"""TDC delay line on ECP5 carry-chain cells, with its sampling flip-flops (synthesis only).

Overview
--------
The line is a chain of ``CCU2C`` cells (two carry bits each) whose carry propagates the input
pulse; every ``TDC_TAP_STRIDE``-th carry bit is sampled by a flip-flop on the fabric clock,
then by a second flip-flop, and the second rank is the code that
:class:`rtl.ground.tdc.TdcChannel` reads on ``taps``. It elaborates to ``Instance("CCU2C")``
primitives, which only the ECP5 flow (``make synth``) knows: in simulation the behavioural line
stands in for this component (:class:`models.ground.tdc.DelayLine` for the codes,
:class:`rtl.simonly.delay_line.DelayLineReplay` to present them, or the code input ports of
:class:`rtl.ground.tops.GroundTiming` with ``lines="ports"``), with the same contract.

Cell configuration (Yosys's ``CCU2C`` model, ``techlibs/lattice/cells_sim_ecp5.v``)
-----------------------------------------------------------------------------------
Per half ``h`` of a cell, the LUT4 is the carry *propagate*, ``INIT[3:0]`` over (A, B) the
*generate* (used only with ``INJECT1_h = "NO"``); ``COUT_h = ~P & G | P & CIN_h`` and
``S_h = P ^ CIN_h``.

* **Launch cell** (chain head): half 0 has ``INIT0 = 0x0005`` with C0 = D0 = 1, so P = 0 and
  G = ~A0: the line input on ``A0`` *starts* the carry (inverted), and the carry arriving from
  the cell to the west in the carry column cannot leak in. ``CIN`` is tied to 0. This is
  nextpnr's own chain feed-in (``INIT0 = 0x000A``) with the generate inverted.
* **Line cells**: ``INIT0 = INIT1 = 0xFFFF`` (P = 1 whatever the inputs, which are tied to 1
  as the ECP5 ties unused LUT inputs), ``INJECT1_0 = INJECT1_1 = "NO"``: the carry passes
  through both halves and each ``S`` shows ``~carry`` into its half. With the launch cell's
  inversion, ``S`` is the line input delayed: idle code all zeros, a pulse fills the code from
  tap 0, as :class:`rtl.ground.tdc.TdcChannel` expects.
* **Taps**: tap ``t`` is the sum output of half ``(t + 1) * stride - 1`` of the line (stride 2:
  ``S1`` of line cell ``t``, the second carry bit of every cell; stride 1: both outputs).
  Sampling only ``S1`` leaves out the near-empty bins of the pair that switches together.

Keeping the chain through synthesis
-----------------------------------
Every cell, carry net, sum net and first-rank flop carries ``keep``. That is not enough: Yosys's
``CCU2C`` is a whitebox, and ``abc9`` (and ``abc``) evaluate it, find that every sum output of
the line equals ``line`` and wire the flops straight to the input pin, leaving the cells
unused. ``sim/synth.py`` therefore hides the ``CCU2C`` cells the RTL instantiates behind a
blackbox type during ``synth_ecp5`` and restores the type before place and route. The INIT
values are 16-bit numbers, not Lattice's ``"0xFFFF"`` strings, which Yosys's model would read
as ASCII.

Sampling and the second rank
----------------------------
The first rank samples an asynchronous wavefront: a flop whose sampling instant falls in its
setup/hold window around a carry transition goes metastable. Its resolution time is the rest of
the clock period only if nothing but a single flop reads it; the encoder behind it is a
320-input adder tree whose LUTs would each read a possibly unresolved value differently, giving
a code that is neither the earlier nor the later one. The second rank gives every bit the rest
of a clock period after the route to it (2.7 ns in ``ground_timing``, against a resolution time
constant of tens of ps) to settle before the encoder, so a bit can only be wrong (a bubble,
which the ones counter absorbs), never inconsistent. The first-rank flop of a tap sits in the
slice of its ``CCU2C`` (nextpnr packs a flop fed only by a carry cell's sum output into that
slice), so its data path is the slice's internal ``F -> DI`` connection, the same for every tap.

Timing: every path *into* the first rank is asynchronous (a detector pin, the calibration
oscillator, or the calibration select whose disturbed samples are blanked) and must stay out of
the fabric clock's Fmax; nextpnr-ecp5 has no false-path constraint (its SDC reader accepts
``set_false_path`` and ignores it). So the first rank is clocked by its own clock domain
(``sample_domain``; ``tdc`` in :class:`CarryLines`, a separate clock net that the board drives
from the fabric clock): nextpnr reports the paths into it as clock crossings, apart from the
fabric Fmax, and the first -> second rank path as the crossing back into ``sync``, where the
second rank is the synchroniser. Second rank -> encoder is an ordinary ``sync`` path.

Latency: the code of the clock edge that samples the line appears on ``taps`` one edge later
(two registers, so a cycle more than the behavioural replay): the same shift of one period on
every channel, which :class:`rtl.ground.tops.GroundTiming` takes back by starting the tagger's
coarse counter one period earlier. Throughput: one code per cycle.

Placement
---------
nextpnr-ecp5 places a carry chain as one relative-placement cluster: the carry connection is
dedicated wiring from slice to slice (A, B, C, D of a PFU, then the next PFU to the east), so
the cells are contiguous in one row and a bin is a carry delay, or a PFU-to-PFU hop every 8
bits (the structure the delay-line model assumes). Each first-rank flop joins the slice of the
cell that drives it (all 1600 of the five lines in the ``ground_timing`` run). A chain longer
than a row is split by nextpnr into pieces joined through fabric routing (a bin of hundreds of
ps, placed anywhere): a row of the LFE5U-25F holds 276 carry cells, fewer than the 321 of this
line, so the TDC top goes on the LFE5U-45F, whose rows hold the whole chain (``sim/synth.py``
checks both after place and route; ``docs/ground.md`` "Synthesis").

What this flow cannot fix is *where* a chain goes. nextpnr-ecp5's ``BEL`` attribute on a
``CCU2C`` is copied to both halves of the cell and rejected; on a first-rank ``TRELLIS_FF`` it
is accepted and then overridden when the flop moves with its carry cell's cluster; the YoWASP
build has no Python for a pre-placement script, and the LPF ``LOCATE`` handles IO pins only.
A board build adds absolute placement: each chain's launch cell fixed in a row next to its
input pin, the five chains in the same columns so that their bins match (by a nextpnr
pre-placement script binding the launch cell's halves, or Diamond's ``LOCATE COMP`` / ``UGROUP``
with ``BBOX``), and the input pins' IO cells chosen for equal routing to the launch cells.
"""

from amaranth.hdl import ClockDomain, ClockSignal, Const, Instance, Module, Mux, Signal
from amaranth.lib import data, wiring
from amaranth.lib.cdc import FFSynchronizer
from amaranth.lib.wiring import In, Out

from models.constants import (
    TDC_CAL_PERIOD,
    TDC_CAL_SLOT_CYCLES,
    TDC_CHANNELS,
    TDC_TAP_STRIDE,
    TDC_TAPS,
)
from models.ground.tdc import check_cal_period

#: ``CCU2C`` configuration of the launch cell (half 0 starts the carry from ~A0, half 1 passes).
LAUNCH_PARAMS = {"INIT0": 0x0005, "INIT1": 0xFFFF, "INJECT1_0": "NO", "INJECT1_1": "NO"}
#: ``CCU2C`` configuration of a line cell (both halves propagate the carry).
LINE_PARAMS = {"INIT0": 0xFFFF, "INIT1": 0xFFFF, "INJECT1_0": "NO", "INJECT1_1": "NO"}
#: Carry bits per ``CCU2C``.
BITS_PER_CELL = 2
#: ``TRELLIS_FF`` configuration of a first-rank sampling flop: plain D flop, no reset (a
#: reset would add a control-set constraint to the carry cell's slice and serves nothing: the
#: code of the next edge overwrites it).
SAMPLER_PARAMS = {"GSR": "DISABLED", "CEMUX": "1", "CLKMUX": "CLK", "LSRMUX": "LSR",
                  "SRMODE": "LSR_OVER_CE", "REGSET": "RESET"}


def _init(value: int) -> Const:
    """LUT initialisation as a 16-bit number: Yosys's ``CCU2C`` model (which ``opt`` and
    ``abc9`` evaluate) reads a Lattice-style ``"0xFFFF"`` string parameter as its ASCII bits,
    so a string would make Yosys fold the chain to constants that nextpnr never sees."""
    return Const(value, 16)


class CarryChainLine(wiring.Component):
    """One TDC delay line on ECP5 carry cells, sampled twice by the fabric clock (see the
    module docstring: cell configuration, why two ranks, timing, placement).

    A synchroniser by design (``clock_crossing``, :mod:`rtl.common.crossings`): the line
    carries an asynchronous edge (a detector, the sync strobe or the calibration oscillator)
    that the first rank samples on purpose; the second rank gives a metastable first-rank flop
    a cycle to settle before the channel reads the code.

    Latency: the code sampled at edge ``c`` is on ``taps`` after edge ``c + 1``. Throughput:
    one code per cycle. Synthesis only: simulators use the behavioural line.

    Members
    -------
    line : In(1)
        The line input (detector or sync-strobe pin, or the calibration source); asynchronous
        to the fabric clock.
    taps : Out(taps)
        The code, tap 0 nearest the input, as :class:`rtl.ground.tdc.TdcChannel` reads it.

    Parameters
    ----------
    taps, stride
        Sampled taps and carry bits per tap; the line has ``taps * stride / 2`` line cells
        plus the launch cell.
    """

    clock_crossing = "bits"

    def __init__(self, taps: int = TDC_TAPS, stride: int = TDC_TAP_STRIDE,
                 sample_domain: str = "sync") -> None:
        if taps < 1 or stride < 1 or (taps * stride) % BITS_PER_CELL:
            raise ValueError(f"carry chain: {taps} taps at stride {stride} do not fill whole "
                             f"{BITS_PER_CELL}-bit CCU2C cells")
        self._taps, self._stride, self._sample_domain = taps, stride, sample_domain
        self.cells = taps * stride // BITS_PER_CELL
        super().__init__({"line": In(1), "taps": Out(taps)})

    def _ccu2c(self, params: dict, cin, cout, sums: tuple, a0=1) -> Instance:
        ties = {f"i_{pin}{h}": Const(1) for pin in "ABCD" for h in (0, 1)}
        ties["i_A0"] = a0
        ports = {"i_CIN": cin, "o_COUT": cout, "o_S0": sums[0], "o_S1": sums[1]}
        return Instance(
            "CCU2C",
            p_INIT0=_init(params["INIT0"]), p_INIT1=_init(params["INIT1"]),
            p_INJECT1_0=params["INJECT1_0"], p_INJECT1_1=params["INJECT1_1"],
            a_keep=1, **ports, **ties)

    def _sampler(self, d, q) -> Instance:
        return Instance("TRELLIS_FF", **{f"p_{k}": v for k, v in SAMPLER_PARAMS.items()},
                        a_keep=1, i_CLK=ClockSignal(self._sample_domain), i_LSR=Const(0),
                        i_CE=Const(1), i_DI=d, o_Q=q)

    def elaborate(self, platform):
        m = Module()
        # Named, kept nets: the chain's structure stays readable in the netlist and in
        # nextpnr's reports. carry[i] enters line cell i; carry[cells] leaves the last one.
        carry = [Signal(name=f"carry{i}", attrs={"keep": 1}) for i in range(self.cells + 1)]
        sums = [Signal(name=f"sum{i}", attrs={"keep": 1})
                for i in range(self.cells * BITS_PER_CELL)]
        m.submodules.launch = self._ccu2c(LAUNCH_PARAMS, Const(0), carry[0],
                                          (Signal(name="launch_s0"), Signal(name="launch_s1")),
                                          a0=self.line)
        for i in range(self.cells):
            m.submodules[f"cell{i}"] = self._ccu2c(
                LINE_PARAMS, carry[i], carry[i + 1],
                (sums[BITS_PER_CELL * i], sums[BITS_PER_CELL * i + 1]))
        first = Signal(self._taps, reset_less=True)
        second = Signal(self._taps, reset_less=True)
        for t in range(self._taps):
            half = (t + 1) * self._stride - 1
            m.submodules[f"sample{t}"] = self._sampler(sums[half], first[t])
        m.d.sync += second.eq(first)
        m.d.comb += self.taps.eq(second)
        return m


#: ``OSCG`` divider of the calibration oscillator: 310 MHz / 3 = 103 MHz, a 9.7 ns period, so
#: the one-period pulse is about ``TDC_PULSE_PS`` wide, like a detector pulse.
OSCG_DIV = 3
#: Cycles the slot select is computed ahead of the slot (see :class:`CarryLines`).
SELECT_LEAD = 2


class CalibrationOscillator(wiring.Component):
    """The calibration pulse source of decision 1 in hardware: the ECP5's free-running internal
    oscillator (``OSCG``, 103 MHz, unrelated to the fabric clock) and, in its own clock domain,
    a synchroniser on ``slot`` and a one-shot that gives one pulse of one oscillator period
    (9.7 ns) per rising edge of ``slot``.

    The pulse rises 2 to 3 oscillator periods (19 to 29 ns, 3.0 to 4.6 fabric cycles) after
    ``slot`` rises, at a phase to the fabric clock that nothing correlates, and ends before
    the slot's eighth cycle; the behavioural model (:func:`models.ground.tdc.channel_input`)
    draws it uniformly over the slot's second period instead. Both give calibration hits in
    phases 2 to 8 of the slot, uniform over the code. Synthesis only.

    Members
    -------
    slot : In(1)
        The calibration select (fabric clock domain), high for the slot.
    pulse : Out(1)
        The oscillator pulse (oscillator clock domain), to the lines' muxes.
    """

    slot: In(1)
    pulse: Out(1)

    def elaborate(self, platform):
        m = Module()
        m.domains.osc = ClockDomain("osc", reset_less=True)
        m.submodules.oscg = Instance("OSCG", p_DIV=OSCG_DIV, o_OSC=ClockSignal("osc"))
        # slot comes from the fabric clock; the one-shot must see a settled level
        level, seen = Signal(name="slot_level"), Signal(name="slot_seen")
        m.submodules.slot_cdc = FFSynchronizer(self.slot, level, o_domain="osc")
        m.d.osc += [seen.eq(level), self.pulse.eq(level & ~seen)]
        return m


class CalibrationSelect(wiring.Component):
    """The calibration mux select of :class:`CarryLines`: high in cycles ``[s - 1, s + 7)``
    for every ``s`` with ``s % cal_period == 0`` on a counter that starts with the channels'
    (:class:`rtl.ground.tdc.TdcChannel` ``phase``) at reset, so the line switches just after
    edge ``s - 1`` and back just after edge ``s + 7``: the codes the channels read at their
    phases 1 and 9 are the first after each switch.

    ``guarded`` is the same select for the sync channel's mux, low through the slots that its
    strobe guard skips (:class:`rtl.ground.strobe_guard.StrobeGuard`: ``skip`` holds from
    ``lead`` cycles before a slot, so it is steady over the ``s - 2 .. s + 6`` that set the
    select). Both are registers of the same counter: the guard adds one register and one gate
    input, no path.

    Members
    -------
    select : Out(1)
        A register (a clean clock-to-out edge on the mux); high out of reset, as if the first
        slot's select had risen the cycle before.
    skip : In(1)
        The strobe guard's decision for the current slot (a register).
    guarded : Out(1)
        ``select`` unless ``skip`` (a register).
    """

    select: Out(1, init=1)
    skip: In(1)
    guarded: Out(1, init=1)

    def __init__(self, cal_period: int = TDC_CAL_PERIOD) -> None:
        self._cal_period = check_cal_period(cal_period)
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        cycle = Signal(range(self._cal_period))
        ahead = (cycle + SELECT_LEAD) % self._cal_period
        slot = ahead < TDC_CAL_SLOT_CYCLES
        m.d.sync += [cycle.eq(cycle + 1), self.select.eq(slot),
                     self.guarded.eq(slot & ~self.skip)]
        return m


class CarryLines(wiring.Component):
    """The five TDC delay lines of the ground FPGA with their calibration muxes (synthesis
    only; ``lines="carry"`` of :class:`rtl.ground.tops.GroundTiming`).

    Each line's input is ``Mux(select, oscillator pulse, inputs[ch])``: one LUT ahead of its
    :class:`CarryChainLine`. ``select`` is a fabric flop, high for ``TDC_CAL_SLOT_CYCLES``
    cycles every ``cal_period``, placed so that the channel that reads the code sees the slot
    where :class:`rtl.ground.tdc.TdcChannel` expects it: the code a channel reads in its cycle
    ``c`` was sampled at edge ``c - 1`` (two ranks), and the model switches the mux just after
    the edge of the slot's phase 0 sample, so ``select`` rises at edge ``s - 1`` (``s`` a
    multiple of ``cal_period`` on the channel's counter; :class:`CalibrationSelect`).

    Clocks: the first-rank flops of every line are clocked by ``tdc`` (the board drives it
    with the fabric clock: same source, its own clock net), everything else by ``sync``.
    nextpnr-ecp5 has no false-path constraint (its SDC reader accepts ``set_false_path`` and
    ignores it), so the asynchronous paths into the first rank are kept out of the fabric's
    Fmax by construction: the pins and the oscillator are unclocked or another clock, and
    ``select`` -> mux -> chain -> first rank crosses from ``sync`` to ``tdc``, reported apart
    (a ~20 ns path; its timing does not matter because the samples it can disturb, slot
    phases 1 and 9, are blanked by the channel). The first-to-second-rank path crosses back
    (about 0.9 ns): the second rank is the synchroniser.

    Latency: as :class:`CarryChainLine`. Throughput: one code per line per cycle.

    Members
    -------
    inputs : In(TDC_CHANNELS)
        The detector pins (0..3) and the sync-strobe pin (4), asynchronous.
    codes : Out(ArrayLayout(taps, TDC_CHANNELS))
        The sampled codes, as :class:`rtl.ground.time_tagger.TimeTagger` reads them.
    sync_skip : In(1)
        The sync channel's strobe guard (the tagger's ``cal_skip``): the last line's mux
        stays on its pin through the slots it skips (:class:`CalibrationSelect` ``guarded``).
    """

    def __init__(self, taps: int = TDC_TAPS, stride: int = TDC_TAP_STRIDE,
                 cal_period: int = TDC_CAL_PERIOD, channels: int = TDC_CHANNELS) -> None:
        self._taps, self._stride = taps, stride
        self._cal_period = check_cal_period(cal_period)
        self._channels = channels
        super().__init__({"inputs": In(channels), "sync_skip": In(1),
                          "codes": Out(data.ArrayLayout(taps, channels))})

    def elaborate(self, platform):
        m = Module()
        m.submodules.select = sel = CalibrationSelect(self._cal_period)
        select = sel.select
        m.submodules.oscillator = osc = CalibrationOscillator()
        m.d.comb += [osc.slot.eq(select), sel.skip.eq(self.sync_skip)]
        for ch in range(self._channels):
            line = CarryChainLine(self._taps, self._stride, sample_domain="tdc")
            m.submodules[f"line{ch}"] = line
            mine = sel.guarded if ch == self._channels - 1 else select
            m.d.comb += [line.line.eq(Mux(mine, osc.pulse, self.inputs[ch])),
                         self.codes[ch].eq(line.taps)]
        return m
