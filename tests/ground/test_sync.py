"""Sync detector: model behaviour (flywheel, loss of lock, false lock, miss rate) and the RTL
against the model in the Amaranth simulator and in cocotb (Verilator, Icarus)."""

from math import comb

import numpy as np
import pytest

from models.ground.sync import (
    SyncConfig,
    SyncConfigError,
    detect,
    distances,
    downlink_bits,
)
from rtl.ground.sync import SyncDetector
from tb.dual import backend_params, run_body
from tb.ground import bodies
from tb.ground.streams import sync_bits, sync_scenario

FAST = SyncConfig(frame_bits=256, max_misses=24)


def hit_probability(tolerance: int) -> float:
    """Probability that 64 random bits lie within ``tolerance`` of the marker."""
    return sum(comb(64, i) for i in range(tolerance + 1)) / 2**64


def test_flywheel_over_20_lost_words_then_loss_and_reacquisition():
    bits, lead, first = sync_scenario(seed=3)
    result = detect(bits, FAST)
    assert result.losses == 1
    for e in result.events:  # every event, flywheel or not, names the right frame
        assert e.position == lead + (e.frame - first) * FAST.frame_bits
    frames = [e.frame for e in result.events]
    flywheel = {e.frame - first for e in result.events if e.flywheel}
    assert set(range(8, 28)) <= flywheel  # the 20-word burst is bridged
    # the outage: max_misses flywheel frames, then lock is lost
    assert 39 + FAST.max_misses in flywheel and first + 40 + FAST.max_misses not in frames
    assert frames[-1] == first + 89  # re-acquired after the 27-word outage
    assert result.candidates == 2


def test_no_false_lock_on_random_bits():
    bits = np.random.default_rng(5).integers(0, 2, 3_000_000).astype(np.uint8)
    result = detect(bits, SyncConfig())
    assert result.events == [] and result.candidates == 0


@pytest.mark.parametrize("tolerance", [16, 20])
def test_false_hit_rate_matches_binomial_formula(tolerance):
    bits = np.random.default_rng(tolerance).integers(0, 2, 1_000_000).astype(np.uint8)
    measured = np.mean(distances(bits) <= tolerance)
    assert measured == pytest.approx(hit_probability(tolerance), rel=0.25)


def test_miss_rate_at_high_ber_matches_formula():
    bits = downlink_bits(0, 2000, 256, seed=6, ber=0.06)
    dist = distances(bits)[::256][:2000]
    p = sum(comb(64, i) * 0.06**i * 0.94 ** (64 - i) for i in range(7, 65))
    assert np.mean(dist > 6) == pytest.approx(p, rel=0.15)


def test_counter_jump_loses_lock():
    a = downlink_bits(10, 6, 256, seed=1)
    b = downlink_bits(500, 6, 256, seed=2)
    result = detect(np.concatenate([a, b]), FAST)
    assert result.losses == 1
    # frame 500 is where the loss is seen; 501 is the new candidate, 502 completes the lock
    assert [e.frame for e in result.events] == [11, 12, 13, 14, 15, 502, 503, 504, 505]


def test_config_errors():
    with pytest.raises(SyncConfigError, match="frame_bits"):
        SyncConfig(frame_bits=64)
    with pytest.raises(SyncConfigError, match="tolerance"):
        SyncConfig(tolerance=40)


def test_sync_rtl_slip_and_counter_jump():
    """A bit slip (lock lost after the miss limit, re-acquired), then a counter jump (a
    satellite reset: lock lost)."""
    bits = {"seed": 4, "frames": 50, "drop": (2000, 1), "jump_seed": 8}
    run_body("pysim", SyncDetector(FAST), bodies.sync, case="ground_sync",
             params={"bits": bits, "frame_bits": FAST.frame_bits, "max_misses": FAST.max_misses,
                     "seed": 7, "idle": 0.2, "stall": 0.5})
    _, lead, _ = sync_scenario(seed=4, frames=50)
    want = detect(sync_bits(**bits), FAST)
    assert want.losses == 2 and want.events[-1].frame == 5005
    assert any((e.position - lead) % FAST.frame_bits == FAST.frame_bits - 1 for e in want.events)


# slow on cocotb: the ground_rx cocotb test (tests/ground/test_tops.py) runs the sync detector on
# both simulators (lost words, BER 1e-3); this one adds the two-bit slip re-acquisition
@pytest.mark.parametrize("backend", backend_params(slow_cocotb=True))
def test_sync_rtl_bursts_outage_and_slip(backend):
    run_body(backend, SyncDetector(FAST), bodies.sync, case="ground_sync",
             params={"bits": {"seed": 9, "drop": (12_000, 2)}, "frame_bits": FAST.frame_bits,
                     "max_misses": FAST.max_misses, "seed": 9, "idle": 0.1, "stall": 0.3})
