"""TdcCalibrator against models.ground.tdc_calibration.run_calibrator: every tag bit for bit."""

import numpy as np
import pytest

from models.constants import FABRIC_CLOCK_PS
from models.ground.tdc import ChannelConfig, DelayLine, channel_input, default_pulses, run_channel
from models.ground.tdc_calibration import (
    CalibrationConfigError,
    CalibratorConfig,
    CalibratorResult,
    hit_errors,
    linear_table,
    pulse_train,
    run_calibrator,
    startup_table,
    table_quality,
)
from rtl.ground.tdc_calibration import TdcCalibrator
from tb.dual import backend_params, run_body
from tb.ground.tdc import CalibratorRun, calibrator_dut, calibrator_switch, simulate_calibrator

CHANNEL = 2
PERIOD = 32
dut = TdcCalibrator.from_config


def raw_hits(coarse: np.ndarray, fine: np.ndarray, cal: np.ndarray) -> list[dict]:
    return [{"coarse": int(c), "fine": int(f), "channel": CHANNEL, "calibration": int(k)}
            for c, f, k in zip(coarse.tolist(), fine.tolist(), cal.tolist(), strict=True)]


def check(run: CalibratorRun, coarse: np.ndarray, fine: np.ndarray, cal: np.ndarray,
          strobes: np.ndarray, cycles: int, cfg: CalibratorConfig) -> CalibratorResult:
    """Every tag in order, every counter and flag of the RTL equal to the model's."""
    res = run_calibrator(coarse, fine, cal, run.accepted, strobes, cycles, cfg)
    assert [t["time"] for t in run.tags] == res.time.tolist()
    assert {t["channel"] for t in run.tags} <= {cfg.channel}
    assert {t["frame"] for t in run.tags} <= {0}
    assert run.counters == {"tables_built": res.tables_built,
                            "tables_switched": res.tables_switched,
                            "starve_events": res.starve_events,
                            "uncalibrated": res.uncalibrated, "cal_dropped": res.cal_dropped}
    assert run.flags == {"calibrated": int(cfg.initial is not None or res.tables_switched > 0),
                         "starved": int(res.starved)}
    return res


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 5])
def test_random_hits_bit_exact(seed: int) -> None:
    """Random codes and calibration flags, random 64-bit coarse times, idle and backpressure,
    strobes dense (table waits for none) or sparse (a full histogram waits for a strobe), with
    and without an initial table, seeded."""
    rng = np.random.default_rng(seed)
    taps = int(rng.choice([16, 33, 40]))
    n = 500
    cal = rng.random(n) < rng.uniform(0.1, 0.6)
    fine = rng.integers(0, taps, n)
    coarse = rng.integers(0, 2**64, n, dtype=np.uint64)
    spacing = [37, 400, 5000][seed % 3]
    strobes = np.sort(rng.choice(np.arange(1, 2000), 2000 // spacing + 1, replace=False))
    initial = tuple(rng.integers(0, FABRIC_CLOCK_PS, taps).tolist()) if seed % 2 == 0 else None
    cfg = CalibratorConfig(channel=CHANNEL, taps=taps, cal_hits=[8, 32][seed % 2],
                           cal_period=PERIOD, starve_cycles=64 * PERIOD,
                           skew=int(rng.integers(-30000, 30000)), initial=initial)
    cycles = 1200
    run = simulate_calibrator(dut(cfg), raw_hits(coarse, fine, cal), strobes, cycles,
                              skew=cfg.skew, idle=rng.uniform(0, 0.6), stall=rng.uniform(0, 0.6),
                              seed=seed)
    res = check(run, coarse, fine, cal, strobes, cycles, cfg)
    assert res.tables_built >= 1 and res.cal_dropped > 0
    assert len(res.time) > 50 or initial is None


def line_hits(line: DelayLine, cycles: int, seed: int) -> tuple[np.ndarray, ...]:
    """Raw hits of a channel on ``line`` behind the calibration mux (period :data:`PERIOD`),
    detector pulses at random times: coarse, fine, calibration, sampling cycle."""
    rng = np.random.default_rng(seed)
    det = np.sort(rng.uniform(1000, (cycles - 4) * FABRIC_CLOCK_PS, cycles // 40))
    rises, widths = channel_input(det, default_pulses(det), 0, cycles, PERIOD, seed, CHANNEL)
    res = run_channel(line.codes(rises, widths, cycles),
                      ChannelConfig(channel=CHANNEL, cal_period=PERIOD))
    return res.coarse, res.fine, res.calibration, res.cycle


def test_table_switch_follows_drift() -> None:
    """The line's delays grow by up to 10 % over the run: the second table differs from the
    first, becomes active at a frame strobe after it is ready, and every tag before and after
    the switch is the model's."""
    cycles = 8000
    line = DelayLine(drift=0.1, drift_period_ps=4 * cycles * FABRIC_CLOCK_PS)
    coarse, fine, cal, cycle = line_hits(line, cycles, 11)
    strobes = np.arange(300, cycles, 700)
    cfg = CalibratorConfig(channel=CHANNEL, taps=line.taps, cal_hits=64, cal_period=PERIOD,
                           starve_cycles=64 * PERIOD, skew=-125)
    run = simulate_calibrator(dut(cfg), raw_hits(coarse, fine, cal), strobes,
                              cycles + 4, skew=cfg.skew, at=cycle + 2)
    assert np.array_equal(run.accepted, cycle + 2), "an always-ready calibrator takes every hit"
    res = check(run, coarse, fine, cal, strobes, cycles + 4, cfg)
    assert res.tables_switched >= 2 and res.uncalibrated > 0
    first, second = res.tables[:2]
    # the line is slower for the second table: fewer codes span a clock period (codes above
    # the last one seen have the full period)
    spans = [int((t < FABRIC_CLOCK_PS).sum()) for t in (first, second)]
    assert spans[0] - spans[1] > 8, spans
    assert all(s in strobes for s in res.switches[:2])
    assert all(s >= r for s, r in zip(res.switches, res.ready, strict=True) if s >= 0)


def test_starved_histogram_keeps_the_initial_table() -> None:
    """Too few calibration hits in ``starve_cycles``: counted, flagged, the initial table
    stays in use (no tag changes), a later full histogram still makes a table."""
    rng = np.random.default_rng(7)
    taps, n = 24, 400
    cal = np.zeros(n, dtype=bool)
    cal[rng.choice(n, 40, replace=False)] = True
    fine = rng.integers(0, taps, n)
    coarse = np.arange(n, dtype=np.uint64) * np.uint64(FABRIC_CLOCK_PS * 7)
    initial = tuple(range(0, 24 * 250, 250))
    cfg = CalibratorConfig(channel=CHANNEL, taps=taps, cal_hits=32, cal_period=PERIOD,
                           starve_cycles=32 * PERIOD, initial=initial)
    at = np.arange(n) * 7
    cycles = 7 * n
    run = simulate_calibrator(dut(cfg), raw_hits(coarse, fine, cal), np.arange(5, cycles,
                              50), cycles, at=at)
    res = check(run, coarse, fine, cal, np.arange(5, cycles, 50), cycles, cfg)
    assert res.starve_events == 2 and run.flags["starved"] == 1
    assert res.tables_built == 1 and res.tables_switched == 1
    before = at[~cal] < res.switches[0] + 1
    want = coarse[~cal][before] - np.asarray(initial, dtype=np.uint64)[fine[~cal][before]]
    assert np.array_equal(res.time[:int(before.sum())], want)


def test_skew_and_clear() -> None:
    """The skew shifts every tag by exactly its value (signed); ``clear`` zeroes the counters
    and the starved flag."""
    rng = np.random.default_rng(9)
    taps, n = 20, 120
    cal = rng.random(n) < 0.5
    fine = rng.integers(0, taps, n)
    coarse = rng.integers(1 << 20, 1 << 40, n, dtype=np.uint64)
    initial = tuple(rng.integers(0, FABRIC_CLOCK_PS, taps).tolist())
    times = []
    for skew in (-32768, 0, 32767):
        cfg = CalibratorConfig(channel=CHANNEL, taps=taps, cal_hits=8, cal_period=PERIOD,
                               starve_cycles=8 * PERIOD, skew=skew, initial=initial)
        run = simulate_calibrator(dut(cfg), raw_hits(coarse, fine, cal), [], 400,
                                  skew=skew, idle=0.3, stall=0.3, seed=skew & 7)
        times.append(check(run, coarse, fine, cal, np.array([]), 400, cfg).time.astype(object))
    assert list(times[0] - times[1]) == [32768] * len(times[0])
    assert list(times[1] - times[2]) == [32767] * len(times[0])
    cleared = simulate_calibrator(dut(cfg), raw_hits(coarse, fine, cal), [], 400,
                                  skew=cfg.skew, clear_at=399)
    assert set(cleared.counters.values()) == {0} and cleared.flags["starved"] == 0
    assert run.counters["tables_built"] > 0 and run.counters["cal_dropped"] > 0


@pytest.mark.parametrize("kwargs, words", [
    ({"cal_hits": 48}, ["cal_hits 48", "power of two"]),
    ({"cal_period": 1000}, ["cal_period 1000", "power of two"]),
    ({"cal_period": 16}, ["cal_period 16"]),
    ({"table_bits": 12}, ["table_bits 12", "6400 ps", "13 bits"]),
    ({"cal_hits": 1 << 16, "cal_period": 1024, "starve_cycles": 1 << 25},
     ["never fill", "65536 hits", "cal_period 1024", "67108864", "33554432"]),
    ({"initial": (1, 2, 3)}, ["initial table", "320 entries", "got 3 entries in [1, 3]"]),
    ({"initial": ()}, ["320 entries", "got 0 entries"]),
    ({"initial": (8192,) * 320}, ["[0, 8192)", "in [8192, 8192]"]),
])
def test_bad_parameters_are_named(kwargs: dict, words: list[str]) -> None:
    with pytest.raises(CalibrationConfigError) as err:
        TdcCalibrator(0, **kwargs)
    for word in words:
        assert word in str(err.value), (word, str(err.value))


@pytest.mark.parametrize("backend", backend_params())
def test_calibrator_switch_dual(backend: str) -> None:
    """One body on the Amaranth simulator and the generated Verilog (Verilator, Icarus)."""
    params = {"taps": 24, "cal_hits": 32, "hits_seed": 4, "skew": 1234, "idle": 0.3,
              "stall": 0.3, "seed": 5}
    run_body(backend, calibrator_dut(params), calibrator_switch, case="tdc_calibrator",
             params=params)


SINGLE_HIT_RMS_PS = 22.0
"""Bound on the single-hit RMS error after a 2**14-hit start-up calibration of the default
line: 13.4 ps with the true bin centres (quantisation, jitter, bubbles) plus the table's
statistical error, about 14 ps RMS at 2**14 hits."""


def test_calibrated_hits_are_precise() -> None:
    """Single hits against their true times (constant offset removed: the skew's job): within
    :data:`SINGLE_HIT_RMS_PS` with the code-density table, far outside with the nominal
    linear table of the same line."""
    line = DelayLine()
    rises = pulse_train(2000, 2)
    cycles = int(rises[-1] // FABRIC_CLOCK_PS) + 10
    rms = []
    for table in (startup_table(line, 1 << 14), linear_table(line)):
        err = hit_errors(line, table, rises, cycles)
        assert np.isfinite(err).mean() > 0.98, "only pulses around calibration slots are lost"
        err = err[np.isfinite(err)]
        rms.append(float(np.sqrt(np.mean((err - err.mean()) ** 2))))
    assert rms[0] < SINGLE_HIT_RMS_PS < 2 * SINGLE_HIT_RMS_PS < rms[1], rms
    quality = table_quality(line, startup_table(line, 1 << 14))
    assert quality.inl_ps < 50.0 < table_quality(line, linear_table(line)).inl_ps


def test_short_line_cannot_calibrate() -> None:
    """A line shorter than a clock period: the start-up calibration refuses with the coverage
    errors named, never a table with the codes it cannot see."""
    short = DelayLine(taps=DelayLine().taps * 5 // 8)
    with pytest.raises(CalibrationConfigError, match=r"coverage errors [1-9][0-9]*: the line"):
        startup_table(short, 256, cal_period=32)
