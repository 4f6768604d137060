"""models.ground.tdc_merge parts that the merges of the RTL tests do not reach: a coarse time
made of several rising segments, the round length at every input count (the RTL takes it from
the model), and merges wider than CPython's cached small integers."""

import pytest

from models.ground.tdc_merge import Coarse, MergeConfigError, MergeInput, round_cycles, run_merge


def test_first_at_least_inside_a_rising_segment_before_the_last():
    """``now`` = 10 (c + 1) ps until cycle 99, then 10 000: 500 ps is first reached inside the
    first segment (cycle 49), not at the jump."""
    now = Coarse((-1, 100), (0, 10_000), (10, 0))
    assert [now.first_at_least(x, 0) for x in (500, 501, 1000, 1001, 10_000, 10_001)] == \
        [49, 50, 99, 100, 100, None]


@pytest.mark.parametrize(("inputs", "rounds"),
                         [(2, 4), (3, 5), (4, 5), (5, 6), (8, 6), (9, 7), (16, 7), (17, 8)])
def test_round_is_snapshot_plus_one_level_per_doubling_plus_decision_and_pop(inputs, rounds):
    assert round_cycles(inputs) == rounds


def test_wide_merge_is_accepted_and_its_lag_count_checked():
    """300 inputs (more than the interpreter's cached small integers) with 300 lags: accepted,
    the tag leaves after the second round of 12 cycles; 299 lags: one error."""
    empty = MergeInput(time=[], cycle=[], channel=0)
    inputs = [MergeInput(time=[1000], cycle=[0], channel=1)] + [empty] * 299
    res = run_merge(inputs, Coarse.linear(0, 6400), [0] * 300, 2, cycles=100)
    assert (res.time.tolist(), res.cycle.tolist()) == ([1000], [24])
    with pytest.raises(MergeConfigError, match="merge of 300 inputs with 299 max lags"):
        run_merge(inputs, Coarse.linear(0, 6400), [0] * 299, 2, cycles=100)

