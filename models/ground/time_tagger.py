"""Golden model of the time tagger (:class:`rtl.ground.time_tagger.TimeTagger`): the block
models composed with the cycle offsets of the RTL's wiring.

::

    codes[ch] --run_channel--> raw hits (edge cycle c) --run_calibrator--> tags (cycle c + 8)
                                  accepted at c + 5 (the calibrator always accepts: the merge
                                  and the join never stall it)
    channels 0..3 tags ------------------------------------------------> merge inputs 0..3
    channel 4 tags (strobes) --+
    frame events (cycle e) ----+--run_join--> (t_k, k) (valid cycle) --> merge input 4
    frame events ----------------> every calibrator's frame_strobe at cycle e
    merge (now = epoch + c * FABRIC_CLOCK_PS) --run_merge--> tags

:func:`run_time_tagger` starts from the sampled codes of each channel;
:func:`run_time_tagger_hits` from the channels' raw hits (for runs too long to hold every
code: the channel model applied piecewise gives the same hits).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from models.constants import (
    FABRIC_CLOCK_PS,
    TDC_CAL_HITS,
    TDC_CAL_PERIOD,
    TDC_CHANNELS,
    TDC_DEAD_CYCLES,
    TDC_STUCK_CYCLES,
    TDC_TAPS,
)
from models.ground.strobe_guard import GUARD_DEFAULTS, GuardConfig, run_guard, tap0_edges
from models.ground.sync_join import SYNC_CHANNEL, JoinConfig, JoinResult, run_join
from models.ground.tdc import CHANNEL_LATENCY, ChannelConfig, ChannelResult, run_channel
from models.ground.tdc_calibration import (
    CALIBRATOR_LATENCY,
    CalibratorConfig,
    CalibratorResult,
    run_calibrator,
)
from models.ground.tdc_merge import Coarse, MergeInput, MergeResult, run_merge

MERGE_DEPTH = 32
JOIN_DEPTH = 4
JOIN_TIMEOUT_CYCLES = 6
"""Cycles from a join window's deadline to its tag on the merge input, with margin (the first
even cycle after the deadline decides, the next acts, the tag is valid one later)."""
JOIN_EVENT_CYCLES = 12
"""Cycles from a frame event's arrival to its tag on the merge input when its strobe is
already waiting, with margin (FIFO 2, then open, take, close: a decision and an action each)."""
DETECTORS = SYNC_CHANNEL
"""Detector channels (0..3); the sync strobe is channel :data:`SYNC_CHANNEL`."""


JOIN_DEFAULTS = JoinConfig()


class TaggerConfigError(ValueError):
    """A time-tagger configuration that cannot work (named with its numbers)."""


@dataclass(frozen=True)
class TaggerConfig:
    """Parameters and registers of the time tagger.

    ``skew``, ``initial``: per channel (``initial[ch]`` the start-up table or None);
    ``max_lag_ps``: per merge input (detectors 0..3, joined sync 4), default
    :func:`safe_max_lags`."""

    taps: int = TDC_TAPS
    epoch: int = 0
    cal_period: int = TDC_CAL_PERIOD
    cal_hits: int = TDC_CAL_HITS
    starve_cycles: int | None = None
    dead_cycles: int = TDC_DEAD_CYCLES
    stuck_cycles: int = TDC_STUCK_CYCLES
    skew: tuple[int, ...] = (0,) * TDC_CHANNELS
    initial: tuple[tuple[int, ...] | None, ...] = (None,) * TDC_CHANNELS
    join: JoinConfig = JOIN_DEFAULTS
    max_lag_ps: tuple[int, ...] | None = None
    merge_depth: int = MERGE_DEPTH
    guard: GuardConfig = GUARD_DEFAULTS
    """The sync channel's strobe guard (:mod:`models.ground.strobe_guard`)."""

    def __post_init__(self) -> None:
        for name in ("skew", "initial"):
            if len(getattr(self, name)) != TDC_CHANNELS:
                raise TaggerConfigError(f"{name} needs {TDC_CHANNELS} entries, "
                                        f"not {len(getattr(self, name))}")
        if self.max_lag_ps is not None and len(self.max_lag_ps) != TDC_CHANNELS:
            raise TaggerConfigError(f"max_lag_ps needs {TDC_CHANNELS} entries")
        if self.join.depth != JOIN_DEPTH:
            raise TaggerConfigError(f"the time tagger's join FIFO has {JOIN_DEPTH} entries")

    def lags(self) -> tuple[int, ...]:
        return self.max_lag_ps if self.max_lag_ps is not None else safe_max_lags(self)

    def calibrator(self, ch: int) -> CalibratorConfig:
        starve = self.starve_cycles if self.starve_cycles is not None else \
            2 * self.cal_hits * self.cal_period
        return CalibratorConfig(channel=ch, taps=self.taps, cal_hits=self.cal_hits,
                                cal_period=self.cal_period, starve_cycles=starve,
                                skew=self.skew[ch], initial=self.initial[ch])

    def channel(self, ch: int) -> ChannelConfig:
        return ChannelConfig(channel=ch, dead_cycles=self.dead_cycles,
                             stuck_cycles=self.stuck_cycles, epoch=self.epoch,
                             cal_period=self.cal_period)


