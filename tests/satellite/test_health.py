"""QRNG health intake: healthy, stuck and biased sources against models.health."""

import numpy as np
import pytest
from amaranth.hdl import ClockDomain
from scipy.stats import binom

from models.health import HealthConfig, apt_cutoff, rct_cutoff, run_health_tests
from models.qrng import qrng_words
from rtl.satellite.health import QrngHealthIntake
from tb import pysim
from tb.dual import backend_params, run_body
from tb.satellite import bodies
from tb.satellite.bodies import faulty_words

# A small window keeps the Amaranth simulation short while exercising the same logic.
SMALL = HealthConfig(apt_window=64)


def test_cutoffs_follow_sp800_90b():
    assert rct_cutoff(7.0, -64) == 11
    assert rct_cutoff(8.0, -20) == 4  # the standard's worked value for H = 8, alpha = 2**-20
    # Binary source, H = 1, W = 1024, alpha = 2**-20: the standard's 1 + CRITBINOM(W, p, 1-a)
    # is 589; ours counts the window's first sample as a certain hit (1 + Binom(W-1)), which
    # is exact for the test as specified and at most one higher.
    assert apt_cutoff(1.0, -20, 1024) - (1 + binom.ppf(1 - 2**-20, 1024, 0.5)) in (0, 1)
    cfg = HealthConfig()
    p = 2.0**-cfg.min_entropy
    tail = binom.sf(np.arange(cfg.apt_cutoff - 3, cfg.apt_cutoff - 1), cfg.apt_window - 1, p)
    assert tail[1] <= 2.0**cfg.alpha_log2 < tail[0]


@pytest.mark.parametrize(("min_entropy", "alpha_log2", "window"),
                         [(1.0, -20, 1031), (1.0, -40, 4096), (7.0, -64, 65536)])
def test_apt_cutoff_of_windows_whose_binomial_coefficients_exceed_a_double(
        min_entropy, alpha_log2, window):
    cutoff = apt_cutoff(min_entropy, alpha_log2, window)
    tail = binom.sf([cutoff - 3, cutoff - 2], window - 1, 2.0**-min_entropy)
    assert tail[1] <= 2.0**alpha_log2 < tail[0]


@pytest.mark.parametrize("kind", ["healthy", "stuck", "biased"])
def test_model_verdicts(kind):
    words = faulty_words(kind, 5, 4000, 4, fault_at=1000)
    verdict = run_health_tests(words)
    if kind == "healthy":
        assert verdict.fail_beat is None
    elif kind == "stuck":
        assert verdict.rct and verdict.fail_beat == 1000 + HealthConfig().rct_cutoff - 2
    else:
        assert verdict.apt and 1000 <= verdict.fail_beat < 1000 + 3 * 512


@pytest.mark.parametrize("kind", ["healthy", "stuck", "biased"])
def test_intake_matches_model(kind):
    """A small APT window keeps the Amaranth simulation short with the same logic."""
    run_body("pysim", QrngHealthIntake(2, SMALL), bodies.health, case="health_l2",
             params={"lanes": 2, "beats": 400, "fault_at": 150, "seed": 11, "kinds": [kind],
                     "apt_window": SMALL.apt_window, "idle": 0.2, "stall": 0.3})


def test_alarm_is_sticky_until_reset():
    lanes = 1
    words = faulty_words("stuck", 2, 200, lanes, fault_at=20)
    dut = QrngHealthIntake(lanes, SMALL)
    sync = ClockDomain("sync")
    seen = {}

    async def bench(ctx):
        ctx.set(dut.o.ready, 1)
        for w in words:
            ctx.set(dut.i.valid, 1)
            ctx.set(dut.i.payload, [int(w[0])])
            await ctx.tick()
        seen["alarm"] = ctx.get(dut.alarm.rct)
        ctx.set(dut.i.payload, [0x12345678])
        await ctx.tick().repeat(3)
        seen["valid_while_alarmed"] = ctx.get(dut.o.valid)
        ctx.set(sync.rst, 1)
        await ctx.tick()
        ctx.set(sync.rst, 0)
        ctx.set(dut.i.payload, [int(qrng_words(9, 0))])
        await ctx.tick().repeat(2)
        seen["after_reset"] = (ctx.get(dut.alarm.rct), ctx.get(dut.o.valid))

    pysim.run(dut, bench, domain=sync)
    assert seen == {"alarm": 1, "valid_while_alarmed": 0, "after_reset": (0, 1)}


@pytest.mark.parametrize("backend", backend_params())
def test_health_kinds_in_a_row(backend):
    """Healthy, stuck and biased sources in a row, each after a reset in mid-stream, at the
    default window (the Verilog case of every health run)."""
    run_body(backend, QrngHealthIntake(4), bodies.health, case="health_l4",
             params={"lanes": 4, "beats": 3000, "fault_at": 1200, "seed": 21,
                     "kinds": ["healthy", "stuck", "biased"], "idle": 0.1, "stall": 0.2})
