"""models.ground.strobe_guard: the acquisition frames counted from reset, at the cycle where
the first one ends (the deadline register starts at ``frame_cycles - 1``)."""

import numpy as np

from models.ground.strobe_guard import GuardConfig, run_guard


def test_first_acquisition_deadline_is_seen_by_a_decision_at_frame_cycles():
    """No strobe, search frames every second frame, 48-cycle frames, 32-cycle slots (decisions
    at 16, 48, 80, ...): the first deadline expires at cycle 47, so the decision at cycle 48
    is already in the search frame (slots 2 and 3 skipped), the deadline at 95 ends it, and so
    on every 48 cycles."""
    cfg = GuardConfig(frame_cycles=48, acquire_frames=2)
    res = run_guard(np.zeros(0, dtype=np.int64), 260, cal_period=32, cfg=cfg)
    assert res.skipped.tolist() == [2, 3, 5, 6, 8]
    assert not res.locked.any()


def test_edge_on_a_slot_first_cycle_is_learned():
    """The blanked window of a running slot is its cycles 1..9: an edge sampled at the slot's
    first cycle (cycle 64 of 32-cycle slots) is the strobe, and the guard locks on it."""
    res = run_guard(np.array([64, 65]), 200, cal_period=32, cfg=GuardConfig(frame_cycles=48))
    assert res.strobes.tolist() == [64]
    assert res.locked.tolist() == [False, False, False, True, True, True, True]
