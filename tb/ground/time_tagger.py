"""Stimulus of the time tagger from analog times: detector hits and sync strobes through the
calibration mux (:func:`models.ground.tdc.channel_input`) and five behavioural delay lines,
frame events a fixed number of cycles after their strobes.

:func:`tagger_case` builds a case from JSON parameters (the dual body
:func:`tb.ground.bodies.time_tagger` and its DUT :func:`tagger_dut` use it): ``seed``,
``cycles``, ``frame_cycles`` (strobe period, also the strobe guard's), ``strobe_phase``
(cycle of the first strobe in its frame period: outside a calibration slot, which hides any
pulse until the strobe guard has seen one), ``strobe_drift`` (cycles per frame, default 0: the
strobe moves through the slots, which the guard then skips), ``event_delay``
(cycles from a strobe to its frame event), ``rate`` (detector hits per cycle and channel),
``cal_period``, ``cal_hits``, ``skew`` (5 values), and the faults ``drop_strobes`` (frames
whose strobe is missing) and ``extra_strobes`` (frames followed by a spurious strobe 0.45
frames later); ``taps`` (default 320) per line.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from amaranth.hdl import signed
from amaranth.lib import data

from models.constants import (
    FABRIC_CLOCK_PS,
    TDC_CHANNELS,
    TDC_LINE_SEED,
    TDC_SKEW_BITS,
    TDC_TAP_STRIDE,
    TDC_TAPS,
)
from models.ground.strobe_guard import GuardConfig, guarded_input
from models.ground.sync_join import JoinConfig
from models.ground.tdc import CHANNEL_LATENCY, DelayLine, channel_input, default_pulses
from models.ground.tdc_calibration import CALIBRATOR_LATENCY, linear_table
from models.ground.time_tagger import TaggerConfig, TaggerResult, run_time_tagger
from rtl.common.payload import pack
from rtl.ground.tdc_merge import LAG_BITS
from rtl.ground.time_tagger import (
    CALIBRATOR_COUNTERS,
    CALIBRATOR_FLAGS,
    CHANNEL_COUNTERS,
    CHANNEL_FLAGS,
    JOIN_COUNTERS,
    MERGE_COUNTERS,
    TimeTagger,
)
from rtl.simonly.delay_line import DelayLineReplay
from rtl.simonly.tagger_replay import EventReplay, TimeTaggerOnLines

T = FABRIC_CLOCK_PS


@dataclass
class TaggerCase:
    """Lines and their input pulses per channel, events ``(cycle, frame, flywheel)``, the
    configuration, the true detector and strobe times, and the run length."""

    lines: list[DelayLine]
    pulses: list[tuple[np.ndarray, np.ndarray]]
    events: list[tuple[int, int, int]]
    cfg: TaggerConfig
    truth: list[np.ndarray]
    cycles: int


def tagger_case(p: dict) -> TaggerCase:
    rng = np.random.default_rng(p["seed"])
    cycles = p["cycles"]
    taps = p.get("taps", TDC_TAPS)
    # Fewer taps sample every n-th carry output of the same chain (the line covers a period).
    lines = [DelayLine(taps=taps, stride=TDC_TAPS * TDC_TAP_STRIDE // taps,
                       seed=TDC_LINE_SEED + 17 * ch) for ch in range(TDC_CHANNELS)]
    truth = []
    for _ch in range(TDC_CHANNELS - 1):
        n = rng.poisson(p["rate"] * cycles)
        truth.append(np.sort(rng.uniform(20 * T, (cycles - 40) * T, n)))
    frames = np.arange(p["frame_cycles"], cycles - 60, p["frame_cycles"]) + p["strobe_phase"]
    frames += np.floor(np.arange(len(frames)) * p.get("strobe_drift", 0)).astype(np.int64)
    strobes = frames * T + rng.uniform(0, T, len(frames))
    events = [(int(c) + p["event_delay"], 700 + k, int(rng.random() < 0.3))
              for k, c in enumerate(frames)]
    keep = np.ones(len(strobes), dtype=bool)
    keep[list(p.get("drop_strobes", []))] = False
    extra = [strobes[k] + p["frame_cycles"] * T * 0.45 for k in p.get("extra_strobes", [])]
    truth.append(np.sort(np.concatenate([strobes[keep], extra])))
    guard = GuardConfig(frame_cycles=p["frame_cycles"])
    pulses = [channel_input(t, default_pulses(t), 0, cycles, cal_period=p["cal_period"],
                            channel=ch) for ch, t in enumerate(truth[:-1])]
    sync = guarded_input(truth[-1], default_pulses(truth[-1]), 0, cycles, lines[-1],
                         p["cal_period"], cfg=guard)
    pulses.append((sync.rises, sync.widths))
    tol = 2 * T
    # a strobe reaches the join CHANNEL_LATENCY + CALIBRATOR_LATENCY cycles after its sampling
    # edge, up to a period after its time
    join = JoinConfig(offset_ps=-p["event_delay"] * T + T // 2, tolerance_ps=tol,
                      strobe_lag_ps=(CHANNEL_LATENCY + CALIBRATOR_LATENCY + 2) * T)
    cfg = TaggerConfig(taps=taps, cal_period=p["cal_period"], cal_hits=p["cal_hits"],
                       starve_cycles=1 << 24, skew=tuple(p["skew"]), join=join, guard=guard,
                       initial=tuple(tuple(int(v) for v in linear_table(line))
                                     for line in lines))
    return TaggerCase(lines, pulses, events, cfg, truth, cycles)


def tagger_dut(p: dict) -> TimeTaggerOnLines:
    """The tagger on the replayed lines and events of :func:`tagger_case`."""
    case = tagger_case(p)
    return tagger_on_lines(case)


def tagger_on_lines(case: TaggerCase) -> TimeTaggerOnLines:
    cfg = case.cfg
    replays = [DelayLineReplay(line, r, w, case.cycles)
               for line, (r, w) in zip(case.lines, case.pulses, strict=True)]
    tagger = TimeTagger(taps=cfg.taps, epoch=cfg.epoch, cal_period=cfg.cal_period,
                        cal_hits=cfg.cal_hits, starve_cycles=cfg.starve_cycles,
                        initial=cfg.initial, merge_depth=cfg.merge_depth, guard=cfg.guard)
    return TimeTaggerOnLines(replays, EventReplay(case.events), tagger)


SETTLE_CYCLES = 300
"""Cycles after the stimulus in which the last tags leave and the join's timeouts fire."""


