"""End-to-end co-simulation on both simulators: every stream checked, zero mismatches; a wrong
model input is caught (the scoreboard cannot pass vacuously); scenario windows (slow: full)."""

from dataclasses import replace

import pytest

from sim.e2e import link_lines, run_e2e
from sim.e2e_scenario import SCENARIO_DIR, LinkSide, load_scenario
from tb.e2e.link_check import LINK_STREAMS
from tb.e2e.scoreboard import STREAMS

SHORT_FRAMES = 8  # the first two frames give no reports (docs/e2e.md, "Sync path")
REGRESSION_FRAMES = 30
ICARUS_SMOKE_CYCLES = 1500
# cloud-bursts: the uplink burst at 0.5 ms costs the satellite receiver its lock, the downlink
# burst from 0.9 to 1.3 ms the ground's; 12 frames + 4 to drain end at 1.7 ms
WINDOW_FRAMES = {"cloud-bursts": 12}
CORRUPT_CHANNEL, CORRUPT_HIT = 2, 17  # the model's raw hit 17 of TDC channel 2 is made wrong
# Short windows in the default run (the others' short windows are slow-marked, with the full ones).
DEFAULT_SCENARIOS = ("cloud-bursts", "low-elevation", "doppler-approaching", "doppler-receding")
# Scenarios whose link cannot work: checked by their own test, not by assert_clean.
LINK_DOWN_SCENARIOS = ("unlockable",)
# The flight memories at the real light time decide no frame in a short window: their own test
# (tests/memory/test_flight_e2e.py).
SCENARIOS = sorted(p.stem for p in SCENARIO_DIR.glob("*.toml")
                   if p.stem not in (*LINK_DOWN_SCENARIOS, "flight"))
# the recovered clocks against their receivers' references (sim.e2e_clocks)
DOPPLER_PPM = {"doppler-approaching": (27.0, 23.0), "doppler-receding": (-27.0, -23.0)}


def assert_clean(result: dict) -> None:
    streams = result["streams"]
    assert result["mismatches"] == 0, {k: v for k, v in streams.items() if v["mismatches"]}
    assert all(streams[name]["compared"] > 0 for name in (*STREAMS, *LINK_STREAMS)), streams
    assert result["detections"] > 0 and result["sifted_bits"] > 0


@pytest.mark.cocotb
def test_short_window_matches_models_on_verilator():
    nominal = load_scenario(SCENARIO_DIR / "nominal.toml")
    result = run_e2e("verilator", nominal, SHORT_FRAMES, case="e2e_test")
    assert_clean(result)
    assert result["cache_answer_status"]["ok"] > 0
    # The end of a 30-frame window: answers left in an unfinished capture batch must be read,
    # and the squasher's last pulse, still in the ground FPGA at the end, must not be expected
    # by the model: every stream complete, nothing beyond.
    window = run_e2e("verilator", nominal, REGRESSION_FRAMES, case="e2e_test")
    assert_clean(window)
    streams = window["streams"]
    assert streams["reports"]["compared"] == window["detections"]
    assert streams["satellite_key"]["compared"] == window["key_bits_expected"]["satellite"]
    # every frame of the window is decided by the satellite, none missing, on a clean line
    link = window["link"]
    assert link["uplink_frames"] >= REGRESSION_FRAMES and link["uplink_missing"] == 0
    assert link["uplink"]["locks"] == link["downlink"]["locks"] == 1
    assert link["uplink"]["lock_losses"] == link["downlink"]["lock_losses"] == 0
    assert all(r["sent"] == r["accepted"] > 0 and r["dropped"] == 0
               for r in window["replay_batches"].values())
    # Same build: a corrupted model input (every 7th detection's bit) must be reported.
    bad = run_e2e("verilator", nominal, SHORT_FRAMES, case="e2e_test", corrupt=True)
    assert bad["streams"]["reports"]["mismatches"] > 0
    assert bad["streams"]["ground_key"]["mismatches"] > 0
    assert bad["streams"]["satellite_key"]["mismatches"] == 0  # the satellite's key is right
    # Same build: one raw hit of the TDC model changed is the first mismatch, on its stream.
    hit = run_e2e("verilator", nominal, SHORT_FRAMES, case="e2e_test",
                  corrupt_hit=(CORRUPT_CHANNEL, CORRUPT_HIT))
    first = hit["first_mismatch"]
    assert first["stream"] == "raw_hits" and hit["streams"]["raw_hits"]["mismatches"] == 1
    assert first["context"] == {"channel": CORRUPT_CHANNEL, "beat_of_channel": CORRUPT_HIT}
    assert first["expected"]["fine"] == first["received"]["fine"] ^ 1
    assert first["expected"]["coarse"] == first["received"]["coarse"]


