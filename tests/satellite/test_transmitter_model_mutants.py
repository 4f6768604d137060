"""models.transmitter: safe pulses counted per cause, a schedule's defaults, and the source
faults (the beat a fault starts at, the lanes of a beat, the alarm of a stuck source)."""

import numpy as np
import pytest

from models.qrng import FAULT_STUCK, STUCK_WORD, qrng_words
from models.transmitter import (
    LaserSchedule,
    QrngFault,
    SafeCause,
    laser_schedule,
    pulse_words,
    qrng_slot_words,
)


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


def test_source_fault_starts_at_its_beat():
    """A stuck source from beat 3 (4 lanes): pulses 0..11 carry the QRNG's words, 12 on the
    stuck word."""
    fault = QrngFault(FAULT_STUCK, from_beat=3)
    words = pulse_words(7, 4, np.arange(20, dtype=np.uint64), fault)
    assert words[:12].tolist() == qrng_words(7, np.arange(12, dtype=np.uint64)).tolist()
    assert set(words[12:].tolist()) == {STUCK_WORD}


def test_slot_words_are_the_lanes_of_each_beat():
    words = qrng_slot_words(7, 4, np.array([0, 5, 6]))
    want = qrng_words(7, np.array([0, 1, 2, 3, 20, 21, 22, 23, 24, 25, 26, 27], dtype=np.uint64))
    assert words.shape == (3, 4) and words.ravel().tolist() == want.tolist()


def test_stuck_source_raises_the_alarm_after_its_fault_starts():
    """Every beat offered: the repetition-count test fails some beats after the fault, and
    from that beat on every beat is safe for the alarm."""
    sched = laser_schedule(7, 4, np.ones(400, dtype=bool), fault=QrngFault(FAULT_STUCK, 100))
    assert sched.rct and sched.alarm_beat is not None and 100 < sched.alarm_beat < 400
    assert (sched.cause[:sched.alarm_beat] == SafeCause.NONE).all()
    assert (sched.cause[sched.alarm_beat:] == SafeCause.ALARM).all()


def test_hold_must_cover_every_offered_beat():
    offered = np.ones(10, dtype=bool)
    hold = np.zeros(10, dtype=bool)
    hold[3] = True
    sched = laser_schedule(7, 4, offered, hold)
    assert np.flatnonzero(sched.cause == SafeCause.UNDERFLOW).tolist() == [3]
    with pytest.raises(ValueError, match="hold has 9 beats, offered 10"):
        laser_schedule(7, 4, offered, hold[:9])
