"""TdcChannel on the behavioural delay line, bit-exact against models.ground.tdc.run_channel."""

import numpy as np
import pytest

from models.constants import FABRIC_CLOCK_PS
from models.ground.tdc import (
    ChannelConfig,
    ChannelResult,
    DelayLine,
    channel_input,
    default_pulses,
)
from rtl.ground.tdc import TdcChannel
from tb.dual import backend_params, run_body
from tb.ground import bodies
from tb.ground.tdc import COUNTERS, ChannelRun, line_dut, mixed_hits, simulate_channel

LINE = DelayLine()
CYCLES = 1500


def expected_hits(res: ChannelResult, channel: int) -> list[dict]:
    return [{"coarse": int(c), "fine": int(f), "channel": channel, "calibration": int(k)}
            for c, f, k in zip(res.coarse.tolist(), res.fine.tolist(),
                               res.calibration.tolist(), strict=True)]


def check(run: ChannelRun, cfg: ChannelConfig) -> ChannelResult:
    """Every hit in order, every counter and flag of the RTL equal to the model's."""
    res = run.model(cfg)
    assert run.hits == expected_hits(res, cfg.channel)
    want = {"lost_dead": res.lost_dead, "lost_pileup": res.lost_pileup, "lost_overflow": 0,
            "coverage_errors": res.coverage_errors, "stuck_events": res.stuck_events,
            "lost_calibration": res.lost_calibration}
    assert run.counters == want
    assert run.flags == {"coverage_error": int(res.coverage_flag), "stuck": int(res.stuck_flag)}
    return res


def mixed(seed: int) -> np.ndarray:
    return mixed_hits(seed, CYCLES)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_mixed_hits_bit_exact(seed: int) -> None:
    rises = mixed(seed)
    cfg = ChannelConfig(channel=seed % 5)
    res = check(simulate_channel(LINE, rises, default_pulses(rises), CYCLES, cfg), cfg)
    assert len(res.fine) > 40 and res.lost_dead > 0
    assert LINE.merged(rises, default_pulses(rises)) > 0


def test_every_carry_output() -> None:
    line = DelayLine(taps=LINE.taps * LINE.stride, stride=1)
    rises = mixed(6)
    cfg = ChannelConfig(channel=1)
    res = check(simulate_channel(line, rises, default_pulses(rises), CYCLES, cfg), cfg)
    assert len(res.fine) > 40 and res.coverage_errors == 0


def test_stuck_input_and_clear() -> None:
    rises = np.array([20 * FABRIC_CLOCK_PS + 500.0, 100 * FABRIC_CLOCK_PS + 800.0])
    widths = np.array([float(default_pulses(rises)[0]), np.inf])
    cfg = ChannelConfig(channel=4, stuck_cycles=30)
    res = check(simulate_channel(LINE, rises, widths, 200, cfg), cfg)
    assert res.stuck_flag and res.stuck_events == 1 and len(res.fine) == 2
    cleared = simulate_channel(LINE, rises, widths, 200, cfg, clear_at=198)
    assert cleared.hits == expected_hits(res, 4)
    assert cleared.flags == {"coverage_error": 0, "stuck": 0}
    assert set(cleared.counters.values()) == {0}


def test_short_line_reported() -> None:
    short = DelayLine(taps=LINE.taps * 5 // 8)
    rng = np.random.default_rng(5)
    rises = np.sort(rng.choice(np.arange(10, 600, 6), 60, replace=False)) * FABRIC_CLOCK_PS
    rises = rises + rng.uniform(0, FABRIC_CLOCK_PS, 60)
    cfg = ChannelConfig()
    res = check(simulate_channel(short, rises, default_pulses(rises), 620, cfg), cfg)
    assert res.coverage_flag and res.coverage_errors > 5


def test_pileup_and_rollover() -> None:
    base = 100 * FABRIC_CLOCK_PS + 1000.0
    rises = np.append(base + np.arange(6) * 9_160.0, 109 * FABRIC_CLOCK_PS + 900.0)
    rises = np.append(rises, [150 * FABRIC_CLOCK_PS + 40.0, 170 * FABRIC_CLOCK_PS - 40.0])
    cfg = ChannelConfig(channel=2, dead_cycles=1, epoch=(1 << 64) - 160 * FABRIC_CLOCK_PS)
    res = check(simulate_channel(LINE, rises, default_pulses(rises), 200, cfg), cfg)
    assert res.lost_pileup == 1
    assert int(res.coarse[-1]) < 20 * FABRIC_CLOCK_PS < (1 << 63) < int(res.coarse[0])


def test_backpressure_loses_and_counts() -> None:
    rises = np.arange(10, 200, 10) * FABRIC_CLOCK_PS + 300.0
    run = simulate_channel(LINE, rises, default_pulses(rises), 210, ready=False)
    res = run.model(ChannelConfig())
    assert run.hits == []
    assert run.counters["lost_overflow"] == len(res.fine) - 1
    assert {k: run.counters[k] for k in COUNTERS if k != "lost_overflow"} == {
        "lost_dead": 0, "lost_pileup": 0, "coverage_errors": 0, "stuck_events": 0,
        "lost_calibration": 0}


def test_stuck_threshold_is_exact() -> None:
    """With ``stuck_cycles`` 2 a 10 ns pulse holds tap 0 high for 1 or 2 samples: the event
    count depends on the threshold to the cycle."""
    rises = mixed(4)
    cfg = ChannelConfig(stuck_cycles=2)
    res = check(simulate_channel(LINE, rises, default_pulses(rises), CYCLES, cfg), cfg)
    assert 0 < res.stuck_events < len(res.fine)


@pytest.mark.parametrize("backend", backend_params())
def test_channel_on_line_dual(backend: str) -> None:
    """One body on the Amaranth simulator and the generated Verilog (Verilator, Icarus)."""
    params = {"taps": LINE.taps, "stride": LINE.stride, "hits_seed": 7, "cycles": 600,
              "channel": 3, "seed": 0}
    run_body(backend, line_dut(params), bodies.tdc_channel, case="tdc_on_line", params=params)


def test_calibration_slots_classified_and_blanked() -> None:
    """Behind the calibration mux (period 32): the oscillator's hits leave flagged, detector
    hits in a slot vanish, phantom edges and hits in the cycle after a slot are blanked and
    counted in ``lost_calibration``; RTL equal to the model."""
    rng = np.random.default_rng(8)
    cycles, period = 1200, 32
    det = np.sort(rng.uniform(1000, (cycles - 10) * FABRIC_CLOCK_PS, 60))
    # pulses still high at a slot's end (phantom rise) and rising in the cycle after a slot
    ends = (np.arange(3, 30, 3) * period + 8) * FABRIC_CLOCK_PS
    det = np.sort(np.concatenate([det, ends - 4000.0, ends + 1000.0]))
    rises, widths = channel_input(det, default_pulses(det), 0, cycles, period, 5, 1)
    cfg = ChannelConfig(channel=1, cal_period=period, dead_cycles=1)
    res = check(simulate_channel(LINE, rises, widths, cycles, cfg), cfg)
    phase = res.cycle % period
    assert res.calibration.sum() > 30 and set(phase[res.calibration]) <= {2, 3}
    assert not (res.calibration & (phase > 8)).any()
    assert res.lost_calibration >= 9
    assert not ((phase == 9) | (phase == 1)).any()


@pytest.mark.parametrize("period", [1000, 16, 0])
def test_bad_cal_period_is_named(period: int) -> None:
    with pytest.raises(ValueError, match=f"cal_period {period} must be a power of two"):
        TdcChannel(0, cal_period=period)
