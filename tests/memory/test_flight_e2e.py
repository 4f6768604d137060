"""The end-to-end co-simulation at flight size (``configs/scenarios/flight.toml``: the
DRAM-backed RND cache and record store of the FPGA tops on the behavioural DRAM port model, the
real light time of the pass's longest range, detections at about the design rate), Verilator,
slow: a lossless link decides every frame in time, and a 50 ms uplink burst loses the frames the
golden satellite says, declared missing (the first ones on the cache deadline), with every
stream against the models."""

from dataclasses import replace
from pathlib import Path

import pytest

from models.memory.flight import UPLINK_BURST_S, flight_pass_sizes
from sim.e2e import run_e2e
from sim.e2e_scenario import (
    SCENARIO_DIR,
    E2eParams,
    LinkSide,
    ScenarioError,
    load_scenario,
    scenario_params,
)

FLIGHT = SCENARIO_DIR / "flight.toml"
# Frames of 2**16 pulses (105 us). The round trip at the window's light time (4.57 ms) is about
# 90 frames, the check's margin a few more: 150 frames decide the first 109.
LOSSLESS_FRAMES = 150
# The burst starts after the first frames are decided and ends 50 ms later; the window runs on
# until every frame lost in it is declared missing and the link is decided again.
BURST_START_S = 0.012
BURST_FRAMES = 800


def test_flight_scenario_runs_the_flight_sizes():
    sizes = flight_pass_sizes()
    params = scenario_params(load_scenario(FLIGHT))
    assert params.memory == "dram"
    assert params.lanes * params.cache_rows == sizes.cache_pulses == 1 << 24
    assert params.record_depth == sizes.store_records
    # the sender keeps every message of the outage and the cache life unacknowledged
    assert params.sender_window * (1 << 16) >= UPLINK_BURST_S * sizes.pulse_rate_hz \
        + sizes.cache_pulses


def test_compressed_scenarios_keep_the_top_defaults():
    assert scenario_params(load_scenario(SCENARIO_DIR / "nominal.toml")) == E2eParams()


def test_unknown_memory_is_one_clear_error(tmp_path: Path):
    path = tmp_path / "ddr.toml"
    path.write_text('pass = "configs/passes/jinan-2022-09-25.toml"\nmemory = "ddr"\n')
    with pytest.raises(ScenarioError, match="memory='ddr' must be one of 'compressed', 'flight'"):
        load_scenario(path)


def _flight_run(frames: int, bursts: tuple = ()) -> dict:
    scenario = load_scenario(FLIGHT)
    if bursts:
        scenario = replace(scenario, uplink=LinkSide(bursts=bursts))
    result = run_e2e("verilator", scenario, frames, case="e2e_flight")
    assert result["mismatches"] == 0, {k: v for k, v in result["streams"].items()
                                       if v["mismatches"]}
    counters = result["counters"]
    assert counters["gnd_store_full"] == 0 and counters["report_overflow"] == 0, counters
    return result


@pytest.mark.slow
@pytest.mark.cocotb
def test_flight_e2e_lossless():
    lossless = _flight_run(LOSSLESS_FRAMES)
    link = lossless["link"]
    assert link["uplink_frames"] >= LOSSLESS_FRAMES // 2
    assert link["uplink_missing"] == link["uplink_expired"] == 0
    assert lossless["cache_answer_status"].get("expired", 0) == 0
    assert lossless["cache_answer_status"]["ok"] > 0
    assert min(lossless["sifted_bits_per_side"].values()) > 0


@pytest.mark.slow
@pytest.mark.cocotb
def test_flight_e2e_uplink_burst():
    burst = _flight_run(BURST_FRAMES, ((BURST_START_S, UPLINK_BURST_S),))
    link = burst["link"]
    missing = link["missing_frames"]
    frame_s = (1 << 16) / flight_pass_sizes().pulse_rate_hz
    # one contiguous run of lost frames, about the burst long, the first declared on expiry
    assert missing == list(range(missing[0], missing[-1] + 1))
    assert abs(len(missing) * frame_s - UPLINK_BURST_S) < 0.1 * UPLINK_BURST_S, len(missing)
    assert link["uplink_expired"] > 0
    assert link["uplink_frames"] > missing[-1] + 1  # decided again after the burst
