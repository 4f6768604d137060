"""SyncJoin: RTL and model agree cycle for cycle (exact-cycle harness), every fault counted as
the rules say, and one body on pysim, Verilator and Icarus."""

import numpy as np
import pytest

from models.constants import FABRIC_CLOCK_PS
from models.ground.sync_join import JoinConfig, JoinConfigError, JoinResult, run_join
from rtl.ground.sync_join import SyncJoin
from tb.dual import backend_params, run_body
from tb.ground import bodies
from tb.ground.sync_join import JoinStimulus, join_stimulus, simulate_join
from tb.ground.tdc_merge import tick_coarse

T = FABRIC_CLOCK_PS
CFG = JoinConfig(offset_ps=-20 * T, tolerance_ps=5 * T, strobe_lag_ps=8 * T)
LATER = JoinConfig(offset_ps=2 * T, tolerance_ps=5 * T, strobe_lag_ps=8 * T)
"""Strobes after their events: an open window waits for them, so the timeout matters."""
COUNTERS = ("missing", "ambiguous", "extra", "overflow")


def run_both(s: JoinStimulus, now, cfg: JoinConfig, cycles: int) -> JoinResult:
    want = run_join(s.frames, s.event_cycles, s.strobe_times, s.strobe_cycles, now, cfg, cycles)
    got = simulate_join(s, now, cfg, cycles)
    for f in ("time", "frame", "cycle"):
        assert np.array_equal(getattr(got, f), getattr(want, f)), f
    assert [getattr(got, c) for c in COUNTERS] == [getattr(want, c) for c in COUNTERS]
    return want


def joined_right(s: JoinStimulus, res: JoinResult, now, cfg: JoinConfig) -> None:
    """Every joined tag is a strobe inside the window of the event with its frame counter."""
    stamp = {k: now.at(c) for k, c in zip(s.frames, s.event_cycles, strict=True)}
    for t, k in zip(res.time.tolist(), res.frame.tolist(), strict=True):
        assert t in s.strobe_times
        assert abs(t - stamp[k] - cfg.offset_ps) <= cfg.tolerance_ps


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_faults_bit_exact(seed: int) -> None:
    now = tick_coarse(5 * 10**9 + seed)
    s = join_stimulus(seed, 60, CFG, now, fault_rate=0.5)
    res = run_both(s, now, CFG, s.event_cycles[-1] + 200)
    joined_right(s, res, now, CFG)
    assert res.missing > 3 and res.ambiguous >= 1 and res.extra > 3 and len(res.time) > 20


def single(fault: str | None, cfg: JoinConfig = LATER) -> JoinResult:
    """Five clean frames, then one with ``fault``, then five clean ones. ``lag_edge``: the
    strobe at the window's end arrives exactly ``strobe_lag_ps`` later, in the cycle whose
    ``now`` equals the deadline; ``late_arrival``: one picosecond later, so the next cycle."""
    now = tick_coarse(10**9)
    s = join_stimulus(7, 11, cfg, now, fault_rate=0.0)
    if fault is not None:
        x = now.at(s.event_cycles[5]) + cfg.offset_ps
        tol, lag = cfg.tolerance_ps, cfg.strobe_lag_ps
        k = next(i for i, t in enumerate(s.strobe_times) if abs(t - x) <= tol)
        del s.strobe_times[k], s.strobe_cycles[k]
        extra = {"edge_lo": [(x - tol, 0)], "edge_hi": [(x + tol, 0)],
                 "below": [(x - tol - 1, 0)], "above": [(x + tol + 1, 0)],
                 "duplicate": [(x - tol, 0), (x + tol, 0)],
                 "lag_edge": [(x + tol, lag)], "late_arrival": [(x + tol, lag + 1)],
                 "missing": []}[fault]
        for t, delay in extra:
            c = now.first_at_least(t + delay, 0)
            pos = int(np.searchsorted(s.strobe_cycles, c))
            s.strobe_times.insert(pos, t)
            s.strobe_cycles.insert(pos, c)
    res = run_both(s, now, cfg, s.event_cycles[-1] + 200)
    joined_right(s, res, now, cfg)
    return res


