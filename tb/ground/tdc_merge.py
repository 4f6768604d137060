"""Stimulus and harness of the time-ordered merge (:class:`rtl.ground.tdc_merge.TimeOrderedMerge`).

:func:`merge_stimulus` draws seeded tags for N inputs with their arrival cycles: random lags
inside each input's bound, tags exactly at the bound and one picosecond beyond it, ties across
inputs, tags older than their input's previous one, idle stretches and bursts.
:func:`simulate_merge` runs them through the RTL at those cycles (:func:`tb.ground.cycle_feed.
run_cycles`) and returns what :func:`models.ground.tdc_merge.run_merge` returns, for a
field-by-field comparison.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from models.constants import FABRIC_CLOCK_PS
from models.ground.tdc_merge import MASK64, Coarse, MergeInput, MergeResult
from rtl.common.payload import pack, unpack
from rtl.ground.layouts import Tag
from rtl.ground.tdc_merge import TimeOrderedMerge
from tb.ground.cycle_feed import run_cycles


def merge_stimulus(seed: int, lags: Sequence[int], cycles: int, now: Coarse,
                   rate: float = 0.15, burst: int = 0) -> list[MergeInput]:
    """Tags of ``len(lags)`` inputs arriving within cycles ``[0, cycles)`` (``rate`` per input
    and cycle; ``burst`` back-to-back tags at the start of input 0 for the overflow case)."""
    rng = np.random.default_rng(seed)
    out = []
    shared: list[int] = []
    for i, lag in enumerate(lags):
        arrive = np.flatnonzero(rng.random(cycles) < rate)
        if i == 0 and burst:
            arrive = np.union1d(arrive, np.arange(10, 10 + burst))
        times, prev = [], None
        for a in arrive.tolist():
            kind = rng.random()
            u = (lag if kind < 0.05 else lag + 1 if kind < 0.08 else max(lag - 1, 0)
                 if kind < 0.11 else int(rng.integers(0, lag + 1)))  # at, past, below the bound
            t = now.at(a) - u
            older = prev is not None and kind < 0.14 and kind >= 0.11
            if older:
                t = prev - int(rng.integers(1, 5000))  # before its input's previous tag
            elif prev is not None and kind < 0.2 and (near := [x for x in shared
                                                          if 0 <= now.at(a) - x <= lag]):
                t = max(near[int(rng.integers(len(near)))], prev)  # ties with other inputs
            elif prev is not None:
                t = max(t, prev)
            times.append(t & MASK64)
            shared.append(t)
            if not older:
                prev = t
        out.append(MergeInput(np.array(times, dtype=np.uint64), arrive,
                              channel=i % 8, frame=i * 1000))
    return out


def simulate_merge(inputs: Sequence[MergeInput], now: Coarse, max_lag_ps: Sequence[int],
                   depth: int, cycles: int, ready: Callable[[int], bool] | None = None,
                   frame_inputs: Sequence[int] | None = None) -> MergeResult:
    """The RTL merge run on ``inputs`` at their arrival cycles; result as the model's."""
    n = len(inputs)
    dut = TimeOrderedMerge(n, depth, frame_inputs=frame_inputs)
    feeds = {f"i{i}": [(int(c), pack(Tag, {"time": int(t), "channel": int(ch), "frame": int(f)}))
                       for c, t, ch, f in zip(inp.cycle.tolist(), inp.time.tolist(),
                                              inp.channel.tolist(), inp.frame.tolist(),
                                              strict=True)]
             for i, inp in enumerate(inputs)}
    lag_word = sum(int(v) << (32 * i) for i, v in enumerate(max_lag_ps))
    run = run_cycles(dut, feeds, now, cycles, ["o"], registers={"max_lag_ps": lag_word},
                     ready=ready, read=["late", "overflow"])
    tags = [unpack(Tag, p) for _c, p in run.beats["o"]]
    channel_input = {int(inp.channel[0]): i for i, inp in enumerate(inputs) if len(inp.time)}
    words = [[(run.final[name] >> (32 * i)) & 0xFFFF_FFFF for i in range(n)]
             for name in ("late", "overflow")]
    return MergeResult(np.array([t["time"] for t in tags], dtype=np.uint64),
                       np.array([t["channel"] for t in tags], dtype=np.int64),
                       np.array([t["frame"] for t in tags], dtype=np.int64),
                       np.array([channel_input[t["channel"]] for t in tags], dtype=np.int64),
                       np.array([c for c, _p in run.beats["o"]], dtype=np.int64),
                       words[0], words[1])


def tick_coarse(epoch: int = 0) -> Coarse:
    """The TDC's coarse counter from ``epoch``."""
    return Coarse.linear(epoch, FABRIC_CLOCK_PS)


PHASE_CYCLES = 400
"""Model cycles per phase of :func:`phased_merge_case`: room for every release of a phase."""
PHASE_STEP_PS = 1_000_000


def phased_merge_case(seed: int, lags: Sequence[int], phases: int,
                      per_phase: int = 4) -> tuple[list[MergeInput], Coarse]:
    """Stimulus for a test body whose ``now_ps`` is a register set once per phase (the dual
    back ends cannot drive it per cycle): phase ``k`` has ``now = 10**9 + k * PHASE_STEP_PS`` and
    up to ``per_phase`` tags per input with lags up to one past each bound, ties and tags older
    than their predecessor; a last phase with no tags moves ``now`` past every bound. With ``now``
    constant inside a phase, what leaves and what is dropped does not depend on the arrival
    cycles inside the phase, so the model's cycles (tags 2 cycles apart from the phase start)
    stand for any idle pattern."""
    rng = np.random.default_rng(seed)
    nows = [10**9 + k * PHASE_STEP_PS for k in range(phases)] + [10**12]
    starts = [-1] + [k * PHASE_CYCLES for k in range(1, phases + 1)]
    now = Coarse.steps_at(starts, nows)
    times: list[list[int]] = [[] for _ in lags]
    cycles: list[list[int]] = [[] for _ in lags]
    prev: list[int | None] = [None] * len(lags)
    for k in range(phases):
        pool: list[int] = []
        for i, lag in enumerate(lags):
            m = int(rng.integers(0, per_phase + 1))
            us = sorted((int(rng.choice([lag, lag + 1, max(lag - 1, 0)])) if rng.random() < 0.3
                         else int(rng.integers(0, lag + 1))) for _ in range(m))[::-1]
            for j, u in enumerate(us):
                t = nows[k] - u
                if pool and rng.random() < 0.2:
                    t = pool[int(rng.integers(len(pool)))]
                if prev[i] is not None and rng.random() < 0.1:
                    t = prev[i] - int(rng.integers(1, 1000))
                else:
                    t = max(t, prev[i] or t)
                    prev[i] = t
                pool.append(t)
                times[i].append(t)
                cycles[i].append(k * PHASE_CYCLES + 2 + 2 * j)
    return [MergeInput(np.array(times[i], dtype=np.uint64), np.array(cycles[i], dtype=np.int64),
                       channel=i, frame=7 * i) for i in range(len(lags))], now
