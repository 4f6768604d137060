"""The e2e's TDC stimulus: sparse delay-line codes equal the dense model's away from metastable
flops, and the channel model on sparse codes equals it on dense ones (dead time, pile-up,
roll-over of the pieces included)."""

import numpy as np
import pytest

import models.ground.stimulus as stimulus
from models.constants import FABRIC_CLOCK_PS
from models.ground.stimulus import line_codes, sparse_raw_hits
from models.ground.tdc import ChannelConfig, DelayLine, default_pulses, run_channel

CYCLES = 20_000


def pulses(seed: int = 5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    rises = np.sort(rng.uniform(1000.0, (CYCLES - 10) * FABRIC_CLOCK_PS, 800))
    # second pulses inside a first (merged), in its dead time, and one at time 0's cycles
    rises = np.sort(np.concatenate([rises, rises[::40] + 3000.0, rises[1::40] + 16_000.0,
                                    [3.0]]))
    return rises, default_pulses(rises)


def test_sparse_codes_are_the_dense_codes():
    line = DelayLine()
    rises, widths = pulses()
    dense = line.codes(rises, widths, CYCLES)
    sparse = line_codes(line, rises, widths)
    assert np.all(np.diff(sparse.cycle) > 0)
    assert sparse.code.any(axis=1).all()
    busy = np.flatnonzero(dense.any(axis=1))
    # only the coin of a metastable flop may differ (dense: per-block draws; sparse: a hash)
    assert len(np.setxor1d(busy, sparse.cycle)) <= 2
    both = np.intersect1d(busy, sparse.cycle)
    differ = dense[both] != sparse.code[np.searchsorted(sparse.cycle, both)]
    assert 0 < differ.sum() < 1e-3 * differ.size
    packed = sparse.packed()
    assert packed.shape == (len(sparse.cycle), line.taps // 8)
    assert int.from_bytes(packed[0].tobytes(), "little") == sum(
        1 << int(i) for i in np.flatnonzero(sparse.code[0]))


@pytest.mark.parametrize("dead", [0, 4])
@pytest.mark.parametrize("piece", [50, 16384])
def test_sparse_channel_model_equals_dense(monkeypatch, dead, piece):
    monkeypatch.setattr(stimulus, "SPARSE_PIECE", piece)
    line = DelayLine(seed=11)
    sparse = line_codes(line, *pulses(7))
    dense = np.zeros((CYCLES, line.taps), dtype=bool)
    dense[sparse.cycle] = sparse.code
    cfg = ChannelConfig(channel=3, dead_cycles=dead, epoch=(1 << 64) - 50 * FABRIC_CLOCK_PS)
    want, got = run_channel(dense, cfg), sparse_raw_hits(sparse, cfg)
    for name in ("coarse", "fine", "cycle"):
        assert np.array_equal(getattr(want, name), getattr(got, name)), name
    for name in ("lost_dead", "lost_pileup", "coverage_errors", "stuck_events"):
        assert getattr(want, name) == getattr(got, name), name
    assert len(want.cycle) > 600 and (want.lost_dead > 0) == (dead > 0)
