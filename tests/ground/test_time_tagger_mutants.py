"""TimeTagger's constructor arguments the body runs leave at one value: the epoch at the top of
the 64-bit range (and below zero), the default of no initial tables, a wrong table count."""

import pytest
from amaranth.sim import Simulator

from models.constants import FABRIC_CLOCK_PS, TDC_CHANNELS
from rtl.ground.time_tagger import TimeTagger

SMALL = {"taps": 16, "cal_period": 32, "cal_hits": 4}


@pytest.mark.parametrize(("epoch", "first"), [((1 << 64) - 1, (1 << 64) - 1),
                                              (-FABRIC_CLOCK_PS, (1 << 64) - FABRIC_CLOCK_PS)])
def test_coarse_clock_starts_at_the_epoch_modulo_2_64_and_wraps(epoch: int, first: int) -> None:
    dut = TimeTagger(epoch=epoch, **SMALL)
    seen = []

    async def bench(ctx):
        for _ in range(3):
            seen.append(ctx.get(dut.now_ps))
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert seen == [(first + k * FABRIC_CLOCK_PS) % (1 << 64) for k in range(3)]


def test_without_initial_tables_every_calibrator_starts_uncalibrated() -> None:
    dut = TimeTagger(**SMALL)
    assert [cal.config.initial for cal in dut.calibrators] == [None] * TDC_CHANNELS


@pytest.mark.parametrize("count", [TDC_CHANNELS - 1, TDC_CHANNELS + 1])
def test_initial_tables_for_another_channel_count_are_refused(count: int) -> None:
    with pytest.raises(ValueError, match=f"initial needs {TDC_CHANNELS} tables or None, "
                                         f"not {count}"):
        TimeTagger(initial=[None] * count, **SMALL)
