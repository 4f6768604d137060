"""models.clocks: a schedule's period per cycle, segment by segment, the last held on."""

import numpy as np

from models.clocks import AS_PER_PS, ClockSchedule


def test_period_of_cycle_follows_the_segments_and_holds_the_last():
    a, b, c = (p * AS_PER_PS for p in (6400, 6401, 6399))
    sched = ClockSchedule((a, b, c), segment_cycles=10, phase_as=0)
    cycles = np.array([0, 9, 10, 19, 20, 29, 30, 10_000])
    assert sched.period_of_cycle(cycles).tolist() == [a, a, b, b, c, c, c, c]
