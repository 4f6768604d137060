"""Satellite sifting on the DRAM RND cache and ground sifting out of the DRAM record store
against the golden models, at the flight sizes' proportions (cocotb: Verilator on LiteDRAM and
its DRAM model, Icarus on the behavioural port model over a shorter pass)."""

import pytest

from models.channel.config import REPO_CONFIGS, load_pass
from models.memory.flight import flight_sizes
from tb.memory.sift_harness import compressed_params, run_dram_sift
from tb.runner import SIMULATORS

# Frames of 1024 pulses (Icarus 256): cache 8 frames, light time 1.4 frames, a 15-frame uplink
# burst from frame 4, 12 detections a frame.
WINDOWS = {"verilator": (1024, 30), "icarus": (256, 26)}


@pytest.fixture(scope="module")
def sizes():
    return flight_sizes(load_pass(REPO_CONFIGS / "passes" / "jinan-2022-09-25.toml"))


def test_compressed_pass_keeps_the_flight_proportions(sizes):
    p = compressed_params(sizes, 1024, 30, per_frame=12, store_depth=64)
    assert p["capacity"] == 8 * 1024 and p["light"] == 1399
    assert p["round_trip"] < p["capacity"] and p["burst"] == [4096, 15_259]
    assert p["link_bps"] == pytest.approx(0.25 * 2048)


@pytest.mark.cocotb
@pytest.mark.parametrize("simulator", SIMULATORS)
def test_dram_sift(simulator, sizes):
    frame_pulses, frames = WINDOWS[simulator]
    run_dram_sift(simulator, compressed_params(sizes, frame_pulses, frames, per_frame=12,
                                               store_depth=64))


@pytest.mark.slow
@pytest.mark.cocotb
def test_dram_sift_long_frames(sizes):
    """The same pass with frames of 8192 pulses, 64 detections each, a 256-record store."""
    run_dram_sift("verilator", compressed_params(sizes, 8192, 30, per_frame=64, store_depth=256),
                  case="dram_sift_long")
