"""cocotb test: every clock made by a schedule (``run_cocotb(clocks=...)``) edges exactly where
:mod:`models.clocks` says, in Verilator and Icarus, several clocks at once.

``params["clocks"]``: port -> ``{"periods_as", "segment_cycles", "phase_as"}``;
``params["cycles"]``: rising edges recorded per clock. Python waits on each clock's edges for a
short window only (a block-level check of the generator, not a long run).
"""

import cocotb
import numpy as np
from cocotb.triggers import SimTimeoutError, with_timeout
from cocotb.utils import get_sim_time

from models.clocks import AS_PER_PS, ClockSchedule, falling_edges_ps, rising_edges_ps
from tb.params import tb_params


async def record_edges(dut, port: str, cycles: int, gap_ps: int) -> tuple[list[int], list[int]]:
    """Times of clock ``port``'s first ``cycles + 1`` rising edges and the falls between them; a
    clock that stays still for ``gap_ps`` fails the test naming it and the edge it missed."""
    signal = getattr(dut, port)
    rises, falls = [], []
    while len(rises) <= cycles:
        try:
            await with_timeout(signal.value_change, gap_ps, "ps")
        except SimTimeoutError:
            raise AssertionError(f"clock {port}: no edge within {gap_ps} ps after "
                                 f"{len(rises)} rising edges") from None
        (rises if int(signal.value) else falls).append(get_sim_time(unit="ps"))
    return rises, falls


def _gap_ps(spec: dict) -> int:
    """Longest stillness a schedule allows: its phase plus two of its longest periods."""
    return (spec["phase_as"] + 2 * max(spec["periods_as"])) // AS_PER_PS + 1


@cocotb.test()
async def clocks_follow_their_schedules(dut):
    params = tb_params()
    cycles = params["cycles"]
    tasks = {port: cocotb.start_soon(record_edges(dut, port, cycles, _gap_ps(spec)))
             for port, spec in params["clocks"].items()}
    falls_at: dict[str, list[int]] = {}
    rises_at: dict[str, list[int]] = {}
    for port, spec in params["clocks"].items():
        schedule = ClockSchedule(tuple(spec["periods_as"]), spec["segment_cycles"],
                                 spec["phase_as"])
        rises, falls = await tasks[port]
        want_rise = rising_edges_ps(schedule, cycles)
        want_fall = falling_edges_ps(schedule, cycles)
        assert np.array_equal(rises[:cycles + 1], want_rise), \
            f"{port}: first rising-edge mismatch at cycle " \
            f"{int(np.argmax(np.asarray(rises[:cycles + 1]) != want_rise))}"
        if params.get("pair"):
            # a clock pair (rtl.simonly.clock_gen.LoadedClock partner): each fall strictly
            # between its rises, on the other clock's rise or half way
            assert all(a < f < b for a, f, b in zip(want_rise[:-1], falls[:cycles],
                                                    want_rise[1:], strict=True)), port
            falls_at[port] = falls[:cycles]
            rises_at[port] = rises[:cycles + 1]
        else:
            assert np.array_equal(falls[:cycles], want_fall), f"{port}: falling edges differ"
    if params.get("pair"):
        # two event times per cycle: every fall but the first few shares its time with a rise
        times = {t for edges in (*falls_at.values(), *rises_at.values()) for t in edges}
        assert len(times) <= 2 * cycles + 8, len(times)
