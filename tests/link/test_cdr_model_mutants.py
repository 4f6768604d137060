"""models.link.cdr: the lock verdict behind the tracking range of docs/link.md covers a run of
4096 blocks (a loop that first slips in the last block does not hold its lock)."""

import numpy as np

from models.link import cdr


def test_holds_lock_judges_a_run_of_4096_blocks(monkeypatch):
    runs = []

    def recording(rate: np.ndarray, *args, **kwargs) -> cdr.Recovery:
        runs.append(len(rate))
        return recover(rate, *args, **kwargs)

    recover = cdr.recover
    monkeypatch.setattr(cdr, "recover", recording)
    assert cdr.holds_lock(27e-6)
    assert not cdr.holds_lock(150e-6)
    assert runs == [4096, 4096]


def test_a_short_last_segment_is_padded_with_the_last_period():
    """20 blocks in segments of 16: the second segment's mean is its 4 periods and 12 copies of
    the run's last one (the clock keeps its last period after the run)."""
    periods = 12_800.0 + np.arange(20.0)
    rec = cdr.Recovery(periods, np.zeros(21), np.ones(20, dtype=bool), 0)
    sched = cdr.schedule(rec, 16, 0.0)
    assert len(sched.periods_as) == 2
    assert sched.periods_as[0] == round(periods[:16].mean() * 1e6)
    assert sched.periods_as[1] == round((periods[16:].sum() + 12 * periods[-1]) / 16 * 1e6)
