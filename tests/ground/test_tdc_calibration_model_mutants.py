"""models.ground.tdc_calibration functions the RTL comparisons do not reach: the channel-to-
calibrator acceptance cycle of ``run_tdc``, the first slot of ``calibration_codes``, the DNL of
``table_quality`` and the mean removal of ``interval_errors``."""

import numpy as np

from models.constants import FABRIC_CLOCK_PS as T
from models.constants import TDC_PULSE_PS
from models.ground.tdc import CHANNEL_LATENCY, ChannelConfig, DelayLine
from models.ground.tdc_calibration import (
    CalibratorConfig,
    calibration_codes,
    interval_errors,
    linear_table,
    run_tdc,
    table_quality,
)

LINE = DelayLine()
PERIOD = 32  # calibration period (cycles): short, so that few cycles hold many slots


def test_detector_hit_is_accepted_channel_latency_cycles_after_its_sampling_edge():
    """A run that ends exactly ``CHANNEL_LATENCY`` cycles after a detector hit's sampling edge
    has the hit but not its tag; one cycle longer has the tag."""
    table = tuple(int(v) for v in linear_table(LINE))
    ccfg = ChannelConfig(cal_period=PERIOD)
    cal = CalibratorConfig(taps=LINE.taps, cal_period=PERIOD, initial=table)
    rises = np.array([110.5 * T])  # between the slots at cycles 96 and 128
    widths = np.full(1, float(TDC_PULSE_PS))
    hits, _ = run_tdc(LINE, rises, widths, 200, ccfg, cal)
    edge = int(hits.cycle[~hits.calibration][0])
    for extra, tags in ((0, 0), (1, 1)):
        _, res = run_tdc(LINE, rises, widths, edge + CHANNEL_LATENCY + extra, ccfg, cal)
        assert len(res.time) == tags, extra


def test_calibration_codes_start_at_slot_zero():
    """The start-up codes are the calibration hits of an idle channel from reset: the same as
    the calibration hits of ``run_tdc`` with no detector pulse, in order."""
    codes = calibration_codes(LINE, 40, cal_period=PERIOD)
    cal = CalibratorConfig(taps=LINE.taps, cal_period=PERIOD)
    hits, _ = run_tdc(LINE, np.zeros(0), np.zeros(0), 60 * PERIOD,
                      ChannelConfig(cal_period=PERIOD), cal)
    assert codes.tolist() == hits.fine[hits.calibration][:40].tolist()


def test_table_of_the_true_bin_centres_has_zero_dnl_and_inl():
    """A table holding the exact centre of every true bin (plus a constant, the skew's part)
    is perfect; moving one entry by 5 LSB shows as that DNL."""
    edges = np.concatenate(([0.0], np.sort(LINE.delays())))
    centres = np.append((edges[:-1] + edges[1:]) / 2.0, 0.0)[:LINE.taps] + 37.0
    q = table_quality(LINE, centres)
    assert max(q.dnl_lsb, q.inl_ps, q.dnl_rms_lsb, q.inl_rms_ps) < 1e-9
    hi = int(np.searchsorted(edges, edges[1] + T))
    lsb = T / len(range(1, min(hi, len(edges) - 1)))
    bent = centres.copy()
    bent[hi // 2] += 5 * lsb
    assert abs(table_quality(LINE, bent).dnl_lsb - 5.0) < 1e-9


def test_interval_errors_are_centred_single_shot_differences():
    """A 1.5-period interval between two channels: one error per pair with both tags, mean
    exactly zero, spread of a few LSB even with the nominal tables."""
    lines = (LINE, DelayLine(seed=LINE.seed + 1))
    tables = tuple(linear_table(line) for line in lines)
    err = interval_errors(lines, tables, 1.5 * T, 60, seed=3)
    assert 50 <= len(err) <= 60
    assert abs(err.mean()) < 1e-9
    assert 1.0 < err.std() < 200.0
