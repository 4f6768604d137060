"""The e2e testbench's clock arithmetic (:class:`tb.e2e.clocks.TbClock`) against the clock
model (:mod:`models.clocks`) the simulator's generators follow, and the clock plan of a
scenario (:mod:`sim.e2e_clocks`)."""

import numpy as np
import pytest

from models.clocks import ClockSchedule, constant_clock, falling_edges_ps, rising_edges_ps
from sim.e2e_clocks import dark_blocks, oscillators, schedule_spec
from sim.e2e_scenario import SCENARIO_DIR, load_scenario
from tb.e2e.clocks import TbClock

SCHEDULES = {
    "plus_1ppm": constant_clock(6400, 1.0),
    "minus_2ppm_phase": constant_clock(6400, -2.0, phase_ps=1920),
    "recovered": ClockSchedule((204_800_000_007, 204_799_000_001, 204_810_000_003), 16,
                               123_456_789),
}


@pytest.mark.parametrize("name", SCHEDULES)
def test_edges_and_cycle_counts_follow_the_model(name):
    schedule = SCHEDULES[name]
    clock = TbClock(schedule_spec(schedule))
    rise, fall = rising_edges_ps(schedule, 100), falling_edges_ps(schedule, 100)
    assert np.array_equal(clock.rise_ps(np.arange(101)), rise)
    assert [clock.fall_ps(k) for k in range(100)] == fall.tolist()
    times = np.array([0, rise[0], rise[0] + 1, rise[5] - 1, rise[5], rise[50] + 3, rise[99] + 5])
    assert np.array_equal(clock.edges_before(times), np.searchsorted(rise, times, side="left"))


def test_scenario_oscillators_and_darkness():
    plus = load_scenario(SCENARIO_DIR / "clocks-plus.toml")
    assert oscillators(plus) == {"sat": 1.0, "sync": -1.0}
    # a burst over bits 100..399 darkens the blocks holding any of them
    light = dark_blocks(20, [[100, 300]])
    assert np.flatnonzero(~light).tolist() == list(range(2, 12))
