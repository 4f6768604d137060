"""Strobe guard before its first strobe, against the model in every cycle: the search frame
comes back every ``acquire_frames`` frames (its counter wraps to 0), and ``acquire_frames`` 0
never searches."""

from dataclasses import replace

import numpy as np
import pytest

from models.ground.strobe_guard import GuardConfig
from tb.ground.strobe_guard import expected, simulate_guard

P, F = 32, 160
"""The calibration and frame periods of the guard's RTL cases (``test_strobe_guard``)."""


def no_strobe(cfg: GuardConfig, frames: int) -> tuple[int, np.ndarray]:
    """The guard on a silent line for ``frames`` frames: RTL and model trace equal; the
    number of slots skipped and the frames they fell in."""
    tap0 = np.zeros(frames * F, dtype=bool)
    got, want = simulate_guard(tap0, P, cfg), expected(tap0, P, cfg)
    assert np.array_equal(got.skip, want.skip) and got.skipped == want.skipped
    assert not got.locked.any()
    return got.skipped, np.unique(np.flatnonzero(got.skip) // F)


@pytest.mark.parametrize("acquire", [2, 3])
def test_without_a_strobe_every_acquire_frames_th_frame_is_a_search_frame(acquire: int) -> None:
    frames = 3 * acquire + 1
    skipped, searched = no_strobe(replace(GuardConfig(frame_cycles=F), acquire_frames=acquire),
                                  frames)
    # frames acquire - 1, 2 acquire - 1, 3 acquire - 1: every slot of each (F / P slots; a
    # decision is taken lead cycles ahead, so a skip shows until the next frame's first slot)
    assert skipped == 3 * (F // P)
    assert set(searched) <= {f for k in range(1, 4) for f in (k * acquire - 1, k * acquire)}


def test_acquire_frames_0_never_searches() -> None:
    skipped, _ = no_strobe(replace(GuardConfig(frame_cycles=F), acquire_frames=0), 4)
    assert skipped == 0
