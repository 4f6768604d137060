r"""Laser timebase (SPEC 2, 3): the pulse index advances with the laser trigger, every cycle.

Overview
--------
A real terminal's laser fires every 1.6 ns whatever the logic does, so the pulse index is the
laser's own count: after a start-up of ``start_delay`` cycles the timebase sends one beat of
``lanes`` pulses every cycle, pulse ``lanes * b`` in its ``b``-th beat, with no ready to wait
for. The beat it sends is the mapper's beat of that cycle, or the **safe symbol** (laser off,
:data:`models.symbols.SAFE_SYMBOL`) on all lanes when there is none:

* ``alarm_seen`` (the health alarm, one register later): cause *alarm*; sticky like the alarm;
* else no mapper beat this cycle (QRNG underflow), or ``hold`` (the symbol path did not
  deliver it in time: the beat is taken and dropped): cause *underflow*.

``safe`` counts the safe pulses by cause. The RND cache stores the safe symbol like any other
(intensity code 3 = OFF), which is how sifting learns to drop those pulses
(``docs/satellite.md``).

The QRNG beat offered in cycle ``c`` after reset reaches the timebase ``start_delay`` cycles
later (the intake and the mapper, one register each, are always ready because the timebase is),
so it is sent as beat ``c``: pulse index and QRNG word stay in step (:mod:`models.transmitter`),
and the alarm register makes a beat whose word fails the health tests the first alarm-safe one.

Latency, throughput
-------------------
One register stage; ``i.ready`` is always 1 (a held beat is dropped, never waited for);
``o`` is always ready and valid every cycle from ``start_delay + 1`` cycles after reset::

    clk      _/‾\_/‾\_/‾\_/‾\_/‾\_/‾\_
    i.valid  ‾‾‾‾‾‾‾‾\___/‾‾‾‾‾‾‾‾‾‾‾  (mapper beats A B - C D)
    hold     ________________/‾‾‾\___
    o.pulse        0   4   8   12  16
    o.symbol       A   B  safe  C safe
"""

from amaranth.hdl import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from models.constants import LANES
from models.symbols import SAFE_SYMBOL
from models.transmitter import PIPELINE_CYCLES
from rtl.satellite.layouts import Drive, SafeCounts, mapped_beat, symbol_beat


class LaserTimebase(wiring.Component):
    """One beat of ``lanes`` pulses per cycle, the mapper's or the safe symbol's.

    Latency one cycle; ``i`` always ready; ``o`` always ready, valid every cycle from
    ``start_delay + 1`` cycles after reset.

    Members
    -------
    i : In(stream.Signature(mapped_beat(lanes)))
        Mapped beats (always taken).
    hold : In(1)
        The symbol path misses this cycle: the beat, if any, is dropped (test hook; 0 in use).
    alarm : In(1)
        The health intake's sticky alarm.
    safe_drive : In(Drive)
        Drive codes of the safe symbol.
    o : Out(stream.Signature(symbol_beat(lanes), always_ready=True))
        Fired beats with their pulse index, to the modulators and the RND cache.
    safe : Out(SafeCounts)
        Pulses sent with the safe symbol, by cause.
    fired : Out(64)
        Pulses sent, the beat on ``o`` included (the count ``safe`` is a part of).
    """

    def __init__(self, lanes: int = LANES, start_delay: int = PIPELINE_CYCLES) -> None:
        self._lanes = lanes
        self._start_delay = start_delay
        super().__init__({
            "i": In(stream.Signature(mapped_beat(lanes))),
            "hold": In(1),
            "alarm": In(1),
            "safe_drive": In(Drive),
            "o": Out(stream.Signature(symbol_beat(lanes), always_ready=True)),
            "safe": Out(SafeCounts),
            "fired": Out(64),
        })

    def elaborate(self, platform):
        m = Module()
        lanes = self._lanes
        wait = Signal(range(self._start_delay + 1), init=self._start_delay)
        running = wait == 0
        with m.If(~running):
            m.d.sync += wait.eq(wait - 1)
        # The alarm register is set in the cycle after the failing beat's intake; one more
        # register puts its first effect on that beat's own slot.
        alarm_seen = Signal()
        m.d.sync += alarm_seen.eq(self.alarm)
        m.d.comb += self.i.ready.eq(1)

        pulse = self.fired  # the next beat's first pulse
        real = Signal()
        m.d.comb += real.eq(self.i.valid & ~self.hold & ~alarm_seen)
        out = self.o.payload
        with m.If(running):
            m.d.sync += [self.o.valid.eq(1), out.pulse.eq(pulse), pulse.eq(pulse + lanes)]
            with m.If(real):
                m.d.sync += [out.symbol.eq(self.i.payload.symbol),
                             out.drive.eq(self.i.payload.drive)]
            with m.Else():
                m.d.sync += [out.symbol[lane].as_value().eq(SAFE_SYMBOL) for lane in range(lanes)]
                m.d.sync += [out.drive[lane].eq(self.safe_drive) for lane in range(lanes)]
                with m.If(alarm_seen):
                    m.d.sync += self.safe.alarm.eq(self.safe.alarm + lanes)
                with m.Else():
                    m.d.sync += self.safe.underflow.eq(self.safe.underflow + lanes)
        return m
