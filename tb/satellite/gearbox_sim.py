"""The modulator gearbox's two clocks in the Amaranth simulator, shared by its tests."""

from collections.abc import Awaitable, Callable

from amaranth.hdl import Elaboratable
from amaranth.sim import Simulator

from models.constants import FABRIC_CLOCK_PS

PS = 1e-12  # the simulator's time unit is the second


def run_gearbox(top: Elaboratable, bench: Callable[..., Awaitable[None]]) -> None:
    """Run ``bench`` on ``top`` with the fabric clock ``sync`` and the edge clock ``eclk`` at
    twice its rate, both rising together on every fabric edge (as the PLL's outputs do)."""
    sim = Simulator(top)
    half = FABRIC_CLOCK_PS // 2 * PS
    sim.add_clock(FABRIC_CLOCK_PS * PS, phase=half, domain="sync")
    sim.add_clock(FABRIC_CLOCK_PS // 2 * PS, phase=half, domain="eclk")
    sim.add_testbench(bench)
    sim.run()
