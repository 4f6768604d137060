"""Test top for the sifting co-simulation: the three sifting blocks side by side, unconnected.

The cocotb test (:mod:`tb.sifting.cocotb_sifting`) plays the lossy classical link between them
with the golden link model, per frame: ground reports out of :class:`GroundReport`, the reports of
each frame the satellite received into :class:`SatelliteSiftUnit` (RND cache with one lane, so its
head can be set to the model's head pulse by pulse), its sift entries into :class:`GroundSift`.
"""

from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In

from rtl.sifting.ground_report import GroundReport
from rtl.sifting.ground_sift import GroundSift
from rtl.sifting.satellite_sift import SatelliteSiftUnit

# Port name on the harness -> (block, port on the block).
_PORTS = {
    "det": ("report", "det"), "report": ("report", "report"), "overflow": ("report", "overflow"),
    "write": ("sat", "write"), "sat_report": ("sat", "report"), "entry": ("sat", "entry"),
    "sat_key": ("sat", "key"), "sat_detected": ("sat", "detected"),
    "sat_errors": ("sat", "errors"), "sat_dropped": ("sat", "dropped"),
    "head": ("sat", "head"),
    "record": ("gnd", "record"), "gnd_entry": ("gnd", "entry"), "gnd_key": ("gnd", "key"),
    "gnd_detected": ("gnd", "detected"), "gnd_dropped": ("gnd", "dropped"),
    "gnd_missing": ("gnd", "missing"),
}


class SiftingHarness(wiring.Component):
    def __init__(self, rows: int, packet_bits: int, ground_seed: int, fifo_depth: int) -> None:
        self._blocks = {
            "report": GroundReport(ground_seed, fifo_depth=fifo_depth),
            "sat": SatelliteSiftUnit(lanes=1, rows=rows, packet_bits=packet_bits),
            "gnd": GroundSift(packet_bits),
        }
        members = {}
        for name, (block, port) in _PORTS.items():
            member = self._blocks[block].signature.members[port]
            members[name] = member
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        for name, block in self._blocks.items():
            m.submodules[name] = block
        for name, (block, port) in _PORTS.items():
            inner = getattr(self._blocks[block], port)
            outer = getattr(self, name)
            if self.signature.members[name].is_port:
                if self.signature.members[name].flow == In:
                    m.d.comb += inner.eq(outer)
                else:
                    m.d.comb += outer.eq(inner)
            elif self.signature.members[name].flow == In:
                wiring.connect(m, wiring.flipped(outer), inner)
            else:
                wiring.connect(m, inner, wiring.flipped(outer))
        return m
