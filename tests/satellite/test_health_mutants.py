"""QrngHealthIntake behaviour that the source-fault tests do not separate: a repetition alarm on
its own (a stuck source fails both tests, so a broken run counter hid behind the APT alarm)."""

import numpy as np
import pytest

from models.health import HealthConfig, run_health_tests
from models.qrng import qrng_words
from rtl.satellite.health import QrngHealthIntake
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
        delivered += ctx.get(dut.o.valid)
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