@pytest.mark.cocotb
def test_dead_link_is_reported_without_a_key():
    """A line that is noise from the first bit both ways: no receiver locks, the satellite
    declares every uplink frame missing on expiry (no hang), neither side has a key bit, the
    models agree (zero mismatches) and the summary says the link is down."""
    nominal = load_scenario(SCENARIO_DIR / "nominal.toml")
    dead = LinkSide(bursts=((0.0, 1.0),))
    result = run_e2e("verilator", replace(nominal, uplink=dead, downlink=dead), SHORT_FRAMES,
                     case="e2e_test")
    assert result["mismatches"] == 0, result["streams"]
    link = result["link"]
    assert link["uplink"]["locks"] == link["downlink"]["locks"] == 0
    assert not link["uplink"]["locked"] and not link["downlink"]["locked"]
    assert link["uplink_frames"] == link["uplink_missing"] == link["uplink_expired"] > 0
    assert result["sifted_bits_per_side"] == {"satellite": 0, "ground": 0}
    assert result["streams"]["reports"]["compared"] == result["detections"] > 0
    assert "LINK DOWN" in link_lines(link) and "NOT LOCKED" in link_lines(link)


@pytest.mark.cocotb
def test_icarus_smoke_window():
    """Icarus runs this top at ~100 cycles/s: the default run checks the first symbol batches
    (every stream's compared beats must agree); the full window is the slow test below."""
    nominal = load_scenario(SCENARIO_DIR / "nominal.toml")
    result = run_e2e("icarus", nominal, 2, case="e2e_test", max_cycles=ICARUS_SMOKE_CYCLES)
    assert result["truncated"] and result["mismatches"] == 0
    assert result["streams"]["symbols"]["compared"] >= 1


@pytest.mark.slow
@pytest.mark.cocotb
def test_short_window_matches_models_on_icarus():
    result = run_e2e("icarus", load_scenario(SCENARIO_DIR / "nominal.toml"), SHORT_FRAMES,
                     case="e2e_test")
    assert_clean(result)


@pytest.mark.cocotb
@pytest.mark.parametrize("name", [
    s if s in DEFAULT_SCENARIOS else pytest.param(s, marks=pytest.mark.slow)
    for s in SCENARIOS if s != "nominal"])
def test_scenario_short_window_on_verilator(name):
    result = run_e2e("verilator", load_scenario(SCENARIO_DIR / f"{name}.toml"),
                     WINDOW_FRAMES.get(name, SHORT_FRAMES), case="e2e_test")
    assert_clean(result)
    links, link = result["clocks"]["links"], result["link"]
    if name in DOPPLER_PPM:
        down, up = DOPPLER_PPM[name]
        assert links["downlink"]["rate_ppm"] == pytest.approx(down, abs=0.1)
        assert links["uplink"]["rate_ppm"] == pytest.approx(up, abs=0.1)
        # each CDR locks once and holds, each PHY receiver locks once after it
        for side in ("uplink", "downlink"):
            assert link[side]["cdr_locked"] and link[side]["cdr_lock_losses"] == 0
            assert link[side]["locks"] == 1 and link[side]["lock_losses"] == 0
        assert link["uplink_missing"] == 0


@pytest.mark.cocotb
def test_unlockable_clock_recovery_is_reported_without_a_key():
    """CDRs that tune only +-10 ppm at the pass's largest Doppler (27 ppm): neither recovered
    clock locks, nothing locks behind them, every uplink frame is declared missing (no hang),
    no key bit on either side, zero mismatches (the models agree bit for bit), and the summary
    says so."""
    result = run_e2e("verilator", load_scenario(SCENARIO_DIR / "unlockable.toml"),
                     SHORT_FRAMES, case="e2e_test")
    assert result["mismatches"] == 0, result["streams"]
    link = result["link"]
    for side in ("uplink", "downlink"):
        assert link[side]["cdr_lock_word"] is None and not link[side]["cdr_locked"]
        assert link[side]["locks"] == 0 and link[side]["words_delivered"] == 0
        assert link[side]["bits_received"] > 0  # the line ran: its bits were taken, unlocked
    assert link["uplink_frames"] == link["uplink_missing"] == link["uplink_expired"] > 0
    assert result["sifted_bits_per_side"] == {"satellite": 0, "ground": 0}
    assert result["streams"]["reports"]["compared"] == result["detections"] > 0
    lines = link_lines(link)
    assert "LINK DOWN" in lines and "CDR NOT LOCKED at the end (never locked" in lines


@pytest.mark.slow
@pytest.mark.cocotb
@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_full_window_on_verilator(name):
    result = run_e2e("verilator", load_scenario(SCENARIO_DIR / f"{name}.toml"),
                     case="e2e_test")
    assert_clean(result)
