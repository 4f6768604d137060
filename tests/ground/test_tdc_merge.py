"""TimeOrderedMerge: RTL and model agree cycle for cycle (exact-cycle harness) and through one
body on pysim, Verilator and Icarus."""

import numpy as np
import pytest

from models.constants import FABRIC_CLOCK_PS
from models.ground.tdc_merge import (
    Coarse,
    MergeConfigError,
    MergeInput,
    MergeResult,
    run_merge,
    signed64,
)
from rtl.ground.tdc_merge import TimeOrderedMerge
from tb.dual import backend_params, run_body
from tb.ground import bodies
from tb.ground.tdc_merge import merge_stimulus, simulate_merge, tick_coarse

LAGS = [20_000, 30_000, 50_000, 10_000, 200_000]
FIELDS = ("time", "channel", "frame", "input")


def same(got: MergeResult, want: MergeResult, cycles: bool = True) -> None:
    for f in FIELDS + (("cycle",) if cycles else ()):
        assert np.array_equal(getattr(got, f), getattr(want, f)), f
    assert (got.late, got.overflow) == (want.late, want.overflow)


def in_order(res: MergeResult) -> bool:
    keys = [(signed64(int(t) - int(res.time[0])), int(i))
            for t, i in zip(res.time, res.input, strict=True)]
    return keys == sorted(keys)


def run_both(inputs, now, lags, depth, cycles, ready=None, frame_inputs=None) -> MergeResult:
    want = run_merge(inputs, now, lags, depth, cycles=cycles, ready=ready,
                     frame_inputs=frame_inputs)
    same(simulate_merge(inputs, now, lags, depth, cycles, ready=ready,
                        frame_inputs=frame_inputs), want, cycles=ready is None)
    assert in_order(want)
    return want


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_tags_bit_exact(seed: int) -> None:
    now = tick_coarse(10**9 + seed)
    inputs = merge_stimulus(seed, LAGS, 1500, now, rate=0.03)
    want = run_both(inputs, now, LAGS, 16, 1800)
    assert len(want.time) > 150 and sum(want.late) > 5 and sum(want.overflow) == 0


def test_frames_stored_only_where_asked() -> None:
    now = tick_coarse(10**9)
    inputs = merge_stimulus(8, LAGS, 900, now, rate=0.03)
    want = run_both(inputs, now, LAGS, 16, 1200, frame_inputs=(4,))
    assert set(want.frame[want.input == 4].tolist()) == {4000}
    assert set(want.frame[want.input != 4].tolist()) == {0}


def test_overflow_under_burst() -> None:
    now = tick_coarse(0)
    inputs = merge_stimulus(4, LAGS, 600, now, rate=0.05, burst=12)
    want = run_both(inputs, now, LAGS, 4, 900)
    assert want.overflow[0] > 0


def test_backpressure() -> None:
    rng = np.random.default_rng(9)
    stall = rng.random(3000) < 0.6
    now = tick_coarse(5)
    inputs = merge_stimulus(5, LAGS, 1200, now, rate=0.04)
    want = run_both(inputs, now, LAGS, 8, 3000, ready=lambda c: not stall[c])
    assert sum(want.overflow) > 0 and len(want.time) > 100


def test_lag_edges_and_ties() -> None:
    """At the bound: accepted; one past: late; one below: accepted; equal times leave in input
    order."""
    now = tick_coarse(10**6)
    lag = 10 * FABRIC_CLOCK_PS
    edge = now.at(40) - lag
    inputs = [MergeInput([edge], [40], channel=0),
              MergeInput([edge, now.at(45) - lag - 1, now.at(46) - lag + 1], [40, 45, 46],
                         channel=1),
              MergeInput([edge], [40], channel=2)]
    want = run_both(inputs, now, [lag] * 3, 4, 200)
    assert want.late == [0, 1, 0]
    assert want.input.tolist() == [0, 1, 2, 1]
    assert want.time.tolist() == [edge] * 3 + [now.at(46) - lag + 1]


def test_wrap_of_the_coarse_counter() -> None:
    now = tick_coarse((1 << 64) - 600 * FABRIC_CLOCK_PS)
    inputs = merge_stimulus(6, LAGS, 1200, now, rate=0.03)
    want = run_both(inputs, now, LAGS, 16, 1400)
    assert int(want.time.min()) < 10**9 < int(want.time.max())


def test_model_rejects_bad_config() -> None:
    with pytest.raises(MergeConfigError):
        run_merge([MergeInput([], [], channel=0)], tick_coarse(), [1], 4)
    with pytest.raises(MergeConfigError):
        MergeInput([1, 2], [5, 5], channel=0)
    with pytest.raises(ValueError):
        TimeOrderedMerge(5, depth=12)
    with pytest.raises(MergeConfigError):
        Coarse.steps_at([-1, 10], [100, 50])


def test_comparison_can_fail() -> None:
    now = tick_coarse(10**9)
    inputs = merge_stimulus(1, LAGS, 800, now, rate=0.03)
    with pytest.raises(AssertionError):
        same(simulate_merge(inputs, now, LAGS, 16, 1000),
             run_merge(inputs, now, [*LAGS[:4], LAGS[4] - 20000], 16, cycles=1000))


# The time tagger's cocotb test runs this block on the generated Verilog too: the cocotb
# cases here are slow (make test-slow).
@pytest.mark.parametrize("backend", backend_params(slow_cocotb=True))
def test_merge_body(backend: str) -> None:
    phases = 6 if backend == "icarus" else 24
    run_body(backend, TimeOrderedMerge(5, 32), bodies.tdc_merge, case="tdc_merge",
             params={"seed": 3, "idle": 0.3, "stall": 0.4, "lags": LAGS, "phases": phases,
                     "depth": 32})
