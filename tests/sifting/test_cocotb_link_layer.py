"""cocotb: the satellite and ground link layers over the lossy link model, Verilator and Icarus.

One pass covers the link faults and an uplink outage longer than the cache life: the satellite
transmits one pulse per cycle, its RND cache lives 8 frame periods, and an uplink outage of 12
frame periods (no uplink copy arrives) makes the satellite declare the frames missing on its own
clock; the ground's 128-record store overflows meanwhile (reports dropped before framing,
counted). Without the expiry rule this pass would deadlock: the store fills with the lost frames'
records, the framer's open frame waits for it, and no later frame reaches the satellite to reveal
the gap.
"""

import pytest

from models.constants import SAMPLE_SEED
from rtl.sifting.link_layer import GroundLink, SatelliteLink
from tb.runner import SIMULATORS, run_cocotb
from tb.sifting.harness import LinkHarness

P, ROWS, PACKET_BITS, WINDOW = 256, 2048, 64, 16
GROUND_SEED = SAMPLE_SEED


@pytest.mark.cocotb
@pytest.mark.parametrize("simulator", SIMULATORS)
def test_link_layers_over_lossy_link(simulator):
    harness = LinkHarness(
        SatelliteLink(frame_pulses=P, lanes=1, rows=ROWS, packet_bits=PACKET_BITS, rx_depth=64,
                      tx_depth=512, window=16),
        GroundLink(frame_pulses=P, ground_seed=GROUND_SEED, packet_bits=PACKET_BITS,
                   frame_depth=128, store_depth=128, window=WINDOW, slot_words=8, close_lag=32),
    )
    run_cocotb(
        harness, "tb.sifting.cocotb_link_layer", simulator, case="sifting_link",
        params={
            "seed": 21, "sat_seed": 22, "ground_seed": GROUND_SEED, "rows": ROWS,
            "packet_bits": PACKET_BITS, "window": WINDOW, "frame_pulses": P, "frames": 40,
            "detections": 800, "sat_live": True, "store_overflows": True,
            # One pulse per cycle: a frame period is 256 cycles, an uplink copy of ~14 words
            # takes 28 (one word per 2 cycles): ~8 copies per period.
            "loss": 0.3, "ber": 2e-4, "duplicate": 0.1, "latency_cycles": 150,
            "burst": [2000, 700], "up_bursts": [[4000, 3072]], "cycles": 40000,
        },
    )
