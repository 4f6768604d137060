"""Both FPGAs' link layers with their memories in DRAM, for :mod:`tb.sifting.cocotb_link_layer`.

:class:`DramLinkHarness` is :class:`tb.sifting.harness.LinkHarness` with
``SatelliteLink(memory="dram")`` and ``GroundLink(memory="dram")``: each FPGA's DRAM port on a
DRAM of its own (the LiteDRAM core on its DRAM model, one native port; for Icarus, which cannot
run LiteDRAM's Verilog, :class:`rtl.simonly.dram_port_model.DramPortModel`). Every other port of
the two link layers is on the harness as in ``LinkHarness``, so the same cocotb test and
scoreboards run on it. :func:`flight_link_params` sizes the pass with the flight proportions of
:mod:`models.memory.flight` (cache life, round trip, light time, uplink outage, store against
the records of a frame period), in frames of :data:`~tb.sifting.harness.PASS_FRAME_PULSES`.
"""

import math

from amaranth.lib import wiring

from models.memory.flight import UPLINK_BURST_S, flight_pass_sizes, poisson_bound
from rtl.memory.litedram import LiteDram
from rtl.memory.litedram_gen import CoreConfig, core_address_bits, core_verilog
from rtl.sifting.link_layer import GroundLink, SatelliteLink
from tb.runner import run_cocotb
from tb.sifting.harness import (
    PASS_FRAME_PULSES,
    PASS_PACKET_BITS,
    PASS_PARAMS,
    PASS_WINDOW,
    FlatHarness,
)

#: One native port per FPGA: the simulated MT41K64M16 (``rtl.memory.litedram_gen``).
CORE = CoreConfig(ports=1)
ADDR_BITS = core_address_bits(CORE)


def flight_link_params(frames: int = 40, detections: int = 800) -> dict:
    """:data:`~tb.sifting.harness.PASS_PARAMS` at the flight proportions: a frame period of
    :data:`PASS_FRAME_PULSES` cycles stands for the flight's 2**21 pulses; the cache
    (``rows``, one lane), the round trip, the link latency (light time) and a 50 ms uplink
    outage scale with it; the store holds the flight store's multiple of a frame period's
    records (so it never fills: ``store_overflows`` false)."""
    sizes = flight_pass_sizes()
    scale = PASS_FRAME_PULSES / sizes.frame_pulses
    frame_records = poisson_bound(detections / frames)
    return {
        **PASS_PARAMS, "frames": frames, "detections": detections, "sat_live": True,
        "rows": round(sizes.cache_pulses * scale),
        "round_trip": math.ceil(sizes.round_trip_pulses * scale),
        "latency_cycles": round(sizes.light_time_s * sizes.pulse_rate_hz * scale),
        "up_bursts": [[16 * PASS_FRAME_PULSES,
                       round(UPLINK_BURST_S * sizes.pulse_rate_hz * scale)]],
        "store_depth": math.ceil(sizes.store_records / sizes.frame_records * frame_records),
        "frame_records": frame_records, "store_overflows": False,
        "seed": 23, "loss": 0.3, "ber": 2e-4, "duplicate": 0.1,
    }


class DramLinkHarness(FlatHarness):
    """The two link layers on DRAM (module docstring); ``port_model`` for Icarus."""

    def __init__(self, params: dict, *, port_model: bool) -> None:
        p = params
        sat = SatelliteLink(frame_pulses=PASS_FRAME_PULSES, lanes=1,
                            packet_bits=PASS_PACKET_BITS, rx_depth=64, tx_depth=512,
                            window=PASS_WINDOW, memory="dram", cache_pulses=p["rows"],
                            round_trip=p["round_trip"], addr_bits=ADDR_BITS)
        gnd = GroundLink(frame_pulses=PASS_FRAME_PULSES, ground_seed=p["ground_seed"],
                         packet_bits=PASS_PACKET_BITS, frame_depth=128,
                         store_depth=p["store_depth"], window=PASS_WINDOW, slot_words=8,
                         close_lag=32, memory="dram", frame_records=p["frame_records"],
                         addr_bits=ADDR_BITS)
        if port_model:
            # Simulation only (Icarus): see rtl.simonly.dram_port_model.
            from rtl.simonly.dram_port_model import DramPortModel

            def dram(words: int) -> wiring.Component:
                return DramPortModel(ADDR_BITS, 1, words=1 << (words - 1).bit_length())
        else:
            def dram(words: int) -> wiring.Component:
                return LiteDram(CORE)
        blocks = {"sat": sat, "gnd": gnd, "sat_dram": dram(p["rows"] // 32),
                  "gnd_dram": dram(p["store_depth"])}
        super().__init__(blocks, {f"{name}_{port}": (name, port)
                                  for name in ("sat", "gnd")
                                  for port in blocks[name].signature.members if port != "dram"})

    def elaborate(self, platform):
        m = super().elaborate(platform)
        for side in ("sat", "gnd"):
            wiring.connect(m, self._blocks[side].dram, self._blocks[f"{side}_dram"].port0)
        return m


def run_dram_link(simulator: str, params: dict, case: str = "dram_link") -> None:
    """:mod:`tb.sifting.cocotb_link_layer` on :class:`DramLinkHarness` (Verilator: LiteDRAM on
    its DRAM model; Icarus: the port model)."""
    icarus = simulator == "icarus"
    run_cocotb(DramLinkHarness(params, port_model=icarus), "tb.sifting.cocotb_link_layer",
               simulator, case=case, extra_sources=[] if icarus else [core_verilog(CORE)],
               params=params)
