"""Sifting benchmarks (``make bench``): RTL throughput per fabric cycle and the golden protocol's
wall-clock speed over the lossy link."""

import pathlib
import time

import numpy as np

from models.constants import FABRIC_CLOCK_HZ
from models.sifting.classical_link import (
    LinkConfig,
    SiftConfig,
    downlink_config,
    qrng_symbols,
    run_sifting,
)
from tb.sifting.stimulus import detections
from tb.sifting.throughput import (
    ground_report_throughput,
    ground_sift_throughput,
    satellite_sift_throughput,
)

RATE = 1e6  # detections/s, the design's worst case with margin (docs/sifting.md)
SECONDS = 0.5


def _model_entry() -> list[dict]:
    pulses = int(SECONDS * 625e6)
    pulse, basis, bit = detections(np.random.default_rng(1), int(RATE * SECONDS), pulses)
    faults = {"loss": 0.3, "burst_rate_hz": 2.0, "burst_s": 0.05, "ber": 1e-6,
              "duplicate": 0.05, "latency_s": 3e-3}
    start = time.perf_counter()
    run = run_sifting(pulse, basis, bit, qrng_symbols(7), sift=SiftConfig(drain_s=0.2),
                      uplink=LinkConfig(**faults), downlink=downlink_config(**faults),
                      pulses=pulses)
    wall = time.perf_counter() - start
    mismatches = sum(not a.same_as(b) for a, b in zip(run.satellite_packets,
                                                      run.ground_packets, strict=False))
    return [
        {"name": "sifting_model_lossy_link", "value": len(pulse) / wall, "unit": "detections/s",
         "detections": len(pulse), "wall_s": wall, "loss": 0.3, "agreed_packets": run.agreed,
         "mismatched_packets": mismatches, "missing_frames": run.missing_frames},
        {"name": "sifting_uplink_sent_copies_per_frame", "value": run.uplink.sent / run.frames,
         "unit": "copies", "detection_rate": RATE},
    ]


def _store_entry() -> list[dict]:
    """The ground record store's peak occupancy at 1 M detections/s (model, store unlimited):
    lossless, and with a 100 ms uplink outage (a cloud) that the satellite resolves by expiry."""
    pulses = int(SECONDS * 625e6)
    pulse, basis, bit = detections(np.random.default_rng(2), int(RATE * SECONDS), pulses)
    out = []
    for name, bursts in (("lossless", ()), ("uplink_outage_100ms", ((0.1, 0.1),))):
        run = run_sifting(pulse, basis, bit, qrng_symbols(7),
                          sift=SiftConfig(drain_s=0.2, store_depth=1 << 40),
                          uplink=LinkConfig(latency_s=3e-3, bursts=bursts),
                          downlink=downlink_config(latency_s=3e-3), pulses=pulses)
        out.append({"name": f"sifting_ground_store_peak_{name}", "value": run.store_peak,
                    "unit": "records", "detection_rate": RATE, "latency_s": 3e-3,
                    "cache_pulses": SiftConfig().cache_pulses,
                    "expired_frames": run.timeout_frames, "missing_frames": run.missing_frames})
    return out


def run(out_dir: pathlib.Path) -> list[dict]:
    entries = _model_entry() + _store_entry()
    for name, measure in (("sifting_rtl_ground_report", ground_report_throughput),
                          ("sifting_rtl_satellite_sift", satellite_sift_throughput),
                          ("sifting_rtl_ground_sift", ground_sift_throughput)):
        t = measure(1000)
        entries.append({"name": name, "value": t.per_s, "unit": "detections/s",
                        "cycles": t.cycles, "items": t.items, "fabric_mhz": FABRIC_CLOCK_HZ / 1e6})
    return entries