def safe_max_lags(cfg: TaggerConfig) -> tuple[int, ...]:
    """Per merge input, the largest lag its tags can have, so that none is ever late.

    A detector tag leaves its calibrator ``CHANNEL_LATENCY + CALIBRATOR_LATENCY`` cycles after
    its sampling edge with ``time = edge - table - skew`` (table entries below one period), so
    its lag is at most ``(CHANNEL_LATENCY + CALIBRATOR_LATENCY + 1) T + skew``. A joined sync
    tag leaves when its window closes, at the latest by the timeout: ``t >= lo``, the deadline
    is ``2 tolerance + strobe_lag`` after ``lo``, and the join decides on an even cycle and acts
    on the next (``JOIN_TIMEOUT_CYCLES``); or, when the strobe came first, right after its event
    (``t >= stamp + offset - tolerance``): event FIFO, open, take, close, each a decision and an
    action (``JOIN_EVENT_CYCLES``)."""
    t = FABRIC_CLOCK_PS
    det = [(CHANNEL_LATENCY + CALIBRATOR_LATENCY + 1) * t + max(0, s) for s in cfg.skew]
    j = cfg.join
    sync = max(2 * j.tolerance_ps + j.strobe_lag_ps + JOIN_TIMEOUT_CYCLES * t,
               -j.offset_ps + j.tolerance_ps + JOIN_EVENT_CYCLES * t)
    return (*det[:DETECTORS], sync)


@dataclass
class TaggerResult:
    """The merged tags (:class:`models.ground.tdc_merge.MergeResult`) and every block's result."""

    tags: MergeResult
    channels: list[ChannelResult]
    calibrators: list[CalibratorResult]
    join: JoinResult
    calibrated: list[bool] = field(default_factory=list)
    """Per channel: a table is active at the end (the initial one or a switched-in one)."""


def run_time_tagger(codes: Sequence[np.ndarray | tuple[np.ndarray, np.ndarray]],
                    event_frames: Sequence[int], event_cycles: Sequence[int], cycles: int,
                    cfg: TaggerConfig = TaggerConfig()) -> TaggerResult:
    """Every tag and counter of the time tagger for the sampled codes of each channel and
    frame events (frame counters, arrival cycles), over ``cycles`` cycles. ``codes[ch]``: bool
    ``[cycles, taps]`` from cycle 0, or the run-length coded ``(cycle, codes)`` of
    :meth:`models.ground.tdc.DelayLine.sparse_codes` over ``cycles`` cycles."""
    if len(codes) != TDC_CHANNELS:
        raise TaggerConfigError(f"the time tagger needs codes of {TDC_CHANNELS} channels")
    hits = []
    for ch, c in enumerate(codes):
        rows, code, span = (*c, cycles) if isinstance(c, tuple) else (
            None, np.asarray(c)[:cycles], None)
        skipped = None
        if ch == SYNC_CHANNEL:
            edges = tap0_edges(code[:, 0], rows)
            skipped = run_guard(edges[edges < cycles], cycles, cfg.cal_period, cfg.guard).skipped
        hits.append(run_channel(code, cfg.channel(ch), cycle=rows, cycles=span, skipped=skipped))
    return run_time_tagger_hits(hits, event_frames, event_cycles, cycles, cfg)


def run_time_tagger_hits(hits: Sequence[ChannelResult], event_frames: Sequence[int],
                         event_cycles: Sequence[int], cycles: int,
                         cfg: TaggerConfig = TaggerConfig()) -> TaggerResult:
    """:func:`run_time_tagger` from the channels' raw hits (``hits[ch]`` as
    :func:`models.ground.tdc.run_channel` gives them)."""
    strobes = np.asarray(event_cycles, dtype=np.int64)
    cals, merge_in = [], []
    join_in: tuple[np.ndarray, np.ndarray] | None = None
    for ch, h in enumerate(hits):
        accepted = h.cycle + CHANNEL_LATENCY
        res = run_calibrator(h.coarse, h.fine, h.calibration, accepted, strobes, cycles,
                             cfg.calibrator(ch))
        cals.append(res)
        arrive = accepted[res.source] + CALIBRATOR_LATENCY
        keep = arrive < cycles
        if ch == SYNC_CHANNEL:
            join_in = (res.time[keep], arrive[keep])
        else:
            merge_in.append(MergeInput(res.time[keep], arrive[keep], channel=ch))
    now = Coarse.linear(cfg.epoch, FABRIC_CLOCK_PS)
    join = run_join(event_frames, event_cycles, join_in[0].tolist(), join_in[1].tolist(), now,
                    cfg.join, cycles)
    keep = join.cycle < cycles
    merge_in.append(MergeInput(join.time[keep], join.cycle[keep], channel=SYNC_CHANNEL,
                               frame=join.frame[keep]))
    tags = run_merge(merge_in, now, cfg.lags(), cfg.merge_depth, cycles=cycles,
                     frame_inputs=(SYNC_CHANNEL,))
    calibrated = [cfg.initial[ch] is not None or c.tables_switched > 0
                  for ch, c in enumerate(cals)]
    return TaggerResult(tags, list(hits), cals, join, calibrated)
