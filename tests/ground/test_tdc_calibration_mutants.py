"""TdcCalibrator parameters the bit-exact runs leave at other values: the default starvation
time."""

from models.ground.tdc_calibration import CalibratorConfig
from rtl.ground.tdc_calibration import TdcCalibrator


def test_default_starvation_time_is_two_collections_of_the_histogram() -> None:
    """Without ``starve_cycles`` a histogram starves after twice the time a full one takes
    (``cal_hits`` hits, one per ``cal_period``), at the default sizes and at others."""
    assert TdcCalibrator(channel=0).config == CalibratorConfig(channel=0)
    small = TdcCalibrator(channel=1, taps=16, cal_hits=64, cal_period=32)
    assert small.config.starve_cycles == 2 * 64 * 32
