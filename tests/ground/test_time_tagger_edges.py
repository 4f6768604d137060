"""Time tagger at its limits (:func:`models.ground.time_tagger.safe_max_lags`): a detector tag
leaves its calibrator ``CHANNEL_LATENCY + CALIBRATOR_LATENCY`` cycles after its sampling edge
with ``time = edge - table - skew``, and a table entry is at most one clock period, so its lag
at the merge is at most the safe lag ``(CHANNEL_LATENCY + CALIBRATOR_LATENCY + 1) T + skew``.
A tag with a table entry of exactly one period and the largest skew is exactly that old: kept
with the safe lag, late with one picosecond less; an entry one below is kept with one
picosecond less. The tags and late counts are stated here (from the model's latency constants,
so a re-pipelined tagger that updates them stays consistent); the golden model and the RTL must
both give them (:func:`tb.ground.bodies.time_tagger_edges`). An initial table entry above one
period, which would break the bound, is refused."""

import pytest

from models.constants import FABRIC_CLOCK_PS, TDC_CHANNELS
from models.ground.tdc_calibration import CalibrationConfigError, CalibratorConfig
from models.ground.time_tagger import (
    CALIBRATOR_LATENCY,
    CHANNEL_LATENCY,
    safe_max_lags,
)
from tb.dual import backend_params, run_body
from tb.ground import bodies
from tb.ground.edges import tagger_edge_config, tagger_edge_dut

T = FABRIC_CLOCK_PS
TAPS, FINE, EDGE = 16, 5, 100  # every hit: fine code FINE, sampled at cycle EDGE
SKEW = [1000, 1000, 1000, 0, 0]
ENTRY = [T, T, T - 1, T, T]  # the table entry of FINE per channel
LIMIT = [(CHANNEL_LATENCY + CALIBRATOR_LATENCY + 1) * T + s for s in SKEW]
BASE = {"taps": TAPS, "cal_period": 1024, "cal_hits": 4, "skew": SKEW, "cycles": 200,
        "initial": [[min(e, 400 * k) if k != FINE else e for k in range(TAPS)] for e in ENTRY],
        "events": [[[EDGE, FINE, 1, 0]]] * 3 + [[]] * 2}
LAGS = [LIMIT[0], LIMIT[1] - 1, LIMIT[2] - 1, *safe_max_lags(tagger_edge_config(
    {**BASE, "lags": [0] * TDC_CHANNELS}))[3:]]
PARAMS = {**BASE, "lags": LAGS, "late": [0, 1, 0, 0, 0],
          "want": [[EDGE * T - T - SKEW[0], 0], [EDGE * T - (T - 1) - SKEW[2], 2]]}


def test_safe_lag_is_the_worst_detector_lag():
    cfg = tagger_edge_config({**BASE, "lags": [0] * TDC_CHANNELS})
    assert list(safe_max_lags(cfg))[:3] == LIMIT[:3]


def test_initial_table_entry_above_one_period_is_refused():
    table = tuple([0] * (TAPS - 1) + [T + 1])
    with pytest.raises(CalibrationConfigError, match="none above one clock period"):
        CalibratorConfig(taps=TAPS, cal_hits=4, cal_period=1024, initial=table)
    assert CalibratorConfig(taps=TAPS, cal_hits=4, cal_period=1024, initial=(*table[:-1], T))


@pytest.mark.parametrize("backend", backend_params(slow_cocotb=True))
def test_time_tagger_detector_tag_exactly_at_the_safe_lag_edges(backend):
    run_body(backend, tagger_edge_dut(PARAMS), bodies.time_tagger_edges,
             case="time_tagger_edges", params={**PARAMS, "seed": 1, "idle": 0.0, "stall": 0.0})
