"""The DRAM-backed sifting blocks side by side, for :mod:`tb.memory.cocotb_dram_sift`.

:class:`DramSiftHarness`: :class:`rtl.memory.memories.DramMemories` (the RND cache and the
record store on one LiteDRAM core, or on the port model for Icarus) with
:class:`rtl.sifting.satellite_sift.SatelliteSift` on the cache's query/answer ports and
:class:`rtl.sifting.ground_sift.GroundSift` reading its records out of the store. The satellite
and the ground are two FPGAs; they share a controller here only so that one build carries both.
"""

from amaranth.lib import wiring

from rtl.memory.memories import DramMemories
from rtl.sifting.ground_sift import GroundSift
from rtl.sifting.layouts import Report
from rtl.sifting.satellite_sift import SatelliteSift
from tb.sifting.harness import FlatHarness

# Port name on the harness -> (block, port on the block).
_PORTS = {
    "write": ("mem", "write"), "head": ("mem", "head"),
    "expired_count": ("mem", "expired_count"), "pending_count": ("mem", "pending_count"),
    "write_overflow": ("mem", "write_overflow"), "refresh": ("mem", "refresh"),
    "report": ("sat", "report"), "entry": ("sat", "entry"), "sat_key": ("sat", "key"),
    "sat_detected": ("sat", "detected"), "sat_errors": ("sat", "errors"),
    "sat_dropped": ("sat", "dropped"),
    "record": ("mem", "w_stream"), "level": ("mem", "level"),
    "gnd_entry": ("gnd", "entry"), "gnd_key": ("gnd", "key"),
    "gnd_detected": ("gnd", "detected"), "gnd_dropped": ("gnd", "dropped"),
    "gnd_missing": ("gnd", "missing"),
}


class DramSiftHarness(FlatHarness):
    """Cache of ``capacity`` pulses (refused below ``round_trip``), store of ``store_depth``
    records (refused below ``frame_records``), the two sifting blocks on them."""

    def __init__(self, *, capacity: int, round_trip: int, store_depth: int, frame_records: int,
                 packet_bits: int, lanes: int, port_model: bool) -> None:
        self.mem = DramMemories(capacity=capacity, round_trip=round_trip,
                                store_width=Report.size, store_depth=store_depth,
                                frame_records=frame_records, port_model=port_model, lanes=lanes)
        self.sat, self.gnd = SatelliteSift(packet_bits), GroundSift(packet_bits)
        super().__init__({"mem": self.mem, "sat": self.sat, "gnd": self.gnd}, _PORTS)

    def elaborate(self, platform):
        m = super().elaborate(platform)
        wiring.connect(m, self.sat.query, self.mem.query)
        wiring.connect(m, self.mem.answer, self.sat.answer)
        # The store keeps raw words; the ground sifting reads them as reports.
        m.d.comb += [
            self.gnd.record.valid.eq(self.mem.r_stream.valid),
            self.gnd.record.payload.eq(self.mem.r_stream.payload),
            self.mem.r_stream.ready.eq(self.gnd.record.ready),
        ]
        return m