@pytest.mark.parametrize(("fault", "joined", "counts"), [
    (None, 11, (0, 0, 0)),
    ("edge_lo", 11, (0, 0, 0)),
    ("edge_hi", 11, (0, 0, 0)),
    ("lag_edge", 11, (0, 0, 0)),
    ("below", 10, (1, 0, 1)),
    ("above", 10, (1, 0, 1)),
    ("missing", 10, (1, 0, 0)),
    ("duplicate", 10, (0, 1, 0)),
    ("late_arrival", 10, (1, 0, 1)),
])
def test_each_fault(fault: str | None, joined: int, counts: tuple[int, int, int]) -> None:
    res = single(fault)
    assert len(res.time) == joined and (res.missing, res.ambiguous, res.extra) == counts
    assert res.frame.tolist() == [k for k in range(1000, 1011) if len(res.time) == 11 or k != 1005]


def test_extra_strobes_between_frames_and_overflow() -> None:
    now = tick_coarse(10**9)
    s = join_stimulus(8, 12, CFG, now, fault_rate=0.0)
    burst = now.at(s.event_cycles[3]) + CFG.offset_ps + CFG.tolerance_ps + T  # after window 3
    for j in range(6):  # six strobes in six cycles, between two windows: the FIFO holds 4
        c = now.first_at_least(burst + j * T, 0)
        pos = int(np.searchsorted(s.strobe_cycles, c))
        s.strobe_times.insert(pos, burst + j * T)
        s.strobe_cycles.insert(pos, c)
    res = run_both(s, now, CFG, s.event_cycles[-1] + 200)
    assert len(res.time) == 12 and res.extra + res.overflow == 6 and res.overflow > 0


def test_wrap_and_positive_offset() -> None:
    cfg = JoinConfig(offset_ps=3 * T, tolerance_ps=2 * T, strobe_lag_ps=4 * T)
    now = tick_coarse((1 << 64) - 900 * T)
    s = join_stimulus(9, 20, cfg, now, fault_rate=0.4)
    res = run_both(s, now, cfg, s.event_cycles[-1] + 200)
    assert int(res.time.min()) < 10**6 and len(res.time) > 8


def test_bad_config() -> None:
    with pytest.raises(JoinConfigError):
        JoinConfig(offset_ps=1 << 31)
    with pytest.raises(JoinConfigError):
        JoinConfig(depth=3)
    with pytest.raises(JoinConfigError):
        SyncJoin(depth=6)


def test_comparison_can_fail() -> None:
    now = tick_coarse(10**9)
    s = join_stimulus(1, 20, CFG, now, fault_rate=0.5)
    wrong = JoinConfig(offset_ps=CFG.offset_ps + T, tolerance_ps=CFG.tolerance_ps,
                       strobe_lag_ps=CFG.strobe_lag_ps)
    want = run_join(s.frames, s.event_cycles, s.strobe_times, s.strobe_cycles, now, wrong,
                    s.event_cycles[-1] + 200)
    got = simulate_join(s, now, CFG, s.event_cycles[-1] + 200)
    assert not (np.array_equal(got.time, want.time) and got.missing == want.missing
                and got.extra == want.extra)


# The time tagger's cocotb test runs this block on the generated Verilog too: the cocotb
# cases here are slow (make test-slow).
@pytest.mark.parametrize("backend", backend_params(slow_cocotb=True))
def test_join_body(backend: str) -> None:
    run_body(backend, SyncJoin(), bodies.sync_join, case="sync_join",
             params={"seed": 4, "idle": 0.3, "stall": 0.4, "phases": 8 if backend == "icarus"
                     else 30, "offset_ps": -3 * T, "tolerance_ps": T, "strobe_lag_ps": 6 * T})
