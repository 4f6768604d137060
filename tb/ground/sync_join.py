"""Stimulus and harness of the sync-strobe join (:class:`rtl.ground.sync_join.SyncJoin`).

:func:`join_stimulus` draws seeded frame events and sync strobes with their arrival cycles:
strobes jittered inside the window, exactly at either edge and one picosecond beyond,
missing, extra, duplicated and late-arriving strobes, flywheel events.
:func:`simulate_join` runs them through the RTL at those cycles and returns what
:func:`models.ground.sync_join.run_join` returns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.constants import FABRIC_CLOCK_PS
from models.ground.sync_join import SYNC_CHANNEL, JoinConfig, JoinResult
from models.ground.tdc_merge import MASK64, Coarse
from rtl.common.payload import pack, unpack
from rtl.ground.layouts import Tag
from rtl.ground.sync import FrameEvent
from rtl.ground.sync_join import SyncJoin
from tb.ground.cycle_feed import run_cycles

FAULTS = ("missing", "extra", "late_time", "early_time", "edge_hi", "edge_lo", "duplicate",
          "late_arrival")


@dataclass
class JoinStimulus:
    """Events (frame counter, flywheel flag, arrival cycle) and strobes (time, arrival cycle)."""

    frames: list[int]
    flywheel: list[int]
    event_cycles: list[int]
    strobe_times: list[int]
    strobe_cycles: list[int]


def join_stimulus(seed: int, frames: int, cfg: JoinConfig, now: Coarse,
                  period_cycles: int = 64, fault_rate: float = 0.3,
                  first_frame: int = 1000) -> JoinStimulus:
    """``frames`` frame events ``period_cycles`` apart, each with a strobe at
    ``stamp + offset`` +- jitter, and a fault of :data:`FAULTS` on a ``fault_rate`` share."""
    rng = np.random.default_rng(seed)
    tol, lag = cfg.tolerance_ps, cfg.strobe_lag_ps
    ev_cycles = [8 + period_cycles * (k + 1) + int(rng.integers(0, 3)) for k in range(frames)]
    strobes: list[tuple[int, int]] = []  # (unwrapped time, arrival delay in ps)

    def strobe(t: int, delay: int | None = None) -> None:
        strobes.append((t, int(rng.integers(0, lag + 1)) if delay is None else delay))

    for e in ev_cycles:
        x = now.at(e) + cfg.offset_ps
        fault = FAULTS[int(rng.integers(len(FAULTS)))] if rng.random() < fault_rate else None
        jitter = int(rng.integers(-tol, tol + 1))
        if fault == "missing":
            continue
        if fault == "extra":
            strobe(x + jitter)
            strobe(x + 3 * tol + int(rng.integers(FABRIC_CLOCK_PS, 10 * FABRIC_CLOCK_PS)))
        elif fault == "late_time":
            strobe(x + tol + 1)
        elif fault == "early_time":
            strobe(x - tol - 1)
        elif fault == "edge_hi":
            strobe(x + tol)
        elif fault == "edge_lo":
            strobe(x - tol)
        elif fault == "duplicate":
            strobe(x - tol)
            strobe(x + int(rng.integers(-tol // 2, tol + 1)))
        elif fault == "late_arrival":
            strobe(x + jitter, lag + int(rng.integers(FABRIC_CLOCK_PS, 4 * FABRIC_CLOCK_PS)))
        else:
            strobe(x + jitter)
    strobes.sort()
    times, cycles_, last = [], [], -1
    for t, delay in strobes:
        c = now.first_at_least(t + delay, 0)
        # Keep the arrival within the lag unless the case wants it late: one strobe per cycle.
        c = max(c, last + 1)
        times.append(t & MASK64)
        cycles_.append(c)
        last = c
    return JoinStimulus([first_frame + k for k in range(frames)],
                        [int(rng.random() < 0.3) for _ in range(frames)], ev_cycles, times,
                        cycles_)


def registers(cfg: JoinConfig) -> dict[str, int]:
    return {"offset_ps": cfg.offset_ps & 0xFFFF_FFFF, "tolerance_ps": cfg.tolerance_ps,
            "strobe_lag_ps": cfg.strobe_lag_ps}


def event_payloads(s: JoinStimulus) -> list[int]:
    return [pack(FrameEvent, {"frame": k, "position": 16384 * k, "flywheel": f})
            for k, f in zip(s.frames, s.flywheel, strict=True)]


def strobe_payloads(s: JoinStimulus) -> list[int]:
    return [pack(Tag, {"time": t, "channel": SYNC_CHANNEL, "frame": 0}) for t in s.strobe_times]


def simulate_join(s: JoinStimulus, now: Coarse, cfg: JoinConfig, cycles: int) -> JoinResult:
    """The RTL join run on the stimulus at its arrival cycles; result as the model's."""
    feeds = {"events": list(zip(s.event_cycles, event_payloads(s), strict=True)),
             "strobes": list(zip(s.strobe_cycles, strobe_payloads(s), strict=True))}
    run = run_cycles(SyncJoin(cfg.depth), feeds, now, cycles, ["o"], registers=registers(cfg),
                     read=["missing", "ambiguous", "extra", "overflow"])
    tags = [unpack(Tag, p) for _c, p in run.beats["o"]]
    assert all(t["channel"] == SYNC_CHANNEL for t in tags)
    return JoinResult(np.array([t["time"] for t in tags], dtype=np.uint64),
                      np.array([t["frame"] for t in tags], dtype=np.int64),
                      np.array([c for c, _p in run.beats["o"]], dtype=np.int64),
                      **run.final)


PHASE_CYCLES = 200
PHASE_STEP_PS = 1_000_000


def phased_join_case(seed: int, phases: int, cfg: JoinConfig) -> tuple[JoinStimulus, Coarse]:
    """Stimulus for a test body whose ``now_ps`` is a register set once per phase: phase ``k``
    has ``now = 10**9 + k * PHASE_STEP_PS``, an event (most phases) and its strobes with every
    fault of :data:`FAULTS` but the late arrival (which depends on the cycle); a last phase
    moves ``now`` past every deadline. Inside a phase the outcome does not depend on the arrival
    order of event and strobes (``cfg`` must keep ``-offset + tolerance <= strobe_lag``)."""
    rng = np.random.default_rng(seed)
    tol = cfg.tolerance_ps
    nows = [10**9 + k * PHASE_STEP_PS for k in range(phases)] + [10**12]
    starts = [-1] + [k * PHASE_CYCLES for k in range(1, phases + 1)]
    s = JoinStimulus([], [], [], [], [])
    for k in range(phases):
        base = k * PHASE_CYCLES
        if rng.random() < 0.9:
            s.frames.append(500 + k)
            s.flywheel.append(int(rng.random() < 0.3))
            s.event_cycles.append(base + 3)
        x = nows[k] + cfg.offset_ps
        fault = FAULTS[int(rng.integers(len(FAULTS) - 1))] if rng.random() < 0.5 else None
        jitter = int(rng.integers(-tol, tol + 1))
        ts = {"missing": [], "extra": [x + jitter, x + 3 * tol + 1], "late_time": [x + tol + 1],
              "early_time": [x - tol - 1], "edge_hi": [x + tol], "edge_lo": [x - tol],
              "duplicate": [x - tol, x + tol]}.get(fault, [x + jitter])
        for j, t in enumerate(ts):
            s.strobe_times.append(t & MASK64)
            s.strobe_cycles.append(base + 2 + 4 * j)
    return s, Coarse.steps_at(starts, nows)
