"""The DRAM-backed sifting blocks side by side, for :mod:`tb.memory.cocotb_dram_sift`.

:class:`DramSiftHarness`: :class:`rtl.memory.memories.DramMemories` (the RND cache and the
record store on one LiteDRAM core, or on the port model for Icarus) with
:class:`rtl.sifting.satellite_sift.SatelliteSift` on the cache's query/answer ports and
:class:`rtl.sifting.ground_sift.GroundSift` reading its records out of the store. The satellite
and the ground are two FPGAs; they share a controller here only so that one build carries both.
"""

import math

from amaranth.lib import wiring

from models.memory.flight import UPLINK_BURST_S, FlightSizes, poisson_bound
from models.sifting.classical_link import LINK_RATE_BPS
from rtl.memory.litedram_gen import core_verilog
from rtl.memory.memories import DramMemories
from rtl.sifting.ground_sift import GroundSift
from rtl.sifting.layouts import Report
from rtl.sifting.satellite_sift import SatelliteSift
from tb.runner import run_cocotb
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


def compressed_params(sizes: FlightSizes, frame_pulses: int, frames: int, *,
                      per_frame: int, store_depth: int, seed: int = 3) -> dict:
    """Parameters of :mod:`tb.memory.cocotb_dram_sift` for a pass of ``frames`` frames of
    ``frame_pulses`` pulses, with the cache life, round trip, light time, a 50 ms uplink burst
    (from the fourth frame) and the link rate in the flight sizes' proportions to the frame
    period (time in pulses: the golden protocol runs at one pulse per second)."""
    scale = frame_pulses / sizes.frame_pulses
    f = sizes.pulse_rate_hz
    return {
        "frame_pulses": frame_pulses, "frames": frames, "per_frame": per_frame,
        "capacity": round(sizes.cache_pulses * scale),
        "round_trip": math.ceil(sizes.round_trip_pulses * scale),
        "light": round(sizes.light_time_s * f * scale),
        "burst": [4 * frame_pulses, round(UPLINK_BURST_S * f * scale)],
        "link_bps": LINK_RATE_BPS / f / scale,
        "store_depth": store_depth, "frame_records": poisson_bound(per_frame),
        "packet_bits": 48, "lanes": 4, "seed": seed, "sat_seed": seed + 1,
        "ground_seed": seed + 2,
    }


def run_dram_sift(simulator: str, params: dict, case: str = "dram_sift") -> None:
    """Run :mod:`tb.memory.cocotb_dram_sift` (Verilator: LiteDRAM on its DRAM model; Icarus:
    the port model)."""
    icarus = simulator == "icarus"
    harness = DramSiftHarness(
        capacity=params["capacity"], round_trip=params["round_trip"],
        store_depth=params["store_depth"], frame_records=params["frame_records"],
        packet_bits=params["packet_bits"], lanes=params["lanes"], port_model=icarus)
    run_cocotb(harness, "tb.memory.cocotb_dram_sift", simulator, case=case,
               extra_sources=[] if icarus else [core_verilog()], params=params)
