"""Synthesis tops of the sifting blocks (``make synth``; SPEC 8 top names).

* ``satellite_sift``: the satellite's whole sifting link layer
  (:class:`rtl.sifting.link_layer.SatelliteLink`: uplink receiver, RND cache 4 lanes x 16384 rows as
  in the transmitter, satellite sifting, sift-message sender), with the cache rows in ECP5
  ``DP16KD`` primitives using their output register (``ecp5_ebr``; the simulated design has an
  ``amaranth.lib.memory.Memory`` and a fabric register there, cycle for cycle the same:
  ``tests/simonly/test_ecp5_primitives.py`` runs the primitives' model against it);
* ``ground_sift``: the ground's (:class:`rtl.sifting.link_layer.GroundLink`: reporting, uplink
  framer, record store, sift-message receiver, ground sifting).

:class:`GroundSiftTop` (reporting and sifting without the link layer) stays for its users.
"""

from collections.abc import Callable
from functools import partial

from amaranth.hdl import Module
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from rtl.sifting.ground_report import GroundReport
from rtl.sifting.ground_sift import GroundSift
from rtl.sifting.layouts import COUNTER_BITS, DetectionRecord, KeyBeat, Report, SiftEntry
from rtl.sifting.link_layer import GroundLink, SatelliteLink
from rtl.sifting.sifter import counter_ports, forward_counters


class GroundSiftTop(wiring.Component):
    """The ground FPGA's sifting: detection records to reports, reports plus entries to key.

    Latency, throughput: :class:`~rtl.sifting.ground_report.GroundReport` (five cycles, one per
    cycle) and :class:`~rtl.sifting.ground_sift.GroundSift` (one cycle, one per cycle).

    Members
    -------
    det, report, overflow
        As :class:`~rtl.sifting.ground_report.GroundReport`.
    record, entry, key and counters
        As :class:`~rtl.sifting.ground_sift.GroundSift`.
    """

    def __init__(self) -> None:
        super().__init__({
            "det": In(stream.Signature(DetectionRecord)),
            "report": Out(stream.Signature(Report)),
            "overflow": Out(COUNTER_BITS),
            "record": In(stream.Signature(Report)),
            "entry": In(stream.Signature(SiftEntry)),
            "key": Out(stream.Signature(KeyBeat)),
            **counter_ports(errors=False, missing=True),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.report = report = GroundReport()
        m.submodules.sift = sift = GroundSift()
        wiring.connect(m, wiring.flipped(self.det), report.det)
        wiring.connect(m, report.report, wiring.flipped(self.report))
        wiring.connect(m, wiring.flipped(self.record), sift.record)
        wiring.connect(m, wiring.flipped(self.entry), sift.entry)
        wiring.connect(m, sift.key, wiring.flipped(self.key))
        m.d.comb += self.overflow.eq(report.overflow)
        forward_counters(m, self, sift)
        return m


SYNTH_TOPS: dict[str, Callable[[], wiring.Component]] = {
    "satellite_sift": partial(SatelliteLink, ecp5_ebr=True),
    "ground_sift": GroundLink,
}
