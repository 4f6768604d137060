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
