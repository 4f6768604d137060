"""The clock-recovery model (:mod:`models.link.cdr`) and its recovered-clock schedule at their
edges: the relative rate exactly at the tracking range (94 ppm for the default loop on a 1 ppm
grid), one ppm inside and outside, both ways; the lock pin after exactly ``lock_blocks`` blocks
with ``|e| < lock_ui`` (a phase error exactly ``lock_ui`` does not count, as one just below does
and one just above never does); the schedule's segments when the run is one block short of,
exactly, and one block past a whole number of segments."""

import numpy as np
import pytest

from models.link import cdr

#: The largest |rate| on a 1 ppm grid that the default loop locks and holds both ways.
TRACKING_PPM = 94


@pytest.mark.parametrize("ppm", [TRACKING_PPM - 1, TRACKING_PPM, TRACKING_PPM + 1])
def test_holds_lock_up_to_and_at_the_tracking_range_not_one_ppm_past(ppm):
    holds = ppm <= TRACKING_PPM
    assert cdr.holds_lock(ppm * 1e-6) is holds
    assert cdr.holds_lock(-ppm * 1e-6) is holds


@pytest.mark.parametrize("lock_blocks", [1, 2, 64])
def test_lock_pin_rises_on_exactly_the_lock_blocks_th_block_in_range(lock_blocks):
    config = cdr.CdrConfig(lock_blocks=lock_blocks)
    rec = cdr.recover(np.zeros(100), 1.0, config)  # no offset, no phase error: e = 0 throughout
    assert rec.lock_block == lock_blocks - 1
    assert not rec.locked[:lock_blocks - 1].any() and rec.locked[lock_blocks - 1:].all()


# A loop so slow that the phase stays where it starts (it moves by 2.5e-10 UI in the first
# block at e = 0.25, by less than 2e-6 UI in 64 blocks): the phase error of every block is the
# start phase to well within the 1e-4 UI of the cases.
FROZEN = cdr.CdrConfig(kp=1e-9, ki=1e-10, lock_blocks=4)


@pytest.mark.parametrize(("phase", "lock_block"), [
    (FROZEN.lock_ui - 1e-4, FROZEN.lock_blocks - 1),  # inside from block 0
    (FROZEN.lock_ui, FROZEN.lock_blocks),  # block 0 is not inside; the loop pulls it in by one
    (FROZEN.lock_ui + 1e-4, None),  # never inside
])
def test_phase_error_exactly_lock_ui_is_outside(phase, lock_block):
    rec = cdr.recover(np.zeros(64), 1.0, FROZEN, phase_ui=phase)
    assert rec.lock_block == lock_block


@pytest.mark.parametrize(("blocks", "means"), [
    (7, [2.5, 6.25]),  # the last segment is padded with the last period
    (8, [2.5, 6.5]),
    (9, [2.5, 6.5, 9.0]),  # one block past: a segment of its own
])
def test_schedule_segments_around_a_whole_number_of_segments(blocks, means):
    periods = np.arange(1, blocks + 1, dtype=float)
    rec = cdr.Recovery(periods, np.zeros(blocks + 1), np.ones(blocks, dtype=bool), 0)
    schedule = cdr.schedule(rec, 4, 3.0)
    assert schedule.periods_as == tuple(round(m * 1_000_000) for m in means)
    assert (schedule.segment_cycles, schedule.phase_as) == (4, 3_000_000)
