"""Synthesis tops of the ground timing chain (``make synth``; SPEC 8 top name ``ground_rx``).

``ground_rx``: the sync detector on the recovered downlink bit stream and the pulse indexer +
gate on the time-tag stream, default parameters (16384-bit frames, 256-entry pending buffer).
In the terminal the detector's frame events drive the sync strobe that the time tagger stamps
(channel 4); that path runs through the TDC, outside the FPGA fabric, so the two blocks share
no fabric signal here.
"""

from collections.abc import Callable

from amaranth.hdl import Module
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from models.ground.timing import PERIOD_BITS
from rtl.ground.indexer import PulseIndexer
from rtl.ground.layouts import Tag, TimingRecord
from rtl.ground.sync import FrameEvent, SyncDetector


class GroundRx(wiring.Component):
    bits: In(stream.Signature(1))
    frames: Out(stream.Signature(FrameEvent))
    locked: Out(1)
    tags: In(stream.Signature(Tag))
    records: Out(stream.Signature(TimingRecord))
    delta: In(PERIOD_BITS)
    gate_half: In(16)

    def elaborate(self, platform):
        m = Module()
        m.submodules.sync = sync = SyncDetector()
        m.submodules.indexer = indexer = PulseIndexer()
        wiring.connect(m, wiring.flipped(self.bits), sync.bits)
        wiring.connect(m, sync.frames, wiring.flipped(self.frames))
        wiring.connect(m, wiring.flipped(self.tags), indexer.tags)
        wiring.connect(m, indexer.records, wiring.flipped(self.records))
        m.d.comb += [
            self.locked.eq(sync.locked),
            indexer.delta.eq(self.delta),
            indexer.gate_half.eq(self.gate_half),
        ]
        return m


SYNTH_TOPS: dict[str, Callable[[], wiring.Component]] = {"ground_rx": GroundRx}
