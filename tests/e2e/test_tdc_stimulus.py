"""The e2e's TDC stimulus: the replayed codes are the delay line's codes in every cycle where
they are not zero, and the raw hits the scoreboard expects are the channel model's on them."""

import numpy as np

from models.constants import FABRIC_CLOCK_PS, TDC_CHANNELS
from models.ground.stimulus import tdc_line
from models.ground.tdc import ChannelConfig, channel_input, default_pulses, run_channel
from sim.e2e_scenario import CODE_DUE_CYCLES, replay_codes, tdc_stimulus

CYCLES = 6000


def arrivals(seed: int = 5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    time = np.sort(rng.uniform(1000.0, (CYCLES - 10) * FABRIC_CLOCK_PS, 600))
    time = np.sort(np.concatenate([time, time[::30] + 3000.0]))  # merged second hits
    return time, rng.integers(0, TDC_CHANNELS, len(time))


def test_replayed_codes_are_the_line_codes_where_not_zero():
    time, channel = arrivals()
    rises = np.sort(time[channel == 1])
    line = tdc_line(1)
    muxed = channel_input(rises, default_pulses(rises), 0, CYCLES, channel=1)
    dense = line.codes(*muxed, CYCLES)
    rows, codes = line.sparse_codes(*muxed, CYCLES)
    cycle, code = replay_codes(rows, codes, CYCLES)
    assert np.array_equal(cycle, np.flatnonzero(dense.any(axis=1)))
    assert np.array_equal(code, dense[cycle])


def test_expected_raw_hits_are_the_channel_model_on_the_replayed_codes():
    time, channel = arrivals(7)
    stim, _ = tdc_stimulus(time, channel, CYCLES)
    for k in range(TDC_CHANNELS):
        dense = np.zeros((CYCLES, tdc_line(k).taps), dtype=bool)
        cycle = stim[f"code{k}_cycle"]
        dense[cycle] = np.unpackbits(stim[f"code{k}"], axis=1, bitorder="little").astype(bool)
        want = run_channel(dense, ChannelConfig(channel=k))
        assert np.array_equal(want.coarse, stim[f"raw{k}_coarse"])
        assert np.array_equal(want.fine, stim[f"raw{k}_fine"])
        assert np.array_equal(want.calibration, stim[f"raw{k}_calibration"].astype(bool))
        assert np.array_equal(stim[f"code{k}_due"], cycle + CODE_DUE_CYCLES)
        assert want.calibration.sum() >= CYCLES // 1024 - 1 and (~want.calibration).sum() > 50
