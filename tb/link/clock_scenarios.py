"""Clock scenarios of the clocked link PHY test (:mod:`tb.link.cocotb_clocked`), several in one
simulator run: each scenario is a stretch of every clock's schedule, one after the other.

A scenario fixes the satellite's and the ground's oscillator offsets (ppm), the pass's range
rate and whether light arrives; from them :func:`plan` derives, for ``blocks`` received words:

* the three clocks: ``sat_clk`` (the satellite's fabric, the transmitter; the serialiser takes
  one block per :data:`BLOCK_CYCLES` cycles), ``clk`` (the ground's fabric, the receiver's
  outputs) and ``rxrec_clk`` (the recovered block clock, one word per cycle) from the CDR model
  (:func:`models.link.cdr.recover`) fed with the arriving rate;
* per received word, the CDR's lock pin and which line bit each received bit is
  (:func:`models.link.cdr.sampled_bits`);
* the loss of light as a channel burst from the block where it goes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from models.clocks import ClockSchedule, period_as
from models.constants import FABRIC_CLOCK_PS
from models.link import cdr
from models.link.line_code import BLOCK_BITS

BLOCK_CYCLES = 2
"""Fabric cycles per line block: the recovered clock runs at half the fabric clock, so the
ground's fabric drains the receiver with room to spare (the real line: one block per 32)."""
SEGMENT = 16
"""Cycles per entry of the clock generators' period tables."""
RANGE_RATE_MAX_M_S = 7500.0
"""The pass's extreme range rate (SPEC: Doppler up to 2.5e-5)."""


@dataclass(frozen=True)
class Scenario:
    """One stretch of the run: oscillator offsets, range rate (positive receding), and the
    block from which no light arrives (None: light throughout)."""

    name: str
    sat_ppm: float = 0.0
    gnd_ppm: float = 0.0
    range_rate_m_s: float = 0.0
    dark_from: int | None = None

    @property
    def rate(self) -> float:
        return cdr.relative_rate(self.sat_ppm, self.gnd_ppm, self.range_rate_m_s)


SCENARIOS = (
    Scenario("nominal"),
    Scenario("ppm_plus", sat_ppm=1.0, gnd_ppm=-1.0),
    Scenario("ppm_minus", sat_ppm=-1.0, gnd_ppm=1.0),
    # the Doppler extremes with the oscillators' offsets adding to them: -27 and +27 ppm
    Scenario("doppler_receding", sat_ppm=-1.0, gnd_ppm=1.0, range_rate_m_s=RANGE_RATE_MAX_M_S),
    Scenario("doppler_approaching", sat_ppm=1.0, gnd_ppm=-1.0,
             range_rate_m_s=-RANGE_RATE_MAX_M_S),
    # a satellite oscillator 3000 ppm off: thirty times the CDR's range
    Scenario("unlockable", sat_ppm=3000.0),
)


def dark(blocks: int) -> Scenario:
    """Light for the first half of the scenario, then none: the link dies mid-run."""
    return Scenario("dead_link", dark_from=blocks // 2)


def scenarios(blocks: int) -> tuple[Scenario, ...]:
    return (*SCENARIOS, dark(blocks))


def _constant(ppm: float, cycles: int) -> list[int]:
    return [period_as(FABRIC_CLOCK_PS, ppm)] * (cycles // SEGMENT)


def plan(chosen: tuple[Scenario, ...], blocks: int, seed: int,
         config: cdr.CdrConfig = cdr.DEFAULT_CDR) -> tuple[dict[str, ClockSchedule], list[dict]]:
    """The clock schedules of the whole run (port -> schedule) and, per scenario, the plan the
    cocotb test follows (JSON-ready: ``scenario``, ``offset``, ``lock_pin``, ``sampled``,
    ``dark_bit``, ``lock_block``)."""
    if blocks % SEGMENT:
        raise ValueError(f"blocks={blocks} must be a multiple of {SEGMENT}")
    rng = np.random.default_rng(seed)
    fabric = blocks * BLOCK_CYCLES
    periods: dict[str, list[int]] = {"sat_clk": [], "clk": [], "rxrec_clk": []}
    plans = []
    for scenario in chosen:
        signal = np.ones(blocks, dtype=bool)
        if scenario.dark_from is not None:
            signal[scenario.dark_from:] = False
        reference_ps = BLOCK_CYCLES * period_as(FABRIC_CLOCK_PS, scenario.gnd_ppm) / 1e6
        recovery = cdr.recover(np.full(blocks, scenario.rate), reference_ps, config, signal,
                               seed=int(rng.integers(1 << 31)),
                               phase_ui=float(rng.random() - 0.5))
        periods["sat_clk"] += _constant(scenario.sat_ppm, fabric)
        periods["clk"] += _constant(scenario.gnd_ppm, fabric)
        periods["rxrec_clk"] += list(cdr.schedule(recovery, SEGMENT, 0).periods_as)
        offset = int(rng.integers(2, BLOCK_BITS))
        plans.append({
            "scenario": asdict(scenario), "offset": offset,
            "lock_pin": recovery.locked.astype(int).tolist(),
            "sampled": np.maximum(cdr.sampled_bits(recovery, offset), 0).tolist(),
            "dark_bit": None if scenario.dark_from is None
            else scenario.dark_from * BLOCK_BITS + offset,
            "lock_block": recovery.lock_block,
        })
    # first edges: the ground's fabric, then the satellite's, then the recovered clock
    clocks = {port: ClockSchedule(tuple(p), SEGMENT, round((0.5 + 0.17 * i) * p[0]))
              for i, (port, p) in enumerate(periods.items())}
    return clocks, plans
