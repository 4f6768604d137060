"""cocotb co-simulation of the sifting RTL over the lossy link, on Verilator and Icarus."""

import pytest

from models.constants import SAMPLE_SEED
from tb.runner import SIMULATORS, run_cocotb
from tb.sifting.harness import SiftingHarness

ROWS, PACKET_BITS, FIFO_DEPTH = 512, 24, 8
GROUND_SEED = SAMPLE_SEED


@pytest.mark.cocotb
@pytest.mark.parametrize("simulator", SIMULATORS)
def test_sifting_cosim_over_lossy_link(simulator):
    run_cocotb(
        SiftingHarness(ROWS, PACKET_BITS, GROUND_SEED, FIFO_DEPTH),
        "tb.sifting.cocotb_sifting", simulator, case="sifting_harness",
        params={
            "seed": 11, "sat_seed": 12, "ground_seed": GROUND_SEED, "rows": ROWS,
            "packet_bits": PACKET_BITS, "frame_pulses": 256, "frames": 40, "detections": 600,
            # 256 pulses per frame period = 12.8 us at this compressed pulse rate; the link
            # carries ~3 copies of a frame per period; lookups of a frame's oldest pulses expire.
            "pulse_rate_hz": 2e7, "latency_s": 15e-6, "drain_s": 2e-4, "ber": 1e-4,
            "bursts": [[100e-6, 40e-6], [300e-6, 30e-6]],
            "det_idle": 0.3, "report_stall": 0.5,
        },
    )
