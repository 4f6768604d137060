"""Calibration histogram RTL against models.ground.calibration.phase_histogram."""

import random

import numpy as np

from models.constants import PULSE_PERIOD_PS
from models.ground.calibration import calibrate_delta, peak_phase, phase_histogram
from models.ground.stimulus import StimulusConfig, generate
from models.ground.timing import IndexerConfig, Status, run_indexer
from rtl.ground.histogram import DIV10_MUL, PhaseHistogram
from tb import pysim
from tb.ground.host import read_bins
from tb.packing import record_payloads


def test_constant_divider_is_exact():
    x = np.arange(PULSE_PERIOD_PS)
    assert np.array_equal((x * DIV10_MUL) >> 16, x // 10)


def test_histogram_matches_model_and_calibrates():
    cfg = StimulusConfig(frames=12, noise_seed=4, delta_ps=5_300.0, transmittance=1e-3,
                         background_cps=20_000.0)
    stim = generate(cfg)
    recs = run_indexer(stim.time, stim.channel, stim.frame,
                       IndexerConfig(delta=0, gate_half=PULSE_PERIOD_PS // 2))
    rng = random.Random(3)
    payloads = record_payloads(recs)
    dut = PhaseHistogram()
    bins: list[int] = []

    async def host(ctx):
        ctx.set(dut.clear, 1)
        await ctx.tick()
        ctx.set(dut.clear, 0)
        while ctx.get(dut.busy):
            await ctx.tick()
        for item in payloads:
            while rng.random() < 0.3:
                await ctx.tick()
            await pysim.stream_put(ctx, dut.records, item)
        await ctx.tick().repeat(4)
        bins.extend(await read_bins(ctx, dut.addr, dut.data))

    pysim.run(dut, host)
    r16 = np.array([r.r16 for r in recs if r.status == Status.ACCEPTED])
    want = phase_histogram(r16)
    assert bins == want.tolist()
    assert sum(bins) > 300
    phase = peak_phase(np.array(bins))
    full = calibrate_delta(stim.time, stim.channel, stim.frame, nominal_ps=5_300.0, min_counts=100)
    assert abs(phase - full % PULSE_PERIOD_PS) < 1
