r"""Modulator gearbox (the output edge): drive words to 625 MS/s pins, with fine delay per channel.

Overview
--------
Each beat of :class:`rtl.satellite.timebase.LaserTimebase` carries four pulses (lanes 0..3)
at 156.25 MHz; the modulator drivers and the laser trigger take one value per pulse at
625 MS/s. Every output pin (8 IM DAC bits, 8 PM DAC bits, 1 laser trigger) gets a 4:1 DDR
serializer, ECP5 ``ODDRX2F`` (``SCLK`` the fabric clock, ``ECLK`` 312.5 MHz from the same PLL,
aligned), whose ``D0..D3`` are that bit of lanes 0..3 (``D0`` leaves first, so pulse order is
kept), followed by a ``DELAYF`` fine delay. The trigger bit of a pulse is ``intensity != OFF``:
a safe pulse (laser off) is not triggered, its DAC bits are the safe drive codes.

Fine delay, one register per channel (``delay``: ``im``, ``pm``, ``trigger``, 7-bit ``DELAYF``
step codes, about 25 ps a step): all pins of a channel share it, so a DAC bus stays aligned
while the three channels are trimmed against each other (cable and driver skew). A controller
per channel walks its ``DELAYF`` to the register one step per two cycles (a ``MOVE`` pulse
with ``DIRECTION``); ``applied`` is the code the delay lines are at.

``ecp5=True`` instantiates the primitives (synthesis; the platform provides the ``eclk``
domain); the default builds their behavioural models (:mod:`rtl.simonly.ecp5_primitives`).

Latency, throughput
-------------------
``i`` is always ready (one beat per cycle, as the timebase sends). One register stage before
the serializers, whose word latched at an ``SCLK`` edge starts half a period later: lane 0 of
the beat taken in cycle ``c`` leaves at :data:`PIN_LATENCY_PS` after the rising edge that ends
cycle ``c``, lane k ``k`` unit intervals (1.6 ns) after it::

    clk      _/‾‾‾\___/‾‾‾\___/‾‾‾\___/‾‾‾\___
    i           B0      B1
    words               B0      B1
    pin                      |b0.0|b0.1|b0.2|b0.3|b1.0| ...
"""

from amaranth.hdl import Cat, ClockSignal, Instance, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from models.constants import FABRIC_CLOCK_PS
from rtl.satellite.layouts import DELAY_BITS, FineDelay, Intensity, symbol_beat

GEAR_RATIO = 4  # ODDRX2F: four bits per fabric cycle and pin
#: Output pins per channel.
CHANNEL_PINS = {"im": 8, "pm": 8, "trigger": 1}
#: From the fabric clock edge that ends the cycle a beat is taken in to its lane 0 on the pins:
#: the word register (one cycle) and the serializer (half a cycle).
PIN_LATENCY_PS = FABRIC_CLOCK_PS * 3 // 2


class ModulatorGearbox(wiring.Component):
    """Drive words and laser trigger to 625 MS/s pins, fine delay per channel.

    Latency :data:`PIN_LATENCY_PS` to lane 0 of a beat; ``i`` always ready, one beat per cycle.

    Members
    -------
    i : In(stream.Signature(symbol_beat(4)))
        Fired beats (``SatelliteTx.symbols``); a cycle without one drives zeros (no trigger).
    delay : In(FineDelay)
        Fine-delay code per channel (register).
    applied : Out(FineDelay)
        The code each channel's delay lines are at.
    im, pm : Out(8); trigger : Out(1)
        The pins (625 MS/s).
    """

    def __init__(self, lanes: int = GEAR_RATIO, *, ecp5: bool = False) -> None:
        if lanes != GEAR_RATIO:
            raise ValueError(f"ModulatorGearbox: lanes={lanes}, the ODDRX2F gearing needs "
                             f"{GEAR_RATIO}")
        self._ecp5 = ecp5
        #: The DELAYF of each (channel, pin), for simulation checks of the models' ``taps``.
        self.delay_lines: dict[tuple[str, int], object] = {}
        super().__init__({
            "i": In(stream.Signature(symbol_beat(lanes))),
            "delay": In(FineDelay),
            "applied": Out(FineDelay),
            **{name: Out(pins) for name, pins in CHANNEL_PINS.items()},
        })

    def elaborate(self, platform):
        m = Module()
        beat = self.i.payload
        m.d.comb += self.i.ready.eq(1)
        lanes = range(GEAR_RATIO)
        values = {
            "im": [beat.drive[k].im for k in lanes],
            "pm": [beat.drive[k].pm for k in lanes],
            "trigger": [beat.symbol[k].intensity != Intensity.OFF for k in lanes],
        }
        if self._ecp5:
            make_oddr, make_delay = (lambda **kw: Instance("ODDRX2F", **kw),
                                     lambda **kw: Instance("DELAYF", **kw))
        else:
            from rtl.simonly.ecp5_primitives import DELAYF, ODDRX2F
            make_oddr, make_delay = ODDRX2F, DELAYF
        for channel, pins in CHANNEL_PINS.items():
            move, down = self._delay_control(m, channel)
            for pin in range(pins):
                word = Signal(GEAR_RATIO, name=f"{channel}{pin}_word")
                m.d.sync += word.eq(Mux(self.i.valid, Cat(v[pin] for v in values[channel]), 0))
                q = Signal(name=f"{channel}{pin}_q")
                m.submodules[f"{channel}{pin}_oddr"] = make_oddr(
                    i_D0=word[0], i_D1=word[1], i_D2=word[2], i_D3=word[3],
                    i_SCLK=ClockSignal("sync"), i_ECLK=ClockSignal("eclk"), i_RST=0, o_Q=q)
                line = make_delay(p_DEL_MODE="USER_DEFINED", p_DEL_VALUE=0, i_A=q, i_LOADN=1,
                                  i_MOVE=move, i_DIRECTION=down,
                                  o_Z=getattr(self, channel)[pin])
                m.submodules[f"{channel}{pin}_delay"] = line
                self.delay_lines[(channel, pin)] = line
        return m

    def _delay_control(self, m: Module, channel: str) -> tuple[Signal, Signal]:
        """``MOVE`` and ``DIRECTION`` that walk the channel's delay lines to its register."""
        target = getattr(self.delay, channel)
        current = getattr(self.applied, channel)
        move = Signal(name=f"{channel}_move")
        down = Signal(name=f"{channel}_down")
        with m.If(move):
            m.d.sync += move.eq(0)  # a step per rising edge of MOVE: one step per two cycles
        with m.Elif(current != target):
            step_down = target < current
            m.d.sync += [move.eq(1), down.eq(step_down),
                         current.eq(Mux(step_down, current - 1, current + 1)[:DELAY_BITS])]
        return move, down
