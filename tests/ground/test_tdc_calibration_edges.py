"""TDC calibrator at every edge of its comparisons (:mod:`models.ground.tdc_calibration`):
exactly ``cal_hits`` calibration hits build a table, one fewer does not, one more (during the
build) is dropped; ``starve_cycles`` of collection make exactly one starvation, one cycle fewer
none; a frame strobe one cycle before the table is ready switches nothing, at and one cycle
after the ready cycle it does, and the hit accepted at the strobe's cycle still uses the old
table while the next one uses the new. The values are stated here and both the golden model and
the RTL must give them. Every cycle is derived from the model's latency constants
(``BUILD_GAP``, ``BUILD_PIPELINE``) and the clearing walk of ``taps`` cycles, never written as a
number, so a pipeline that moves them stays consistent.

The strobe and starvation edges need the strobe and the counter read at one exact cycle: they
run in the Amaranth simulator through :func:`tb.ground.tdc.simulate_calibrator` (cycle-exact
driving). The fill threshold runs on every back end (:func:`tb.ground.bodies.
calibrator_fill_edges`, the Verilog of the calibrator's other dual case)."""

import numpy as np
import pytest

from models.constants import FABRIC_CLOCK_PS
from models.ground.tdc_calibration import (
    BUILD_GAP,
    BUILD_PIPELINE,
    CalibratorConfig,
    run_calibrator,
)
from rtl.ground.tdc_calibration import TdcCalibrator
from tb.dual import backend_params, run_body
from tb.ground import bodies
from tb.ground.tdc import calibrator_dut, simulate_calibrator

TAPS, N, PERIOD = 8, 4, 32
CFG = CalibratorConfig(channel=1, taps=TAPS, cal_hits=N, cal_period=PERIOD,
                       starve_cycles=N * PERIOD,  # the smallest recalibration time allowed
                       initial=tuple(100 * k for k in range(TAPS)))
CODE = 3  # every calibration hit has this fine code: the new table is stated below
NEW = {CODE: (FABRIC_CLOCK_PS + 1) // 2}  # centre of the only bin: half a period
COLLECT = TAPS  # collection starts after the clearing walk that follows reset


def cal_hit(coarse: int = 0) -> dict:
    return {"coarse": coarse, "fine": CODE, "channel": CFG.channel, "calibration": 1}


def det_hit(coarse: int) -> dict:
    return {"coarse": coarse, "fine": CODE, "channel": CFG.channel, "calibration": 0}


def run(hits: list[dict], at: list[int], strobes: list[int], cycles: int) -> dict:
    """The RTL (cycle-exact) and the model on the same acceptance cycles; asserts that each hit
    was accepted when offered and that both give the same tags and counters; returns the
    RTL's counters and flags with the tags."""
    rtl = simulate_calibrator(TdcCalibrator.from_config(CFG), hits, np.array(strobes), cycles,
                              at=np.array(at))
    assert rtl.accepted.tolist() == at, "a hit was not accepted when offered"
    model = run_calibrator(np.array([h["coarse"] for h in hits], dtype=np.uint64),
                           np.array([h["fine"] for h in hits]),
                           np.array([h["calibration"] for h in hits], dtype=bool),
                           np.array(at), np.array(strobes), cycles, CFG)
    assert [t["time"] for t in rtl.tags] == model.time.tolist()
    assert rtl.counters == {"tables_built": model.tables_built,
                            "tables_switched": model.tables_switched,
                            "starve_events": model.starve_events,
                            "uncalibrated": model.uncalibrated,
                            "cal_dropped": model.cal_dropped}, rtl.counters
    return {**rtl.counters, **rtl.flags, "tags": [t["time"] for t in rtl.tags]}


@pytest.mark.parametrize("extra, built, dropped", [(-1, 0, 0), (0, 1, 0), (1, 1, 1)])
def test_calibrator_builds_after_exactly_cal_hits(extra, built, dropped):
    """cal_hits - 1 hits: no table; cal_hits: one; one more, accepted in the build's first
    cycle: dropped (the histogram is closed)."""
    at = [COLLECT + k for k in range(N + extra)]
    got = run([cal_hit()] * len(at), at, [], at[-1] + BUILD_GAP + TAPS + 1 + BUILD_PIPELINE + 1)
    assert (got["tables_built"], got["cal_dropped"]) == (built, dropped)


@pytest.mark.parametrize("cycles, events", [(COLLECT + CFG.starve_cycles - 1, 0),
                                            (COLLECT + CFG.starve_cycles, 1),
                                            (COLLECT + CFG.starve_cycles + 1, 1)])
def test_calibrator_starves_after_exactly_starve_cycles(cycles, events):
    """cal_hits - 1 hits, then nothing: the starvation count read after ``cycles`` cycles."""
    at = [COLLECT + k for k in range(N - 1)]
    got = run([cal_hit()] * len(at), at, [], cycles)
    assert (got["starve_events"], got["starved"]) == (events, int(events > 0))


@pytest.mark.parametrize("offset, switched", [(-1, 0), (0, 1), (1, 1)])
def test_calibrator_table_switch_at_the_frame_strobe(offset, switched):
    """A table ready at ``ready`` (from the model's constants); a strobe at ``ready + offset``;
    detector hits accepted at the strobe's cycle and the next."""
    at = [COLLECT + k for k in range(N)]
    ready = at[-1] + BUILD_GAP + TAPS + 1 + BUILD_PIPELINE
    s = ready + offset
    coarse = [10**9, 2 * 10**9]
    got = run([cal_hit()] * N + [det_hit(c) for c in coarse], [*at, s, s + 1], [s], s + 8)
    old, new = CFG.initial[CODE], NEW[CODE]
    assert got["tables_switched"] == switched
    assert got["tags"] == [coarse[0] - old, coarse[1] - (new if switched else old)]


FILL = {"taps": 24, "cal_hits": 32, "hits_seed": 4, "skew": 1234}  # the other dual case's DUT


@pytest.mark.parametrize("backend", backend_params())
def test_calibrator_fill_threshold_edges_dual(backend):
    """cal_hits - 1 calibration hits: no table; the next: one; one more right behind it:
    dropped."""
    run_body(backend, calibrator_dut(FILL), bodies.calibrator_fill_edges, case="tdc_calibrator",
             params={**FILL, "idle": 0.0, "stall": 0.0, "seed": 1})
