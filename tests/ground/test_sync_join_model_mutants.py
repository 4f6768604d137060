"""models.ground.sync_join: idle stretches that the model's next-event search must jump over
rather than step through (a wake-up too early by many cycles is a hang on a long stretch)."""

from models.constants import FABRIC_CLOCK_PS
from models.ground.sync_join import JoinConfig, run_join
from models.ground.tdc_merge import Coarse


class CountedNow:
    """A coarse time that counts the model's look-ups and fails once they pass ``budget``: the
    model must jump over idle stretches (its next-event search), not step through them."""

    def __init__(self, now: Coarse, budget: int = 1000) -> None:
        self.now, self.budget, self.calls = now, budget, 0

    def _count(self) -> None:
        self.calls += 1
        if self.calls > self.budget:
            raise AssertionError(f"more than {self.budget} look-ups of now: idle cycles stepped")

    def at(self, c: int) -> int:
        self._count()
        return self.now.at(c)

    def first_at_least(self, x: int, start: int) -> int | None:
        self._count()
        return self.now.first_at_least(x, start)


def test_long_strobe_lag_is_jumped_to_the_deadline_not_stepped():
    """One event and no strobe with a ~2 ms strobe lag: the window times out after ~330 000
    cycles, which the model reaches in a few look-ups."""
    cfg = JoinConfig(offset_ps=0, tolerance_ps=1000, strobe_lag_ps=(1 << 31) - 1)
    now = CountedNow(Coarse.linear(0, FABRIC_CLOCK_PS))
    res = run_join([7], [3], [], [], now, cfg)
    assert (res.missing, res.extra, len(res.time)) == (1, 0, 0)
    assert now.calls < 100


def test_now_resting_on_the_deadline_is_jumped_not_stepped():
    """``now`` (a register) sits exactly on the event's deadline for 10**6 cycles: the window
    closes only once ``now`` passes it, and the model jumps straight there."""
    cfg = JoinConfig(offset_ps=0, tolerance_ps=1000, strobe_lag_ps=2000)
    deadline = cfg.offset_ps + cfg.tolerance_ps + cfg.strobe_lag_ps
    now = CountedNow(Coarse.steps_at([-1, 100, 10**6], [0, deadline, deadline + 1]))
    res = run_join([7], [3], [], [], now, cfg)
    assert (res.missing, res.extra, len(res.time)) == (1, 0, 0)
    assert now.calls < 100
