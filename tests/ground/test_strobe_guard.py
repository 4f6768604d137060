"""Strobe guard of the sync channel: RTL (StrobeGuard + the sync line's select, and TdcChannel 4
on a replayed line) against the model in every cycle, and the model over long strobe trains
(phase sweep, drift at +-1 ppm and at the Doppler extreme, missing and jumping strobes, the
calibrator's hits)."""

import numpy as np
import pytest

from models.constants import FABRIC_CLOCK_PS as T
from models.ground.stimulus import tdc_line
from models.ground.strobe_guard import (
    ACQUIRE_FRAMES,
    FRAME_CYCLES,
    GUARD_DEFAULTS,
    GUARD_MARGIN,
    GuardConfig,
    GuardConfigError,
    guarded_input,
    run_guard,
    tap0_edges,
)
from models.ground.tdc import (
    ChannelConfig,
    ChannelResult,
    DelayLine,
    channel_input,
    default_pulses,
    run_channel,
)
from models.ground.tdc_calibration import CalibratorConfig, run_calibrator
from sim import strobe_slots
from tb.ground.strobe_guard import expected, simulate_guard, strobe_rises
from tb.ground.tdc import PIPELINE_CYCLES, simulate_channel

P, F = 32, 160
"""Small calibration and frame periods for the RTL cases (the default ones: model cases)."""
SMALL = GuardConfig(frame_cycles=F)
SHORT_LINE = DelayLine(taps=64, stride=10, seed=99)
"""A short line (a period at 10 carry bits per tap) for the long model runs: the guard sees
only tap 0, the line's resolution does not matter to it."""
DRIFT_1PPM = 1e-6 * FRAME_CYCLES
DRIFT_DOPPLER = (25e-6 + 1e-6) * FRAME_CYCLES
"""Cycles per frame: 7.5 km/s of range rate plus 1 ppm of clock offset, 0.43 cycles."""


def run_sync(rises: np.ndarray, frames: int, line: DelayLine, guarded: bool = True,
             frame_cycles: int = FRAME_CYCLES, cal_period: int = 1024,
             acquire_frames: int = ACQUIRE_FRAMES) -> tuple[ChannelResult, np.ndarray]:
    """Channel 4's hits behind its mux (guarded or not) and the slots the guard skipped."""
    cycles = (frames + 1) * frame_cycles + 64
    cfg = ChannelConfig(channel=4, cal_period=cal_period)
    widths = default_pulses(rises)
    if guarded:
        g = guarded_input(rises, widths, 0, cycles, line, cal_period,
                          cfg=GuardConfig(frame_cycles=frame_cycles,
                                          acquire_frames=acquire_frames))
        return run_channel(g.codes, cfg, g.cycle, cycles, g.guard.skipped), g.guard.skipped
    r, w = channel_input(rises, widths, 0, cycles, cal_period, channel=4)
    rows, codes = line.sparse_codes(r, w, cycles)
    return run_channel(codes, cfg, rows, cycles), np.zeros(0, dtype=np.int64)


def strobes_seen(hits: ChannelResult) -> int:
    return int((~hits.calibration).sum())


def open_loop_tap0(first: int = 1) -> np.ndarray:
    """Tap 0 of a strobe train (2-cycle pulses) from frame ``first`` that drifts through slots,
    with a missing strobe, a jump into a slot, and edges in slot windows (the oscillator's)."""
    cycles = (first + 39) * F
    tap0 = np.zeros(cycles, dtype=bool)
    for j in range(38):
        c = (first + j) * F + 22 - j // 2 + (12 if j >= 29 else 0)
        if j != 13:
            tap0[c:c + 2] = True
    for s in range(0, cycles - P, P):
        tap0[s + 3:s + 5] = True
    return tap0


@pytest.mark.parametrize("first", [1, 20])
def test_guard_rtl_matches_model_every_cycle(first: int) -> None:
    """Skip register, lock and the sync line's select in every cycle, and the skip counter;
    strobes from frame 1, or from frame 20 (acquisition search frames before)."""
    tap0 = open_loop_tap0(first)
    got, want = simulate_guard(tap0, P, SMALL), expected(tap0, P, SMALL)
    for name in ("skip", "locked", "select"):
        assert np.array_equal(getattr(got, name), getattr(want, name)), name
    assert got.skipped == want.skipped > 10


def test_guard_model_fails_on_a_wrong_trace() -> None:
    """The comparison above can fail: a strobe moved by one cycle changes the trace."""
    tap0 = open_loop_tap0()
    moved = np.roll(tap0, 1)
    assert not np.array_equal(expected(tap0, P, SMALL).skip, expected(moved, P, SMALL).skip)


