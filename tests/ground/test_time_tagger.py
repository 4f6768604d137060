"""TimeTagger from delay-line codes to tags: RTL against run_time_tagger (one body on pysim,
Verilator and Icarus), and the model's tags against the analog truth."""

import numpy as np
import pytest

from models.constants import FABRIC_CLOCK_PS, TDC_CHANNELS
from models.ground.sync_join import SYNC_CHANNEL
from models.ground.time_tagger import (
    TaggerConfig,
    TaggerConfigError,
    run_time_tagger,
    safe_max_lags,
)
from tb.dual import backend_params, run_body
from tb.ground import bodies
from tb.ground.time_tagger import (
    SETTLE_CYCLES,
    model_counters,
    run_model,
    tagger_case,
    tagger_dut,
)

T = FABRIC_CLOCK_PS
BOUND = T // 4
"""ps: a table from N = 32 calibration hits (the test's, for speed) places a bin with a
statistical error of T sqrt(q (1 - q) / N), up to 566 ps RMS; a wrong cycle is 6400 ps off."""


def params(cycles: int) -> dict:
    # the strobe drifts 1 cycle per frame through a calibration slot: the strobe guard skips it
    return {"seed": 5, "idle": 0.0, "stall": 0.3, "cycles": cycles, "frame_cycles": 160,
            "strobe_phase": 16, "strobe_drift": -1.0, "event_delay": 9, "rate": 0.02,
            "cal_period": 32, "cal_hits": 32,
            "skew": [300, -200, 0, 150, -100], "drop_strobes": [3], "extra_strobes": [5],
            "taps": 160}


def test_model_tags_match_the_truth() -> None:
    """Sync tags carry the right frame counter, one per strobe; detector tags lie within
    :data:`BOUND` of their true times; calibration tables are built and switched in."""
    case = tagger_case(params(2400))
    res = run_model(case)
    tags = res.tags
    sync = tags.channel == SYNC_CHANNEL
    event_cycle = {k: c for c, k, _f in case.events}
    assert res.join.missing == 1 and res.join.extra == 1 and sum(tags.late) == 0
    strobes = case.truth[SYNC_CHANNEL]
    for t, k in zip(tags.time[sync].tolist(), tags.frame[sync].tolist(), strict=True):
        t += case.cfg.skew[SYNC_CHANNEL]
        true = strobes[np.abs(strobes - t).argmin()]
        assert abs(true - t) < BOUND
        assert 0 <= t - (event_cycle[k] - case_delay(case)) * T < T + BOUND
    for ch in range(TDC_CHANNELS - 1):
        got = tags.time[tags.channel == ch].astype(np.float64) + case.cfg.skew[ch]
        err = got[:, None] - case.truth[ch][None, :]
        assert np.all(np.abs(err).min(axis=1) < BOUND), ch
    assert all(c.tables_switched > 0 for c in res.calibrators)
    assert sum(sync) == len(case.events) - 1


def test_dense_and_run_length_codes_agree() -> None:
    case = tagger_case(params(1200))
    sparse = run_model(case)
    dense = run_time_tagger([line.codes(r, w, case.cycles + SETTLE_CYCLES)
                             for line, (r, w) in zip(case.lines, case.pulses, strict=True)],
                            [k for _c, k, _f in case.events], [c for c, _k, _f in case.events],
                            case.cycles + SETTLE_CYCLES, case.cfg)
    assert np.array_equal(sparse.tags.time, dense.tags.time) and len(dense.tags.time) > 50
    assert model_counters(sparse) == model_counters(dense)


def case_delay(case) -> int:
    return params(0)["event_delay"]


def test_config_errors() -> None:
    with pytest.raises(TaggerConfigError):
        TaggerConfig(skew=(0, 0))
    # channel 5 cycles, calibrator 3, a period of fine time
    assert safe_max_lags(TaggerConfig())[0] == 9 * T


@pytest.mark.parametrize("backend", backend_params())
def test_time_tagger_body(backend: str) -> None:
    p = params(1200 if backend == "icarus" else 2400)
    run_body(backend, tagger_dut(p), bodies.time_tagger, case="time_tagger", params=p)
