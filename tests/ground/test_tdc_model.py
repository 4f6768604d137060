"""Golden model of the TDC channel and its behavioural delay line (models.ground.tdc)."""

import numpy as np
import pytest

from models.constants import FABRIC_CLOCK_PS
from models.ground.tdc import (
    BLOCK_CYCLES,
    ChannelConfig,
    DelayLine,
    channel_input,
    default_pulses,
    fine_ps,
    run_channel,
)
from tb.ground.tdc import mixed_hits

LINE = DelayLine()
CARRY = DelayLine(taps=LINE.taps * LINE.stride, stride=1)


def estimate(line: DelayLine, rises: np.ndarray, cycles: int, **cfg: int):
    """Channel result and the hit times it implies under the line's ideal calibration."""
    codes = line.codes(rises, default_pulses(rises), cycles)
    res = run_channel(codes, ChannelConfig(**cfg))
    return res, res.cycle * FABRIC_CLOCK_PS - fine_ps(line, res.fine)


def test_bins_have_ecp5_structure() -> None:
    bins = CARRY.bins()
    assert CARRY.length_ps() > 1.1 * FABRIC_CLOCK_PS
    assert 9.0 < bins.mean() < 14.0
    assert (bins < 3.0).mean() > 0.2, "near-empty bins (first output of a CCU2C)"
    assert (bins > 40.0).sum() >= 20, "ultra-wide bins (PFU hops)"
    assert not np.array_equal(bins, DelayLine(seed=LINE.seed + 1).bins())
    assert np.array_equal(LINE.bins(), DelayLine().bins())
    pairs = LINE.bins()
    assert np.allclose(pairs, bins.reshape(-1, 2).sum(axis=1))
    assert pairs.min() > 8.0, "a stride of 2 skips the near-empty bins"
    assert (pairs > 1.7 * pairs.mean()).sum() >= 20, "ultra-wide bins remain (PFU hops)"


@pytest.mark.parametrize("line", [LINE, CARRY], ids=["stride2", "stride1"])
def test_random_hits_precision_and_ones_count(line: DelayLine) -> None:
    rng = np.random.default_rng(3)
    cycles = 4000
    rises = np.sort(rng.uniform(1000, (cycles - 4) * FABRIC_CLOCK_PS, 150))
    res, est = estimate(line, rises, cycles, dead_cycles=0)
    err = est[:, None] - rises[None, :]
    nearest = err[np.arange(len(est)), np.abs(err).argmin(axis=1)]
    assert np.sqrt(np.mean(nearest**2)) < 20.0
    assert np.abs(nearest).max() < 80.0
    codes = line.codes(rises, default_pulses(rises), cycles)[res.cycle]
    bubbly = (np.diff(codes.astype(np.int8), axis=1) == 1).any(axis=1)
    assert bubbly.any(), "the model must produce bubbles for the encoder to tolerate"
    # an edge-position encoder (first zero) reads a bubble as a shorter code: on the bubbly hits
    # it errs more than the ones count
    first = res.cycle * FABRIC_CLOCK_PS - fine_ps(line, codes.argmin(axis=1))
    truth = rises[np.abs(err).argmin(axis=1)]
    assert np.abs(first - truth)[bubbly].mean() > np.abs(nearest)[bubbly].mean()


@pytest.mark.parametrize("line", [LINE, CARRY], ids=["stride2", "stride1"])
@pytest.mark.parametrize("offset", [-12.0, -4.0, -1.0, 0.0, 1.0, 4.0, 12.0])
def test_hit_at_clock_edge_is_not_off_by_a_cycle(line: DelayLine, offset: float) -> None:
    rises = np.arange(10, 400, 20) * FABRIC_CLOCK_PS + offset
    _, est = estimate(line, rises, 410)
    assert len(est) == len(rises)
    assert np.abs(est - rises).max() < 80.0


def test_dead_time_merge_stuck_pileup() -> None:
    base = 100 * FABRIC_CLOCK_PS + 1000.0
    rises = np.array([base, base + 2 * FABRIC_CLOCK_PS + 10_000, base + 300_000,
                      base + 300_500])
    res, _ = estimate(LINE, rises, 200)
    # the second pulse starts after the first fell but within the dead time; the fourth rises
    # while the third is high (two hits in one cycle): a wire cannot show it
    assert res.lost_dead == 1 and len(res.fine) == 2
    assert LINE.merged(rises, default_pulses(rises)) == 1
    stuck = LINE.codes(np.array([base]), np.array([np.inf]), 200)
    out = run_channel(stuck)
    assert out.stuck_events == 1 and out.stuck_flag and len(out.fine) == 1
    # a train of merged pulses holds the input high until 1.6 ns before edge 109; a hit 0.9 ns
    # after that edge has the train's tail in its window, the train's dead time is over
    train = base + np.arange(6) * 9_160.0
    late = np.append(train, 109 * FABRIC_CLOCK_PS + 900.0)
    res, _ = estimate(LINE, late, 300, dead_cycles=1)
    assert res.lost_pileup == 1 and len(res.fine) == 1


