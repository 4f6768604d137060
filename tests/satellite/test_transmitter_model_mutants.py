"""models.transmitter: a schedule's safe pulses are counted per cause, and a schedule made
without an alarm reports no failed health test."""

import numpy as np

from models.transmitter import LaserSchedule, SafeCause


def test_safe_pulses_count_each_cause_on_its_own():
    cause = np.array([SafeCause.NONE, SafeCause.UNDERFLOW, SafeCause.ALARM, SafeCause.ALARM,
                      SafeCause.UNDERFLOW, SafeCause.ALARM], dtype=np.uint8)
    sched = LaserSchedule(cause, alarm_beat=2, rct=True)
    assert sched.safe_pulses(4) == {"underflow": 8, "alarm": 12}
    assert sched.safe_pulses(4, beats=3) == {"underflow": 4, "alarm": 4}


def test_schedule_without_alarm_failed_no_test():
    sched = LaserSchedule(np.zeros(8, dtype=np.uint8))
    assert (sched.alarm_beat, sched.rct, sched.apt) == (None, False, False)
    assert sched.safe_pulses(4) == {"underflow": 0, "alarm": 0}
