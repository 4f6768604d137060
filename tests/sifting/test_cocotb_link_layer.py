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

from tb.runner import SIMULATORS, run_cocotb
from tb.sifting.harness import PASS_PARAMS, LinkHarness, pass_link_layers


@pytest.mark.cocotb
@pytest.mark.parametrize("simulator", SIMULATORS)
def test_link_layers_over_lossy_link(simulator):
    run_cocotb(
        LinkHarness(*pass_link_layers()), "tb.sifting.cocotb_link_layer", simulator,
        case="sifting_link",
        params={
            **PASS_PARAMS, "seed": 21, "sat_live": True,
            # One pulse per cycle: a frame period is 256 cycles, an uplink copy of ~14 words
            # takes 28 (one word per 2 cycles): ~8 copies per period.
            "loss": 0.3, "ber": 2e-4, "duplicate": 0.1,
        },
    )
