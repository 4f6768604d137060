"""cocotb: the link PHY in three clocks (satellite fabric, recovered clock, ground fabric) through
every clock scenario in one run per simulator (:mod:`tb.link.cocotb_clocked`)."""

import pytest

from models.link.receiver import RxConfig
from tb.link.clock_scenarios import plan, scenarios
from tb.link.harness import clocked_loopback
from tb.runner import SIMULATORS, run_cocotb

CONFIG = {"lock_good": 16, "lock_bad": 4, "window": 16}
# received blocks per scenario; Icarus runs short windows (Python wakes on every clock edge)
BLOCKS = {"verilator": 1024, "icarus": 512}
SEED = 41


@pytest.mark.cocotb
@pytest.mark.parametrize("simulator", SIMULATORS)
def test_clocked_phy(simulator):
    blocks = BLOCKS[simulator]
    chosen = scenarios(blocks)
    clocks, _plans = plan(chosen, blocks, SEED)
    run_cocotb(
        clocked_loopback(RxConfig(**CONFIG)), "tb.link.cocotb_clocked", simulator,
        case="link_phy_clocked", clocks=clocks,
        params={"seed": SEED, "config": CONFIG, "blocks": blocks,
                "scenarios": [s.name for s in chosen], "idle": 0.3, "stall": 0.3,
                "sync_every": 97, "settle": 160},
    )
