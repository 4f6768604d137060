"""Pulse indexer RTL against the golden model: one body (tb.ground.bodies.indexer) in
Amaranth's simulator and through cocotb, plus what the model must show on each stream."""

import numpy as np
import pytest

from models.ground.timing import IndexerConfig, Record, Status, index_stream
from rtl.ground.indexer import PulseIndexer
from tb.dual import backend_params, run_body
from tb.ground import bodies
from tb.ground.streams import DELTA, doppler_stream, link_fault_stream, tag_stream, wrongly_indexed


def simulate(tags: list[dict], cfg: IndexerConfig, seed: int, backend: str = "pysim",
             case: str = "ground_indexer") -> list[Record]:
    """The RTL against the model on ``tags``; returns the model's records."""
    run_body(backend, PulseIndexer(cfg), bodies.indexer, case=case,
             params={"tags": tags, "delta": cfg.delta, "gate_half": cfg.gate_half,
                     "depth": cfg.depth, "seed": seed, "idle": 0.3, "stall": 0.3})
    return index_stream(*tag_stream(tags), cfg).records


def indexed_gate_photons(records: list[Record], rate: float, ppm: float, frames: int,
                                seed: int) -> int:
    """Photons whose true delay lies inside the gate (less a 4-sigma sync-jitter margin) are
    ACCEPTED with their own pulse (the first interval is the bit-slip guard's reference, on
    probation: NO_SYNC). Returns how many there are."""
    stim, offset, *_ = doppler_stream(rate, ppm, frames, seed)
    det = stim.channel < 4
    inside = (np.abs(offset[det]) < 400 - 170) & (stim.pulse[det] >= 78 * 2**16)
    got = records[:det.sum()]
    assert all(got[k].status == Status.ACCEPTED for k in np.flatnonzero(inside))
    assert np.array_equal(np.array([r.n for r in got], dtype=np.int64)[inside],
                          stim.pulse[det][inside])
    return int(inside.sum())


@pytest.mark.parametrize("rate, ppm", [(7_500.0, 1.0), (-7_500.0, -1.0)])
def test_indexer_matches_model_at_max_doppler(rate, ppm):
    records = simulate([{"kind": "doppler", "rate": rate, "ppm": ppm, "seed": 2}],
                       IndexerConfig(delta=DELTA), seed=4)
    assert indexed_gate_photons(records, rate, ppm, 3, 2) > 60


def test_indexer_bad_stream_statuses():
    records = simulate([{"kind": "bad"}], IndexerConfig(delta=0, depth=2), seed=5)
    assert {r.status for r in records} == set(Status)


def test_indexer_garbage_stream():
    records = simulate([{"kind": "garbage", "seed": 11}], IndexerConfig(delta=100, depth=8),
                       seed=6)
    assert all(r.status != Status.ACCEPTED for r in records)


def test_indexer_link_faults():
    """Slips of +1 and -2 bits (re-anchored), a timing fault that is no slip (hold), lost
    sync words and re-acquisition (hold and shift cleared)."""
    records = simulate([{"kind": "link_faults", "seed": 8}], IndexerConfig(delta=DELTA, depth=64),
                       seed=9)
    assert wrongly_indexed(link_fault_stream(8), records) == 0
    status = [r.status for r in records]
    assert status.count(Status.ACCEPTED) > 100 and status.count(Status.BAD_PERIOD) > 50


# slow on cocotb: the ground_rx cocotb test (tests/ground/test_tops.py) runs the indexer on both
# simulators
@pytest.mark.parametrize("backend", backend_params(slow_cocotb=True))
def test_indexer_doppler_then_garbage(backend):
    """Maximum Doppler and clock offset, then a garbage stream (no overflow at this depth, so
    the first records are the Doppler stretch's, in tag order)."""
    tags = [{"kind": "doppler", "rate": 7_500.0, "ppm": 1.0, "frames": 2, "seed": 8},
            {"kind": "garbage", "seed": 8, "count": 200}]
    records = simulate(tags, IndexerConfig(delta=DELTA, depth=256), seed=8, backend=backend)
    assert indexed_gate_photons(records, 7_500.0, 1.0, 2, 8) > 20
