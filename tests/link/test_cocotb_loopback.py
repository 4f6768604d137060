"""cocotb: the link PHY loopback (transmitter, bit channel, receiver) on Verilator and Icarus,
every receiver output compared with the golden model (:mod:`tb.link.cocotb_loopback`)."""

import pytest

from models.link.line_code import BLOCK_BITS
from models.link.receiver import RxConfig
from tb.link.harness import phy_loopback
from tb.runner import SIMULATORS, run_cocotb

CONFIG = {"lock_good": 16, "lock_bad": 4, "window": 16}
# Icarus runs a short window (about 15 k cycles/s with Python every cycle).
CYCLES = {"verilator": 6000, "icarus": 1500}


@pytest.mark.cocotb
@pytest.mark.parametrize("simulator", SIMULATORS)
def test_phy_loopback(simulator):
    cycles = CYCLES[simulator]
    run_cocotb(
        phy_loopback(RxConfig(**CONFIG)), "tb.link.cocotb_loopback", simulator,
        case="link_phy_loopback",
        params={
            "seed": 31, "config": CONFIG, "cycles": cycles, "messages": cycles // 6,
            "idle": 0.3, "rx_idle": 0.1, "stall": 0.3, "sync_every": 97,
            "ber": 2e-5, "burst_rate": 2e-6, "burst_bits": 300, "slip_rate": 5e-6,
            # one burst of 40 blocks (longer than the lock-loss limit) and a slip each way
            "bursts": [[cycles * BLOCK_BITS // 4, 40 * BLOCK_BITS]],
            "slips": [[cycles * BLOCK_BITS // 2, 1], [cycles * BLOCK_BITS * 3 // 4, -1]],
            "min_whole": cycles // 40,
        },
    )
