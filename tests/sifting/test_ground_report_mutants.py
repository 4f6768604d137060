"""GroundReport, directed: its parameter limits at their edges (the sampling threshold 0..65536,
the record FIFO at least one deep)."""

import pytest

from rtl.sifting.ground_report import GroundReport


def test_threshold_and_fifo_depth_limits():
    GroundReport(sample_below=0, fifo_depth=1)
    GroundReport(sample_below=1 << 16)
    with pytest.raises(ValueError, match="fifo_depth=0 must be positive"):
        GroundReport(fifo_depth=0)
    for threshold in (-1, (1 << 16) + 1):
        with pytest.raises(ValueError, match=f"sample_below={threshold} is outside"):
            GroundReport(sample_below=threshold)
