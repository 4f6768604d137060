"""Sifting RTL throughput (cycle counts, not wall time): one detection per fabric cycle."""

from tb.sifting.throughput import (
    ground_report_throughput,
    ground_sift_throughput,
    satellite_sift_throughput,
)

COUNT = 200
# Worst-case detection rate of the pass with margin (docs/sifting.md): 2 M detections/s.
WORST_CASE_PER_S = 2e6


def test_ground_report_takes_one_record_per_cycle_without_overflow():
    t = ground_report_throughput(COUNT)
    assert t.overflow == 0
    assert t.cycles <= COUNT + 8 and t.per_s > 50 * WORST_CASE_PER_S


def test_satellite_sift_takes_one_report_per_cycle():
    t = satellite_sift_throughput(COUNT)
    assert t.cycles <= COUNT + 8


def test_ground_sift_takes_one_detection_per_cycle():
    t = ground_sift_throughput(COUNT)
    assert t.cycles <= COUNT + 8
