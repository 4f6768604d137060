"""Test tops for the sifting co-simulations: blocks side by side, their ports flattened to the top.

:class:`SiftingHarness`: the three sifting blocks, unconnected. The cocotb test
(:mod:`tb.sifting.cocotb_sifting`) plays the lossy classical link between them with the golden
link model, per frame: ground reports out of :class:`GroundReport`, the reports of each frame the
satellite received into :class:`SatelliteSiftUnit` (RND cache with one lane, so its head can be
set to the model's head pulse by pulse), its sift entries into :class:`GroundSift`.

:class:`LinkHarness`: the two FPGAs' link layers (:mod:`rtl.sifting.link_layer`), every port of the
satellite's prefixed ``sat_``, of the ground's ``gnd_``; the cocotb test
(:mod:`tb.sifting.cocotb_link_layer`) carries their message words over the lossy link model.
"""

from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In

from models.constants import SAMPLE_SEED
from rtl.sifting.ground_report import GroundReport
from rtl.sifting.ground_sift import GroundSift
from rtl.sifting.link_layer import GroundLink, SatelliteLink
from rtl.sifting.satellite_sift import SatelliteSiftUnit


class FlatHarness(wiring.Component):
    """``ports``: top port name -> (block name, port on the block)."""

    def __init__(self, blocks: dict[str, wiring.Component],
                 ports: dict[str, tuple[str, str]]) -> None:
        self._blocks = blocks
        self._ports = ports
        super().__init__({name: blocks[block].signature.members[port]
                          for name, (block, port) in ports.items()})

    def elaborate(self, platform):
        m = Module()
        for name, block in self._blocks.items():
            m.submodules[name] = block
        for name, (block, port) in self._ports.items():
            inner = getattr(self._blocks[block], port)
            outer = getattr(self, name)
            member = self.signature.members[name]
            if member.is_port:
                m.d.comb += inner.eq(outer) if member.flow == In else outer.eq(inner)
            elif member.flow == In:
                wiring.connect(m, wiring.flipped(outer), inner)
            else:
                wiring.connect(m, inner, wiring.flipped(outer))
        return m


# Port name on the harness -> (block, port on the block).
_SIFTING_PORTS = {
    "det": ("report", "det"), "report": ("report", "report"),
    "overflow": ("report", "overflow"),
    "write": ("sat", "write"), "sat_report": ("sat", "report"), "entry": ("sat", "entry"),
    "sat_key": ("sat", "key"), "sat_detected": ("sat", "detected"),
    "sat_errors": ("sat", "errors"), "sat_dropped": ("sat", "dropped"),
    "head": ("sat", "head"),
    "record": ("gnd", "record"), "gnd_entry": ("gnd", "entry"), "gnd_key": ("gnd", "key"),
    "gnd_detected": ("gnd", "detected"), "gnd_dropped": ("gnd", "dropped"),
    "gnd_missing": ("gnd", "missing"),
}


class SiftingHarness(FlatHarness):
    def __init__(self, rows: int, packet_bits: int, ground_seed: int, fifo_depth: int) -> None:
        super().__init__({
            "report": GroundReport(ground_seed, fifo_depth=fifo_depth),
            "sat": SatelliteSiftUnit(lanes=1, rows=rows, packet_bits=packet_bits),
            "gnd": GroundSift(packet_bits),
        }, _SIFTING_PORTS)


class LinkHarness(FlatHarness):
    def __init__(self, sat: SatelliteLink, gnd: GroundLink) -> None:
        blocks = {"sat": sat, "gnd": gnd}
        super().__init__(blocks, {f"{name}_{port}": (name, port)
                                  for name, block in blocks.items()
                                  for port in block.signature.members})


# The 40-frame pass of the link-layer co-simulations (tests/sifting/test_cocotb_link_layer.py,
# tests/link/test_cocotb_link_layer.py): 256 pulses per frame, one pulse per cycle, an RND
# cache of 8 frame periods, a 128-record ground store; a burst both ways and an uplink outage of
# 12 frame periods (cycles), longer than the cache life.
PASS_FRAME_PULSES, PASS_ROWS, PASS_PACKET_BITS, PASS_WINDOW = 256, 2048, 64, 16
PASS_PARAMS = {
    "sat_seed": 22, "ground_seed": SAMPLE_SEED, "rows": PASS_ROWS,
    "packet_bits": PASS_PACKET_BITS, "window": PASS_WINDOW, "frame_pulses": PASS_FRAME_PULSES,
    "frames": 40, "detections": 800, "store_overflows": True, "latency_cycles": 150,
    "burst": [2000, 700], "up_bursts": [[4000, 3072]], "cycles": 40000,
}


def pass_link_layers() -> tuple[SatelliteLink, GroundLink]:
    """Both link layers sized for the pass of :data:`PASS_PARAMS`."""
    return (
        SatelliteLink(frame_pulses=PASS_FRAME_PULSES, lanes=1, rows=PASS_ROWS,
                      packet_bits=PASS_PACKET_BITS, rx_depth=64, tx_depth=512, window=16),
        GroundLink(frame_pulses=PASS_FRAME_PULSES, ground_seed=SAMPLE_SEED,
                   packet_bits=PASS_PACKET_BITS, frame_depth=128, store_depth=128,
                   window=PASS_WINDOW, slot_words=8, close_lag=32),
    )