def test_channel_with_guard_matches_model() -> None:
    """TdcChannel 4 with its guard on a replayed line behind the guarded mux: every hit equal
    to the channel model with the model's skipped slots, the guard's skip equal in every cycle;
    the strobe drifts through slots (-0.5 cycles per frame), misses once and jumps into a
    slot; only the hidden jumped strobe is lost."""
    frames = 36
    rises = strobe_rises(frames, 20.5, F, drift=-0.5, missing=[12], jump=(28, -32.0))
    cycles = (frames + 1) * F + 40
    g = guarded_input(rises, default_pulses(rises), 0, cycles, SHORT_LINE, P, cfg=SMALL)
    cfg = ChannelConfig(channel=4, cal_period=P)
    run = simulate_channel(SHORT_LINE, g.rises, g.widths, cycles, cfg, guard=SMALL)
    want = run.model(cfg, g.guard.skipped)
    for field in ("coarse", "fine", "calibration"):
        assert [h[field] for h in run.hits] == getattr(want, field).tolist(), field
    y = np.arange(cycles + PIPELINE_CYCLES)
    skip = g.guard.skip[np.minimum((y - 1 + SMALL.lead) // P, len(g.guard.skip) - 1)]
    assert np.array_equal(run.skip, skip)
    assert run.counters["lost_calibration"] == want.lost_calibration
    assert strobes_seen(want) == len(rises) - 1 and len(g.guard.skipped) > 10


@pytest.mark.parametrize("offset", range(-GUARD_MARGIN - 2, 9 + GUARD_MARGIN + 3))
def test_phase_sweep_every_slot_position(offset: int) -> None:
    """A strobe approaching a slot at 1 cycle per frame and parked with its edge sampled at
    ``s + offset`` (``s`` the slot's first cycle), for every offset from before the guard's
    window to after it: no strobe lost; the slot is skipped exactly when the strobe lies
    within the margin of its blanked window (offsets 1..9); unguarded, the offsets 1..9 lose
    every parked strobe."""
    s, frames = 1024, 24
    path = np.maximum(offset, offset + 16 - np.arange(1, frames + 1))
    rises = ((np.arange(1, frames + 1) * FRAME_CYCLES + s + path) - 0.5) * T
    hits, skipped = run_sync(rises, frames, SHORT_LINE)
    assert strobes_seen(hits) == frames
    last = frames * FRAME_CYCLES // 1024 + 1
    assert (last in skipped) == (1 - GUARD_MARGIN <= offset <= 9 + GUARD_MARGIN)
    parked = rises[16:]
    bare, _ = run_sync(parked, frames, SHORT_LINE, guarded=False)
    assert strobes_seen(bare) == (0 if 1 <= offset <= 9 else len(parked))


@pytest.mark.parametrize(("drift", "frames"), [(DRIFT_1PPM, 1000), (-DRIFT_1PPM, 1000),
                                               (DRIFT_DOPPLER, 200), (-DRIFT_DOPPLER, 200)])
def test_drift_through_a_slot_loses_no_strobe(drift: float, frames: int) -> None:
    """A strobe drifting at +-1 ppm or at the Doppler extreme crosses a slot's whole window:
    every strobe seen; unguarded, the same train loses the strobes in the window."""
    start = 1024 - 3.5 if drift > 0 else 1024 + 13.5
    rises = strobe_rises(frames, start, FRAME_CYCLES, drift=drift)
    hits, skipped = run_sync(rises, frames, SHORT_LINE)
    assert strobes_seen(hits) == frames and len(skipped) > 0
    bare, _ = run_sync(rises, frames, SHORT_LINE, guarded=False)
    assert frames - strobes_seen(bare) >= 8 / abs(drift)


@pytest.mark.slow
@pytest.mark.parametrize("drift", [DRIFT_1PPM, -DRIFT_1PPM, DRIFT_DOPPLER, -DRIFT_DOPPLER])
def test_long_drift_on_the_e2e_line(drift: float) -> None:
    """As above over 3000 frames on the co-simulation's line of channel 4."""
    frames = 3000
    start = 1024 - 3.5 if drift > 0 else 1024 + 13.5
    rises = strobe_rises(frames, start, FRAME_CYCLES, drift=drift)
    hits, skipped = run_sync(rises, frames, tdc_line(4))
    assert strobes_seen(hits) == frames and len(skipped) > 0


def test_missing_strobe_prediction_continues() -> None:
    """A strobe that drifted into a slot's window (1 cycle per frame) and is parked there goes
    missing for one frame: the prediction runs on, the slots from the missing strobe's to the
    next strobe's are skipped (a search frame after the deadline), then one per frame again;
    only the missing strobe is missing."""
    frames, gone = 30, 24
    k = np.arange(1, frames + 1)
    phase = np.maximum(4.5, 24.5 - k)
    rises = ((k * FRAME_CYCLES + 1024 + phase) * T)[k != gone]
    hits, skipped = run_sync(rises, frames, SHORT_LINE)
    assert strobes_seen(hits) == frames - 1

    def slot(frame: int) -> int:
        return frame * FRAME_CYCLES // 1024 + 1

    assert set(range(slot(gone), slot(gone + 1) + 1)) <= set(skipped.tolist())
    assert [j for j in skipped.tolist() if slot(gone + 1) < j <= slot(gone + 2)] == [
        slot(gone + 2)]
    bare, _ = run_sync(rises, frames, SHORT_LINE, guarded=False)
    assert strobes_seen(bare) == np.sum(np.ceil(phase)[k != gone] > 9)


def test_jump_into_a_slot_relearns() -> None:
    """A strobe jumps into a running slot's window: that one strobe is hidden, the search
    frame shows the next one, and the guard skips that slot from then on."""
    frames = 30
    rises = strobe_rises(frames, 1024 + 200.5, FRAME_CYCLES, jump=(12, -195.0))
    hits, skipped = run_sync(rises, frames, SHORT_LINE)
    assert strobes_seen(hits) == frames - 1
    assert set(range(13 * 16 + 1, 30 * 16, 16)) <= set(skipped.tolist())


def test_acquisition_finds_a_strobe_hidden_from_the_start() -> None:
    """A strobe parked in a slot's window from the first frame: before the guard is locked,
    one frame in ``acquire_frames`` (counted from reset) is a search frame, which shows it;
    without the search frames it stays hidden, as with the plain mux."""
    frames = 40
    rises = strobe_rises(frames, 1024 + 4.5, FRAME_CYCLES)
    hits, skipped = run_sync(rises, frames, SHORT_LINE)
    first = GUARD_DEFAULTS.acquire_frames - 1
    assert strobes_seen(hits) == frames - first + 1
    assert skipped[0] == first * 16 + 1  # the search frame's slot that holds the strobe
    hits, skipped = run_sync(rises, frames, SHORT_LINE, acquire_frames=0)
    assert strobes_seen(hits) == 0 and len(skipped) == 0


def test_calibration_still_fills_the_histogram() -> None:
    """A strobe parked in a slot's window for 600 frames: 15 of 16 slots per frame run, every
    one gives a calibration hit, and the calibrator builds its tables at that rate."""
    frames = 600
    rises = strobe_rises(frames, 1024 - 3.5, FRAME_CYCLES, drift=1 / 64)
    hits, skipped = run_sync(rises, frames, SHORT_LINE)
    slots = ((frames + 1) * FRAME_CYCLES + 64) // 1024 + 1
    assert int(hits.calibration.sum()) == slots - len(skipped) >= slots * 15 // 16
    cal_hits = 1024
    cfg = CalibratorConfig(channel=4, taps=SHORT_LINE.taps, cal_hits=cal_hits, cal_period=1024,
                           starve_cycles=2 * cal_hits * 1024)
    res = run_calibrator(hits.coarse, hits.fine, hits.calibration, hits.cycle + 2,
                         np.arange(1, frames + 1) * FRAME_CYCLES, (frames + 1) * FRAME_CYCLES,
                         cfg)
    assert res.tables_built == int(hits.calibration.sum()) // cal_hits and res.starve_events == 0


def test_guard_edges_ignore_running_slots() -> None:
    """Edges in a running slot's window (the oscillator's) never lock the guard; the same edge
    outside it does."""
    cycles = 4 * 1024
    tap0 = np.zeros(cycles, dtype=bool)
    tap0[[1024 + 3, 2048 + 9]] = True
    assert not run_guard(tap0_edges(tap0), cycles).locked.any()
    tap0[3072 + 10] = True
    assert run_guard(tap0_edges(tap0), cycles).locked[-1]


@pytest.mark.parametrize(("cfg", "period", "word"), [
    (GuardConfig(margin=-1), 1024, "margin"),
    (GuardConfig(lead=1), 1024, "lead"),
    (GuardConfig(lead=30), 32, "lead"),
    (GuardConfig(frame_cycles=20), 1024, "frame_cycles"),
    (GuardConfig(acquire_frames=-1), 1024, "acquire_frames"),
])
def test_config_errors(cfg: GuardConfig, period: int, word: str) -> None:
    with pytest.raises(GuardConfigError, match=word):
        cfg.check(period)


def test_measurement_command(capsys: pytest.CaptureFixture[str]) -> None:
    """``python -m sim.strobe_slots``: a short run prints its table and totals; a bad
    parameter is one line and exit status 2."""
    strobe_slots.main(["--frames", "30", "--phases", "2"])
    out = capsys.readouterr().out
    assert out.count("| 30 |") == 4 and "per 10,000 frames" in out
    with pytest.raises(SystemExit) as err:
        strobe_slots.main(["--frames", "0"])
    assert err.value.code == 2 and len(capsys.readouterr().err.strip().splitlines()) == 1
