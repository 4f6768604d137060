"""Pulse indexer RTL against the golden model: Amaranth simulator and cocotb (both simulators)."""

import random

import numpy as np
import pytest

from models.ground.stimulus import StimulusConfig, linear_range
from models.ground.timing import IndexerConfig, Record, Status, index_stream
from rtl.ground.indexer import PulseIndexer
from rtl.ground.layouts import pack_tag, unpack_record
from tb import pysim
from tb.ground.streams import (
    DELTA,
    bad_stream,
    doppler_stream,
    garbage_stream,
    perturb,
    wrongly_indexed,
)
from tb.runner import SIMULATORS, run_cocotb


def simulate(time, channel, frame, cfg: IndexerConfig, seed: int) -> list[tuple]:
    dut = PulseIndexer(cfg)
    result = index_stream(time, channel, frame, cfg)
    expected = result.records
    rng = random.Random(seed)
    got: list[int] = []
    slips: list[int] = []
    take = pysim.consumer(dut.records, len(expected), got, rng, stall=0.3)

    async def registers(ctx):
        ctx.set(dut.delta, cfg.delta)
        ctx.set(dut.gate_half, cfg.gate_half)
        await take(ctx)
        slips.append(ctx.get(dut.slips))

    tags = [pack_tag(t, c, f) for t, c, f in zip(time.tolist(), channel.tolist(),
                                                  frame.tolist(), strict=True)]
    pysim.run(dut, registers, background=[pysim.producer(dut.tags, tags, rng, idle=0.3)])
    want = [(r.n, r.channel, r.r16, int(r.status)) for r in expected]
    assert [unpack_record(g) for g in got] == want
    assert slips == [result.slips]
    return want


@pytest.mark.parametrize("rate, ppm", [(7_500.0, 1.0), (-7_500.0, -1.0)])
def test_indexer_matches_model_at_max_doppler(rate, ppm):
    stim, offset, time, channel, frame = doppler_stream(rate, ppm)
    want = simulate(time, channel, frame, IndexerConfig(delta=DELTA), seed=4)
    det = stim.channel < 4
    # photons whose true delay lies inside the gate (less a 4-sigma sync-jitter margin)
    # (the first interval is the bit-slip guard's reference, on probation: NO_SYNC)
    inside = (np.abs(offset[det]) < 400 - 170) & (stim.pulse[det] >= 78 * 2**16)
    got = np.array([(n, s) for n, _, _, s in want], dtype=np.int64)
    assert inside.sum() > 60
    assert (got[inside, 1] == Status.ACCEPTED).all()
    assert np.array_equal(got[inside, 0], stim.pulse[det][inside])


def test_indexer_bad_stream_statuses():
    time, channel, frame = bad_stream()
    want = simulate(time, channel, frame, IndexerConfig(delta=0, depth=2), seed=5)
    assert {s for *_, s in want} == set(range(8))


def test_indexer_garbage_stream():
    time, channel, frame = garbage_stream(11)
    want = simulate(time, channel, frame, IndexerConfig(delta=100, depth=8), seed=6)
    assert all(s != Status.ACCEPTED for *_, s in want)


def test_indexer_link_faults():
    """Slips of +1 and -2 bits (re-anchored), a timing fault that is no slip (hold), lost
    sync words and re-acquisition (hold and shift cleared)."""
    cfg = StimulusConfig(frames=11, first_frame=300, range_m=linear_range(900e3, -7_000.0),
                         clock_ppm=-20.0, delta_ps=DELTA, noise_seed=8,
                         background_cps=20_000.0, transmittance=1e-3)
    p = perturb(cfg, slips={303: 1, 305: -2, 307: 0.4}, lost=(308, 309))
    want = simulate(*p.tags, IndexerConfig(delta=DELTA, depth=64), seed=9)
    records = [Record(n, c, r, Status(s)) for n, c, r, s in want]
    assert wrongly_indexed(p, records) == 0
    status = [s for *_, s in want]
    assert status.count(Status.ACCEPTED) > 100 and status.count(Status.BAD_PERIOD) > 50


# slow: the ground_rx cocotb test (tests/ground/test_tops.py) runs the indexer on both simulators
@pytest.mark.slow
@pytest.mark.cocotb
@pytest.mark.parametrize("simulator", SIMULATORS)
def test_indexer_cocotb(simulator):
    run_cocotb(PulseIndexer(IndexerConfig(delta=DELTA, depth=256)), "tb.ground.cocotb_indexer",
               simulator, case="ground_indexer",
               params={"delta": DELTA, "depth": 256, "seed": 8, "idle": 0.3, "stall": 0.3})
