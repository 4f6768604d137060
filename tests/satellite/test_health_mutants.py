"""Health tests beyond the source-fault scoreboard: a repetition alarm on its own (a stuck source
fails both tests, so a broken run counter hid behind the APT alarm) and the exact APT cutoff."""

import numpy as np
import pytest
from scipy.stats import binom

from models.health import HealthConfig, apt_cutoff, run_health_tests
from models.qrng import qrng_words
from rtl.satellite.health import INTAKE_LATENCY, QrngHealthIntake
from tb import pysim

CONFIG = HealthConfig()
RUN_AT = 100  # mid-window: the run's value is not the window's reference sample


def _run_words(length: int) -> np.ndarray:
    """Healthy words with ``length`` copies of one word from beat RUN_AT on, one lane."""
    words = qrng_words(3, np.arange(RUN_AT + length + 40)).astype(np.uint32)
    words[RUN_AT:RUN_AT + length] = words[RUN_AT]
    return words[:, None]


def _intake(words: np.ndarray) -> tuple[int, int, int]:
    """(beats delivered, alarm.rct, alarm.apt) of the one-lane intake, output always ready."""
    dut = QrngHealthIntake(1, CONFIG)
    seen = {}

    async def bench(ctx):
        ctx.set(dut.o.ready, 1)
        delivered = 0
        for w in words[:, 0]:
            ctx.set(dut.i.valid, 1)
            ctx.set(dut.i.payload, [int(w)])
            delivered += ctx.get(dut.o.valid)
            await ctx.tick()
        ctx.set(dut.i.valid, 0)
        for _ in range(INTAKE_LATENCY):  # the last beat through both register stages
            delivered += ctx.get(dut.o.valid)
            await ctx.tick()
        seen["out"] = (delivered, ctx.get(dut.alarm.rct), ctx.get(dut.alarm.apt))

    pysim.run(dut, bench)
    return seen["out"]


@pytest.mark.parametrize("length", [CONFIG.rct_cutoff - 1, CONFIG.rct_cutoff])
def test_a_run_alone_raises_only_the_repetition_alarm_at_the_cutoff(length):
    words = _run_words(length)
    verdict = run_health_tests(words, CONFIG)
    assert not verdict.apt
    want = ((len(words), 0, 0) if verdict.fail_beat is None
            else (verdict.fail_beat, int(verdict.rct), 0))
    assert (verdict.fail_beat is not None) == (length == CONFIG.rct_cutoff)
    assert _intake(words) == want


@pytest.mark.parametrize(("entropy", "alpha_log2", "window"), [
    (7.0, -64.0, 512), (7.0, -20.0, 64), (1.0, -20.0, 1024), (1.0, -1.0, 2), (8.0, -30.0, 1024)])
def test_apt_cutoff_is_the_smallest_count_within_alpha(entropy, alpha_log2, window):
    """Exact against scipy: C is the smallest count with P[1 + Binom(W-1, 2**-H) >= C] <= alpha
    (ties at alpha included: H = 1, alpha = 1/2, W = 2 gives C = 2)."""
    n, p, alpha = window - 1, 2.0**-entropy, 2.0**alpha_log2
    cutoff = apt_cutoff(entropy, alpha_log2, window)
    assert binom.sf(cutoff - 2, n, p) <= alpha * (1 + 1e-9)
    assert binom.sf(cutoff - 3, n, p) > alpha * (1 + 1e-9)

