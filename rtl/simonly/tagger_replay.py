"""The time tagger on replayed delay lines and frame events, simulation only.

:class:`EventReplay` presents stored frame events each in its cycle (its consumer, the time
tagger, is always ready); :class:`TimeTaggerOnLines` wires five
:class:`rtl.simonly.delay_line.DelayLineReplay` and an :class:`EventReplay` into a
:class:`rtl.ground.time_tagger.TimeTagger`, so that one test body runs the whole tagger from
analog hit times in the Amaranth simulator and in the generated Verilog alike.
"""

import itertools
from collections.abc import Sequence

from amaranth.hdl import Module, Signal
from amaranth.lib import data, memory, stream, wiring
from amaranth.lib.wiring import Out

from rtl.common.forward import forward_member
from rtl.ground.sync import FrameEvent
from rtl.ground.time_tagger import TimeTagger
from rtl.simonly.delay_line import CYCLE_BITS, DelayLineReplay


class EventReplay(wiring.Component):
    """Frame events ``(cycle, frame, flywheel)``, each valid in its cycle (from cycle 0).

    Members
    -------
    events : Out(stream.Signature(FrameEvent))
        Valid for one cycle per event; the consumer must be ready then.
    """

    def __init__(self, events: Sequence[tuple[int, int, int]]) -> None:
        if any(b[0] <= a[0] for a, b in itertools.pairwise(events)):
            raise ValueError("EventReplay: event cycles must increase")
        self._entry = data.StructLayout({"cycle": CYCLE_BITS, "event": FrameEvent})
        self._init = [{"cycle": c, "event": {"frame": k, "position": 0, "flywheel": f}}
                      for c, k, f in events]
        super().__init__({"events": Out(stream.Signature(FrameEvent))})

    def elaborate(self, platform):
        m = Module()
        depth = max(len(self._init), 1)
        m.submodules.mem = mem = memory.Memory(shape=self._entry, depth=depth, init=self._init)
        rd = mem.read_port(domain="comb")
        ptr = Signal(range(depth + 1))
        cycle = Signal(CYCLE_BITS)
        m.d.sync += cycle.eq(cycle + 1)
        m.d.comb += [rd.addr.eq(ptr), self.events.payload.eq(rd.data.event)]
        with m.If((ptr != len(self._init)) & (rd.data.cycle == cycle)):
            m.d.comb += self.events.valid.eq(1)
            m.d.sync += ptr.eq(ptr + 1)
        return m


class TimeTaggerOnLines(wiring.Component):
    """A :class:`TimeTagger` fed by replays: the tagger's members without ``codes`` and
    ``events``, same latency, throughput and stream contract."""

    def __init__(self, replays: Sequence[DelayLineReplay], events: EventReplay,
                 tagger: TimeTagger) -> None:
        self._replays, self._events, self._tagger = list(replays), events, tagger
        members = dict(tagger.signature.members)
        del members["codes"], members["events"]
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        m.submodules.tagger = tagger = self._tagger
        m.submodules.events = self._events
        for ch, replay in enumerate(self._replays):
            m.submodules[f"line{ch}"] = replay
            m.d.comb += tagger.codes[ch].eq(replay.taps)
        wiring.connect(m, self._events.events, tagger.events)
        for name in self.signature.members:
            forward_member(m, self, tagger, name)
        return m