def test_short_line_is_detected() -> None:
    short = DelayLine(taps=LINE.taps * 5 // 8)
    assert short.length_ps() < FABRIC_CLOCK_PS
    rng = np.random.default_rng(4)
    rises = np.sort(rng.choice(np.arange(10, 2000, 6), 100, replace=False)) * FABRIC_CLOCK_PS
    rises = rises + rng.uniform(0, FABRIC_CLOCK_PS, 100)
    res, _ = estimate(short, rises, 2010)
    assert res.coverage_flag and res.coverage_errors > 10
    assert res.coverage_errors + len(res.fine) + res.lost_calibration == 100
    good, _ = estimate(LINE, rises, 2010)
    assert not good.coverage_flag and good.coverage_errors == 0


def test_drift_scales_the_code() -> None:
    slow = DelayLine(drift=0.05, drift_period_ps=4 * 2000 * FABRIC_CLOCK_PS, jitter_ps=0.0)
    rises = np.array([10, 2000]) * FABRIC_CLOCK_PS - 3000.0
    res = run_channel(slow.codes(rises, default_pulses(rises), 2010))
    flat = run_channel(LINE.codes(rises, default_pulses(rises), 2010))
    assert res.fine[1] < 0.97 * res.fine[0]
    assert abs(int(flat.fine[1]) - int(flat.fine[0])) <= 3


def test_coarse_rolls_over_modulo_2_64() -> None:
    rises = np.array([5, 20]) * FABRIC_CLOCK_PS + 100.0
    codes = LINE.codes(rises, default_pulses(rises), 30)
    epoch = (1 << 64) - 10 * FABRIC_CLOCK_PS
    res = run_channel(codes, ChannelConfig(epoch=epoch))
    assert res.coarse.tolist() == [(epoch + int(c) * FABRIC_CLOCK_PS) % (1 << 64)
                                    for c in res.cycle]
    assert int(res.coarse[1]) < int(res.coarse[0])


def test_codes_match_a_scalar_reference_across_blocks() -> None:
    """Without jitter and metastability every tap is the input level at its sample instant;
    the blocked computation (and its quiet-block shortcut) must give exactly that."""
    line = DelayLine(jitter_ps=0.0, meta_ps=0.0, drift=0.05, drift_period_ps=1e7)
    b = BLOCK_CYCLES * FABRIC_CLOCK_PS
    rises = np.array([1000.0, b - 20_000.0, b + 3000.0, 2.5 * b, 3 * b - 500.0])
    widths = np.array([10_000.0, 10_000.0, 10_000.0, np.inf, 10_000.0])
    cycles = 3 * BLOCK_CYCLES + 5
    codes = line.codes(rises, widths, cycles)
    delays = line.delays()
    for c in [0, 1, 2, BLOCK_CYCLES - 1, BLOCK_CYCLES, BLOCK_CYCLES + 1, BLOCK_CYCLES + 2,
              BLOCK_CYCLES + 200, int(2.5 * BLOCK_CYCLES) + 1, 3 * BLOCK_CYCLES - 1, cycles - 1]:
        edge = c * FABRIC_CLOCK_PS
        when = edge - (1 + 0.05 * np.sin(2 * np.pi * edge / 1e7)) * delays
        want = ((rises[None, :] <= when[:, None])
                & (when[:, None] < rises[None, :] + widths[None, :])).any(axis=1)
        assert np.array_equal(codes[c], want), c
    assert codes[BLOCK_CYCLES + 1].any() and not codes[BLOCK_CYCLES + 1].all()
    assert codes[cycles - 1].all(), "the last block has no transition: filled with the level"


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_sparse_codes_give_the_dense_result(seed: int) -> None:
    """The run-length coded codes through the channel model give every hit, counter and flag
    of the dense codes: calibration mux, drift, a stuck input, a short stuck threshold, a line
    shorter than a period (transitions with no cycle in reach)."""
    line = [LINE, CARRY, DelayLine(drift=0.05, drift_period_ps=1e8),
            DelayLine(taps=LINE.taps * 5 // 8)][seed]
    cycles = 3000
    rises = mixed_hits(seed, cycles)
    widths = default_pulses(rises)
    if seed == 2:
        rises, widths = np.append(rises, 2500 * FABRIC_CLOCK_PS + 300.0), np.append(widths,
                                                                                      np.inf)
    rises, widths = channel_input(rises, widths, 0, cycles, 64, seed, 1)
    cfg = ChannelConfig(cal_period=64, stuck_cycles=2 if seed == 1 else 16)
    dense = run_channel(line.codes(rises, widths, cycles), cfg)
    rows, codes = line.sparse_codes(rises, widths, cycles)
    assert len(rows) < cycles / 4
    sparse = run_channel(codes, cfg, rows, cycles)
    for name, value in vars(dense).items():
        assert np.array_equal(value, getattr(sparse, name)), name
    assert dense.calibration.sum() > 30 and dense.lost_calibration > 0
    assert seed != 2 or dense.stuck_events > 5
    assert seed != 3 or dense.coverage_errors > 5