def codes(case: TaggerCase) -> list[tuple[np.ndarray, np.ndarray]]:
    """The sampled codes of each channel (what the replays present), run-length coded, with
    :data:`SETTLE_CYCLES` empty cycles after the stimulus."""
    return [line.sparse_codes(r, w, case.cycles + SETTLE_CYCLES)
            for line, (r, w) in zip(case.lines, case.pulses, strict=True)]


def run_model(case: TaggerCase) -> TaggerResult:
    """:func:`models.ground.time_tagger.run_time_tagger` on the case, until its end plus
    :data:`SETTLE_CYCLES`."""
    return run_time_tagger(codes(case), [k for _c, k, _f in case.events],
                           [c for c, _k, _f in case.events], case.cycles + SETTLE_CYCLES,
                           case.cfg)


def registers(cfg: TaggerConfig) -> dict[str, int]:
    """The tagger's register values as flat integers."""
    j = cfg.join
    return {"skew": pack(data.ArrayLayout(signed(TDC_SKEW_BITS), TDC_CHANNELS), list(cfg.skew)),
            "offset_ps": j.offset_ps & 0xFFFF_FFFF, "tolerance_ps": j.tolerance_ps,
            "strobe_lag_ps": j.strobe_lag_ps,
            "max_lag_ps": pack(data.ArrayLayout(LAG_BITS, TDC_CHANNELS), list(cfg.lags())),
            "dead_cycles": cfg.dead_cycles, "stuck_cycles": cfg.stuck_cycles, "clear": 0}


COUNTERS = (*CHANNEL_COUNTERS, *CHANNEL_FLAGS, *CALIBRATOR_COUNTERS, *CALIBRATOR_FLAGS,
            *MERGE_COUNTERS, *JOIN_COUNTERS)
"""Every counter and flag port of the tagger, as :func:`model_counters` predicts them."""


def model_counters(res: TaggerResult) -> dict[str, int]:
    """The tagger's counter and flag ports (flat integers) from the model's block results."""
    per = {name: [int(getattr(c, name, 0)) for c in res.channels] for name in CHANNEL_COUNTERS}
    per.update({name: [int(getattr(c, name)) for c in res.calibrators]
                for name in CALIBRATOR_COUNTERS})
    per.update({"merge_late": res.tags.late, "merge_overflow": res.tags.overflow})
    words = {name: pack(data.ArrayLayout(32, TDC_CHANNELS), v) for name, v in per.items()}
    flags = {"coverage_error": [c.coverage_flag for c in res.channels],
             "stuck": [c.stuck_flag for c in res.channels],
             "calibrated": res.calibrated,
             "starved": [c.starved for c in res.calibrators]}
    words.update({name: sum(int(bool(b)) << ch for ch, b in enumerate(v))
                  for name, v in flags.items()})
    words.update({ours: int(getattr(res.join, theirs)) for ours, theirs in JOIN_COUNTERS.items()})
    return words
