"""cocotb: both link layers with their memories in DRAM (``memory="dram"``) over the lossy link
model, at the flight proportions of ``models.memory.flight`` (``tb.memory.link_harness``): the
RND cache lives 8 frame periods (2**24 pulses against 2**21), the link latency is the light
time (1.37 periods), an uplink outage of 50 ms (15 periods) outlasts the cache, and the record
store holds the flight store's 24 frame periods of records. The scoreboards of
``tb.sifting.cocotb_link_layer`` compare every frame decision, downlink copy, counter and both
key streams with the golden endpoints. Verilator runs LiteDRAM on its DRAM model (one per
FPGA); Icarus the behavioural port model, on a shorter pass.
"""

import pytest

from tb.memory.link_harness import flight_link_params, run_dram_link
from tb.runner import SIMULATORS


@pytest.mark.cocotb
@pytest.mark.parametrize("simulator", [
    pytest.param(s, marks=pytest.mark.slow) if s == "verilator" else s for s in SIMULATORS])
def test_dram_link_layers_at_flight_proportions(simulator):
    # Verilator (slow: a LiteDRAM build, 12,000 cycles): 40 frames on LiteDRAM; Icarus: 26
    # frames on the port model, the outage and its expiry included.
    frames = 40 if simulator == "verilator" else 26
    run_dram_link(simulator, flight_link_params(frames, detections=20 * frames),
                  case="dram_link")
