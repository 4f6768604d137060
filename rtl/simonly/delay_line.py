"""Behavioural TDC delay line, simulation only: the sampled code of each cycle from hit times.

:class:`DelayLineReplay` computes, when constructed, the codes that :class:`models.ground.tdc.
DelayLine` samples for the given input pulses (rise times and widths in ps of the ground clock,
cycle ``c``'s sampling edge at ``c * FABRIC_CLOCK_PS``), run-length coded
(:meth:`models.ground.tdc.DelayLine.sparse_codes`: only the cycles around input transitions
cost anything), and keeps each change of code in a memory of (cycle, code) entries; in the run
it presents each code from its cycle until the next entry's. It elaborates to ordinary logic (a
memory, a cycle counter, a code register), so the same model feeds the Amaranth simulator and
the generated Verilog.
"""

import numpy as np
from amaranth.hdl import Module, Signal
from amaranth.lib import data, memory, wiring
from amaranth.lib.wiring import Out

from models.ground.tdc import DelayLine
from rtl.common.forward import forward_member
from rtl.ground.tdc import TdcChannel

CYCLE_BITS = 32


def code_int(code: np.ndarray) -> int:
    """A sampled code (bool ``[taps]``, tap 0 first) as the integer a ``taps``-bit signal holds."""
    return int.from_bytes(np.packbits(np.asarray(code, dtype=bool), bitorder="little").tobytes(),
                          "little")


class DelayLineReplay(wiring.Component):
    """The sampled code of a behavioural delay line, one per cycle from cycle 0.

    Members
    -------
    taps : Out(line.taps)
        The code sampled at this cycle's clock edge (tap 0 nearest the input); the last code
        after the last stored cycle.
    done : Out(1)
        Every stored code has been presented.
    """

    def __init__(self, line: DelayLine, rises: np.ndarray, widths: np.ndarray,
                 cycles: int) -> None:
        self.cycles = cycles
        self.rows, self.codes = line.sparse_codes(rises, widths, cycles)
        self._entry = data.StructLayout({"cycle": CYCLE_BITS, "code": line.taps})
        prev = np.vstack([np.zeros((1, line.taps), dtype=bool), self.codes[:-1]])
        change = np.flatnonzero((self.codes != prev).any(axis=1))
        self._init = [{"cycle": int(self.rows[i]), "code": code_int(self.codes[i])}
                      for i in change]
        super().__init__({"taps": Out(line.taps), "done": Out(1)})

    def elaborate(self, platform):
        m = Module()
        depth = max(len(self._init), 1)
        m.submodules.mem = mem = memory.Memory(shape=self._entry, depth=depth,
                                               init=self._init)
        rd = mem.read_port(domain="comb")
        ptr = Signal(range(depth + 1))
        cycle = Signal(CYCLE_BITS)
        held = Signal.like(self.taps)
        m.d.sync += cycle.eq(cycle + 1)
        m.d.comb += [rd.addr.eq(ptr), self.done.eq(ptr == len(self._init)),
                     self.taps.eq(held)]
        with m.If(~self.done & (rd.data.cycle == cycle)):
            m.d.comb += self.taps.eq(rd.data.code)
            m.d.sync += [held.eq(rd.data.code), ptr.eq(ptr + 1)]
        return m


class TdcOnLine(wiring.Component):
    """A :class:`rtl.ground.tdc.TdcChannel` fed by a :class:`DelayLineReplay`: the channel's
    members without ``taps``, same latency, throughput and stream contract.

    Members
    -------
    hits : Out(stream.Signature(RawHit))
        The channel's raw hits.
    dead_cycles, stuck_cycles, clear : In
        The channel's configuration.
    coverage_error, stuck, lost_dead, lost_pileup, lost_overflow, coverage_errors,
    stuck_events, lost_calibration : Out
        The channel's flags and counters.
    """

    def __init__(self, replay: DelayLineReplay, channel: TdcChannel) -> None:
        self._replay = replay
        self._channel = channel
        members = dict(channel.signature.members)
        del members["taps"]
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        m.submodules.replay = replay = self._replay
        m.submodules.channel = channel = self._channel
        m.d.comb += channel.taps.eq(replay.taps)
        for name in self.signature.members:
            forward_member(m, self, channel, name)
        return m
