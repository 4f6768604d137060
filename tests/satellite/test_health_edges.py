"""QrngHealthIntake at its cutoffs and window boundaries (SPEC 3.1, SP 800-90B 4.4): the
repetition count exactly at the cutoff, one below and one above, the adaptive proportion count
likewise, and hits on either side of a window boundary. Each case states the beat of the first
alarm (``tb.satellite.bodies.health_edges``); the golden model and the RTL must both give it.

Default configuration (the ``health_l4`` Verilog of ``test_health.py``, one build): H = 7 bits,
alpha = 2**-64, so C_RCT = 11; window W = 512, C_APT = 35. Channel 0 carries the RCT runs of
the value 0, channel 1 the APT hits of 0 (every other beat, so they never form a run)."""

import numpy as np
import pytest

from models.health import HealthConfig, run_health_tests
from rtl.satellite.health import QrngHealthIntake
from tb.dual import backend_params, run_body
from tb.satellite import bodies

CONFIG = HealthConfig()
RCT, APT, W = 11, 35, 512


def test_default_cutoffs_are_the_stated_ones():
    assert (CONFIG.rct_cutoff, CONFIG.apt_cutoff, CONFIG.apt_window) == (RCT, APT, W)


def run(start: int, length: int) -> list[int]:
    return list(range(start, start + length))


def hits(start: int, count: int) -> list[int]:
    return list(range(start, start + 2 * count, 2))


def rct_cases() -> list[dict]:
    s = 20
    return [
        {"name": "rct_below", "beats": 60, "rct": run(s, RCT - 1), "want": [None, False, False]},
        {"name": "rct_at", "beats": 60, "rct": run(s, RCT), "want": [s + RCT - 1, True, False]},
        {"name": "rct_above", "beats": 60, "rct": run(s, RCT + 1),
         "want": [s + RCT - 1, True, False]},
        # From the first beat after reset (the RTL's last-sample register resets to 0 too).
        {"name": "rct_at_from_reset", "beats": 30, "rct": run(0, RCT),
         "want": [RCT - 1, True, False]},
        {"name": "rct_below_from_reset", "beats": 30, "rct": run(0, RCT - 1),
         "want": [None, False, False]},
    ]


def apt_cases() -> list[dict]:
    beats = W + 40
    last = W - 1  # last sample of window 0
    return [
        {"name": "apt_below", "beats": beats, "apt": hits(0, APT - 1),
         "want": [None, False, False]},
        {"name": "apt_at", "beats": beats, "apt": hits(0, APT),
         "want": [2 * (APT - 1), False, True]},
        {"name": "apt_above", "beats": beats, "apt": hits(0, APT + 1),
         "want": [2 * (APT - 1), False, True]},
        # The cutoff-th hit on the window's last sample still counts in that window.
        {"name": "apt_at_on_last_sample", "beats": beats, "apt": [*hits(0, APT - 1), last],
         "want": [last, False, True]},
        # One hit short in window 0, two more on window 1's first and third samples: the count
        # restarts at window 1's first sample, so APT + 1 hits across the boundary pass.
        {"name": "apt_below_across_boundary", "beats": beats,
         "apt": [*hits(0, APT - 1), W, W + 2], "want": [None, False, False]},
    ]


@pytest.mark.parametrize("backend", backend_params())
def test_health_alarm_exactly_at_each_cutoff_not_below(backend):
    run_body(backend, QrngHealthIntake(4), bodies.health_edges, case="health_l4",
             params={"lanes": 4, "seed": 4, "idle": 0.1, "stall": 0.2,
                     "cases": [*rct_cases(), *apt_cases()]},
             verilog_key=repr(CONFIG))


def test_an_empty_window_passes_with_no_alarm():
    """Zero beats (an intake that has seen nothing yet): no failing beat, no alarm, no error."""
    for lanes in (1, 4):
        verdict = run_health_tests(np.zeros((0, lanes), dtype=np.uint32))
        assert (verdict.fail_beat, verdict.rct, verdict.apt) == (None, False, False)
