"""Calibration histogram, host calibration step and squasher at the edges of their comparisons.
Values are stated here; the golden model and the RTL (Amaranth simulator, Verilator, Icarus)
must both give them (:func:`tb.ground.bodies.histogram_edges`,
:func:`tb.ground.bodies.squasher_edges`).

* :class:`rtl.ground.histogram.PhaseHistogram`: residuals on every bin edge (``10 b - 1``,
  ``10 b`` ps, the ``x // 10`` divider), the fold at 0 (``-1`` ps into the last bin, also from
  ``r16 = -1``, a fraction below zero), the window of residuals the indexer can give
  (``-P/2 <= r < P/2``: -800 ps and 799 ps), and records that are not ACCEPTED (not counted).
* :func:`models.ground.calibration.delta_from_histogram`: exactly ``min_counts`` counts
  calibrate, one fewer is refused with one error line.
* :class:`rtl.ground.squash.Squasher` (SPEC 4.3): one click or the same detector twice is a
  single click (basis and bit from the detector), two detectors of one basis take the basis and a
  random bit, of both bases a random basis and bit; a record that is not ACCEPTED neither
  counts nor splits a pulse; ``n`` differing in the lowest bit only, high in bit 63, and the
  first pulse ``n = 0``."""

import numpy as np
import pytest

from models.constants import PULSE_PERIOD_PS, SQUASH_SEED
from models.ground.calibration import BIN_PS, BINS, CalibrationError, delta_from_histogram
from models.ground.timing import Status
from models.qrng import qrng_hash
from rtl.ground.histogram import PhaseHistogram
from rtl.ground.squash import Squasher
from tb.dual import backend_params, run_body
from tb.ground import bodies

ACC, OUT = int(Status.ACCEPTED), int(Status.OUTSIDE_GATE)
HALF = PULSE_PERIOD_PS // 2
BINS_WANT = [0] * BINS
RECORDS: list[list[int]] = []


def residual(ps: int, bin_: int | None, r16: int | None = None, status: int = ACC) -> None:
    """A record with residual ``ps`` (``r16 = 16 ps`` unless given) stated to count in
    ``bin_`` (``None``: not counted)."""
    RECORDS.append([16 * ps if r16 is None else r16, status])
    if bin_ is not None:
        BINS_WANT[bin_] += 1


for b in range(1, HALF // BIN_PS):  # every edge of the positive half: 10 b - 1 | 10 b
    residual(BIN_PS * b - 1, b - 1)
    residual(BIN_PS * b, b)
for b in range(HALF // BIN_PS, BINS):  # the negative half folds onto bins 80..159
    residual(BIN_PS * b - 1 - PULSE_PERIOD_PS, b - 1)
    residual(BIN_PS * b - PULSE_PERIOD_PS, b)
residual(0, 0)
residual(-1, BINS - 1)                  # the fold: -1 ps is the period's last picosecond
residual(0, BINS - 1, r16=-1)           # -1/16 ps floors to -1 ps
residual(0, 0, r16=15)                  # 15/16 ps floors to 0
residual(-HALF, HALF // BIN_PS)         # the window's ends: -800 ps ...
residual(HALF - 1, HALF // BIN_PS - 1)  # ... and 799 ps
residual(0, None, status=OUT)
residual(-1, None, status=int(Status.NO_SYNC))


def test_histogram_edge_cases_cover_every_bin():
    assert min(BINS_WANT) >= 1 and sum(BINS_WANT) == sum(s == ACC for _, s in RECORDS)


@pytest.mark.parametrize("backend", backend_params(slow_cocotb=True))
def test_histogram_bin_fold_and_window_edges(backend):
    run_body(backend, PhaseHistogram(), bodies.histogram_edges, case="ground_histogram_edges",
             params={"records": RECORDS, "bins": BINS_WANT, "seed": 2, "idle": 0.2})


@pytest.mark.parametrize("total, ok", [(499, False), (500, True), (501, True)])
def test_calibration_step_needs_exactly_min_counts(total, ok):
    """The host step refuses a histogram of min_counts - 1 counts (one error line naming both
    numbers) and calibrates from exactly min_counts."""
    bins = np.zeros(BINS, dtype=np.int64)
    bins[30] = total - 2 * (total // 3)
    bins[29] = bins[31] = total // 3
    if ok:
        assert isinstance(delta_from_histogram(bins, nominal_ps=5_000.0, min_counts=500), int)
    else:
        with pytest.raises(CalibrationError, match="at least 500 indexed detections, got 499"):
            delta_from_histogram(bins, nominal_ps=5_000.0, min_counts=500)


def rand(n: int) -> int:
    """The ground RNG word of pulse ``n`` (SPEC 4.3: bit 0 the bit, bit 1 the basis)."""
    return int(qrng_hash(SQUASH_SEED, np.uint64(n)))


TOP = 1 << 63
SQUASH_RECORDS = [
    [0, 0, ACC],                              # n = 0 first: H, single
    [1, 1, ACC], [1, 1, ACC],                 # V twice: still a single click
    [2, 2, ACC], [2, 3, OUT], [2, 3, ACC],    # D and A around a record not ACCEPTED
    [3, 0, ACC], [3, 2, ACC],                 # H and D: both bases
    [4, 3, OUT],                              # not ACCEPTED alone: no detection
    [TOP, 3, ACC],                            # A at n with bit 63 set
    [TOP + 1, 0, ACC], [TOP + 1, 1, ACC],     # n differs in bit 0 only: a new pulse, H and V
]
SQUASH_WANT = [[0, 0, 0], [1, 0, 1], [2, 1, rand(2) & 1], [3, (rand(3) >> 1) & 1, rand(3) & 1],
               [TOP, 1, 1], [TOP + 1, 0, rand(TOP + 1) & 1]]


@pytest.mark.parametrize("backend", backend_params(slow_cocotb=True))
def test_squash_single_multi_and_pulse_boundary_edges(backend):
    run_body(backend, Squasher(SQUASH_SEED), bodies.squasher_edges, case="ground_squash",
             params={"records": SQUASH_RECORDS, "want": SQUASH_WANT, "squash_seed": SQUASH_SEED,
                     "seed": 3, "idle": 0.2, "stall": 0.3})
