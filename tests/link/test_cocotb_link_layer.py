"""cocotb: both link layers joined by the link PHY in both directions, Verilator and Icarus
(:mod:`tb.link.cocotb_link_layer`): the pass of ``tests/sifting/test_cocotb_link_layer.py`` with
the line bits, not message copies, going through the channel."""

import pytest

from models.link.receiver import RxConfig
from tb.link.harness import PhyLinkHarness
from tb.runner import SIMULATORS, run_cocotb
from tb.sifting.harness import PASS_PARAMS, pass_link_layers

CONFIG = {"lock_good": 16, "lock_bad": 4, "window": 16}


@pytest.mark.cocotb
@pytest.mark.slow
@pytest.mark.parametrize("simulator", SIMULATORS)
def test_link_layers_over_the_phy(simulator):
    run_cocotb(
        PhyLinkHarness(*pass_link_layers(), RxConfig(**CONFIG)), "tb.link.cocotb_link_layer",
        simulator, case="link_phy_link_layer",
        params={
            **PASS_PARAMS, "seed": 41, "config": CONFIG,
            # One block per 2 cycles each way (a frame period of 256 cycles carries 128 blocks);
            # the bursts of PASS_PARAMS and a slip each way, in cycles of the line.
            "line_every": 2, "sync_every": 256, "ber": 1e-4,
            "slips": {"up": [9000, 1], "down": [7000, -1]},
        },
    )
