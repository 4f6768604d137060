"""Clocks of the end-to-end co-simulation: each FPGA's fabric and each link's recovered clock.

* ``sat`` (the satellite's fabric): 6400 ps off by ``satellite_ppm``;
* ``sync`` (the ground's fabric and the TDC): 6400 ps off by ``satellite_ppm + clock_ppm`` (the
  scenario's ``clock_ppm`` is the ground's clock against the satellite's, as the stimulus
  reads the arrivals with it);
* ``dnrec`` (the ground's recovered downlink clock) and ``uprec`` (the satellite's recovered
  uplink clock): the clock recovery model (:func:`models.link.cdr.recover`) run once per line
  block on the rate the line arrives at against the receiving FPGA's reference: the sender's
  oscillator over the receiver's, times the Doppler factor of the window's range rate
  (:func:`models.link.cdr.relative_rate`), dark wherever a ``bursts`` interval cuts the light.

Each schedule is integer attoseconds (:class:`models.clocks.ClockSchedule`): a 1 ppm offset of
6400 ps is 6.4 fs, which the simulator's 1 ps step cannot hold, so the generator accumulates
attoseconds and rounds every edge to the picosecond on its own (no drift; an edge is within
1 ps of its exact time). The simulator reads the schedules from files at time 0
(:class:`rtl.simonly.clock_gen.LoadedClock`): one build serves every scenario.

Per direction the plan also gives what the testbench feeds the receiver: word ``j`` of the
recovered clock (due at recovered cycle :data:`FIRST_WORD_CYCLE` + ``j``) is the received line
bits :func:`models.link.cdr.sampled_bits` names, with the CDR's lock pin of block ``j``. The
recovered clock's first edges are placed so that word ``j`` comes about a light time and a block
after the sender's block ``j``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.clocks import ClockSchedule, constant_clock, period_as, rising_edges_ps
from models.constants import FABRIC_CLOCK_PS
from models.link import cdr
from models.link.line_code import BLOCK_BITS
from rtl.e2e.top import CLOCKS, LINE_CYCLES, LINE_DOMAINS, POWER_ON_CYCLES
from sim.e2e_scenario import Scenario, ScenarioError, Window

FIRST_WORD_CYCLE = 8
"""Recovered cycle of a line's first word (its replay is out of reset by then)."""
MAX_SEGMENTS = 4096
"""Periods in a recovered clock's table (one per ``segment`` blocks, chosen per window)."""
MIN_SEGMENT = 16
SAT_PHASE = 0.3
"""The satellite's first rising edge, in periods (the ground's is at half a period)."""
SENDER = {"up": "sync", "dn": "sat"}  # the fabric domain of each direction's transmitter


@dataclass(frozen=True)
class ClockPlan:
    """Schedules by domain (:data:`rtl.e2e.top.CLOCKS`); per direction the JSON-ready line
    plan (``offset``, ``first_due``, ``rate_ppm``, ``cdr_lock_block``, ``blocks``) and the
    arrays the testbench reads (``<d>_phase``, ``<d>_locked``, ``<d>_period``)."""

    schedules: dict[str, ClockSchedule]
    lines: dict[str, dict]
    arrays: dict[str, np.ndarray]


def oscillators(scenario: Scenario) -> dict[str, float]:
    """Offset of each fabric clock from its nominal frequency, ppm."""
    return {"sat": scenario.satellite_ppm, "sync": scenario.satellite_ppm + scenario.clock_ppm}


def dark_blocks(blocks: int, dark: list[list[int]]) -> np.ndarray:
    """Per block, whether light arrives: not while a loss-of-signal burst (first line bit,
    bits) covers any of its bits."""
    light = np.ones(blocks, dtype=bool)
    for start, length in dark:
        light[start // BLOCK_BITS:min(blocks, -(-(start + length) // BLOCK_BITS))] = False
    return light


def plan_clocks(scenario: Scenario, window: Window, cycles: int, line: dict[str, dict],
                seed: int) -> ClockPlan:
    """The clocks of a run of ``cycles`` ground cycles (``line``: :func:`sim.e2e_scenario.
    line_channels` of the same run)."""
    ppm = oscillators(scenario)
    schedules = {"sync": constant_clock(FABRIC_CLOCK_PS, ppm["sync"]),
                 "sat": constant_clock(FABRIC_CLOCK_PS, ppm["sat"],
                                       phase_ps=SAT_PHASE * FABRIC_CLOCK_PS)}
    try:
        config = cdr.CdrConfig(pull_in_ppm=scenario.cdr_pull_in_ppm)
    except cdr.CdrConfigError as exc:
        raise ScenarioError(f"{scenario.path}: {exc}") from None
    rng = np.random.default_rng(seed)
    blocks = cycles // LINE_CYCLES + 2 * FIRST_WORD_CYCLE
    segment = max(MIN_SEGMENT, -(-blocks // MAX_SEGMENTS))
    lines, arrays = {}, {}
    for d, (rec, fabric) in LINE_DOMAINS.items():
        sender = SENDER[d]
        rate = cdr.relative_rate(ppm[sender], ppm[fabric], window.range_rate_m_s)
        reference_ps = period_as(LINE_CYCLES * FABRIC_CLOCK_PS, ppm[fabric]) / 1e6
        recovery = cdr.recover(np.full(blocks, rate), reference_ps, config,
                               dark_blocks(blocks, line[d]["dark"]),
                               seed=int(rng.integers(1 << 31)), phase_ui=float(rng.random() - 0.5))
        # the sender's first block goes out in its first cycle after reset
        sent_ps = int(rising_edges_ps(schedules[sender], POWER_ON_CYCLES)[POWER_ON_CYCLES])
        arrival_ps = sent_ps + (line[d]["latency_cycles"] + LINE_CYCLES) * FABRIC_CLOCK_PS
        # never at time 0: the generator's first delay is then never zero
        phase_ps = max(reference_ps, arrival_ps - FIRST_WORD_CYCLE * reference_ps)
        schedules[rec] = cdr.schedule(recovery, segment, phase_ps)
        lines[d] = {"offset": int(rng.integers(BLOCK_BITS)), "first_due": FIRST_WORD_CYCLE,
                    "rate_ppm": rate * 1e6, "cdr_lock_block": recovery.lock_block,
                    "blocks": blocks}
        arrays.update({f"{d}_phase": recovery.phase_ui, f"{d}_locked": recovery.locked,
                       f"{d}_period": recovery.period_ps})
    assert set(schedules) == set(CLOCKS)
    return ClockPlan(schedules, lines, arrays)


def schedule_spec(schedule: ClockSchedule) -> dict:
    """A schedule as JSON (the testbench's :class:`tb.e2e.clocks.TbClock`)."""
    return {"periods_as": list(schedule.periods_as), "segment_cycles": schedule.segment_cycles,
            "phase_as": schedule.phase_as}
