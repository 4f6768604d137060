"""The synthesis top: elaborates, exposes the ports the system wiring uses, and its internal
wiring (indexer -> squasher + histogram) matches the models."""

import random

import numpy as np
import pytest
from amaranth.back import rtlil

from models.constants import SQUASH_SEED
from models.ground.calibration import phase_histogram
from models.ground.squash import squash
from models.ground.sync import SyncConfig
from models.ground.timing import IndexerConfig, Status, run_indexer
from rtl.ground.tops import SYNTH_TOPS, GroundRx
from tb import pysim
from tb.ground.host import read_histogram
from tb.ground.streams import DELTA, doppler_stream
from tb.packing import detection_payloads, tag_payloads
from tb.runner import SIMULATORS, run_cocotb

FRAME_BITS = 256


def test_ground_rx_top_converts():
    top = SYNTH_TOPS["ground_rx"]()
    assert isinstance(top, GroundRx)
    text = rtlil.convert(top, name="ground_rx")
    for port in ("bits__valid", "frames__payload", "tags__payload", "detections__payload",
                 "delta", "gate_half", "locked", "hist_addr", "hist_data", "slips"):
        assert f"\\{port}" in text


def test_ground_rx_tags_to_detections_and_histogram():
    """Indexer -> fork -> squasher and histogram inside the top, against the models; some
    detections doubled by an equal-time tag on another detector (multi-click pulses with
    identical time stamps, as the e2e channel stimulus produces them)."""
    _, _, time, channel, frame = doppler_stream(7_500.0, 1.0, frames=3, seed=5)
    det = np.flatnonzero(channel < 4)
    twin = det[det.size // 3::15][:8]
    time, frame = np.insert(time, twin + 1, time[twin]), np.insert(frame, twin + 1, 0)
    channel = np.insert(channel, twin + 1, (channel[twin] + 2) % 4)
    cfg = IndexerConfig(delta=DELTA)
    recs = run_indexer(time, channel, frame, cfg)
    want = squash(recs, SQUASH_SEED)[:-1]  # the last pulse waits for a next detection
    assert sum(d.mask & (d.mask - 1) != 0 for d in want) >= 4
    hist_want = phase_histogram(np.array([r.r16 for r in recs if r.status == Status.ACCEPTED]))
    dut = GroundRx()
    rng = random.Random(1)
    got: list[int] = []
    bins: list[int] = []
    tags = tag_payloads(time, channel, frame)

    async def host(ctx):
        ctx.set(dut.delta, cfg.delta)
        ctx.set(dut.gate_half, cfg.gate_half)
        for tag in tags:
            await pysim.stream_put(ctx, dut.tags, tag)
        while len(got) < len(want):
            await ctx.tick()
        await ctx.tick().repeat(50)
        bins.extend(await read_histogram(ctx, dut))

    pysim.run(dut, host, background=[pysim.consumer(dut.detections, len(want), got, rng,
                                                    stall=0.3)])
    assert got == detection_payloads(want).tolist()
    assert bins == hist_want.tolist()


@pytest.mark.cocotb
@pytest.mark.parametrize("simulator", SIMULATORS)
def test_ground_rx_cocotb(simulator):
    """Sync detector, calibration step (histogram) and the operating chain under bit slips and
    lost sync words, through the generated Verilog (one build per simulator)."""
    top = GroundRx(SyncConfig(frame_bits=FRAME_BITS))
    run_cocotb(top, "tb.ground.cocotb_ground_rx", simulator, case="ground_rx",
               params={"seed": 3, "idle": 0.3, "stall": 0.3, "frame_bits": FRAME_BITS})
