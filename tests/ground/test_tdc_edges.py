"""TDC channel at every edge of its comparisons (SPEC 4.0: coarse counter, dead time,
calibration slots, input checks), on sampled codes given cycle by cycle
(:func:`tb.ground.edges.tdc_edge_line`): a second hit exactly at the end of the dead time, one
cycle before and one after; a hit at the first and the last cycle of the calibration slot, at
each blanked cycle and one cycle outside; tap 0 high exactly ``stuck_cycles`` cycles and one
fewer; a code of every tap (coverage) and of every tap but one; the 64-bit coarse time rolling
over between two hits. The hits and counters are stated here; the golden model and the RTL
(Amaranth simulator, Verilator, Icarus) must both give them (:func:`tb.ground.bodies.
tdc_channel_edges`)."""

import pytest

from models.constants import FABRIC_CLOCK_PS, TDC_CAL_SLOT_CYCLES, TDC_DEAD_CYCLES
from tb.dual import backend_params, run_body
from tb.ground import bodies
from tb.ground.edges import tdc_edge_dut

TAPS = 16
CAL = 64  # calibration period of this channel: slot phases 2..8, blanked 1 and 9
DEAD = TDC_DEAD_CYCLES
STUCK = 6
SLOT = TDC_CAL_SLOT_CYCLES
WRAP = 731  # the coarse time of this cycle is 0: the counter rolls over between 730 and 731
EPOCH = -WRAP * FABRIC_CLOCK_PS % (1 << 64)

EVENTS: list[list[int]] = []  # [cycle, fine, high, top]
WANT: list[list[int]] = []  # [cycle, fine, calibration] of every hit that must leave


def hit(cycle: int, fine: int = 5, kept: int | None = 0, high: int = 1, top: int = 0) -> None:
    """An input pulse; ``kept``: the calibration flag of its hit, ``None`` if it is lost."""
    EVENTS.append([cycle, fine, high, top])
    if kept is not None:
        WANT.append([cycle, fine, kept])


# dead time: a second hit exactly dead_cycles after a kept one is lost, one cycle later kept
hit(20), hit(20 + DEAD, kept=None)
hit(30, 6), hit(30 + DEAD - 1, kept=None)
hit(40, 7), hit(40 + DEAD + 1, 8)
# calibration slots (phase = cycle % CAL): 0 normal, 1 blanked, 2..SLOT calibration,
# SLOT + 1 blanked, SLOT + 2 normal, CAL - 1 normal
hit(1 * CAL)
hit(2 * CAL + 1, kept=None)
hit(3 * CAL + 2, kept=1)
hit(4 * CAL + SLOT, kept=1)
hit(5 * CAL + SLOT + 1, kept=None)
hit(6 * CAL + SLOT + 2)
hit(8 * CAL - 1)
# the dead time counts before the blanking; calibration hits are exempt from it and start
# one of their own
hit(8 * CAL + 1, kept=None)  # 2 cycles after the kept 8 CAL - 1: lost to the dead time
hit(8 * CAL + 3, kept=1)
hit(8 * CAL + 5, kept=1)
hit(8 * CAL + SLOT, kept=1)
hit(8 * CAL + SLOT + 2, kept=None)  # 2 cycles after the slot's last hit: dead
# stuck input: tap 0 high stuck_cycles - 1 cycles, then exactly stuck_cycles
hit(560, high=STUCK - 1)
hit(600, high=STUCK)
# coverage: every tap high is an error; every tap but the last is a hit; the last tap high
# with the first ones is a pile-up
hit(640, fine=TAPS, kept=None)
hit(650, fine=TAPS - 1)
hit(660, fine=10, top=1, kept=None)
# the coarse time rolls over between two hits
hit(WRAP - 1)
hit(WRAP + DEAD)
CYCLES = 760
COUNTERS = {"lost_dead": 4, "lost_calibration": 2, "lost_pileup": 1, "coverage_errors": 1,
            "stuck_events": 1}
PARAMS = {"events": EVENTS, "want": WANT, "counters": COUNTERS, "cycles": CYCLES, "taps": TAPS,
          "channel": 2, "epoch": EPOCH, "cal_period": CAL, "dead_cycles": DEAD,
          "stuck_cycles": STUCK}


def test_tdc_edge_coarse_rolls_over_between_the_last_two_hits():
    """The stated coarse times of the last two hits straddle 2**64 (the case means it)."""
    before, after = ((EPOCH + c * FABRIC_CLOCK_PS) % (1 << 64) for c in (WRAP - 1, WRAP + DEAD))
    assert before == (1 << 64) - FABRIC_CLOCK_PS and after == DEAD * FABRIC_CLOCK_PS


@pytest.mark.parametrize("backend", backend_params())
def test_tdc_dead_time_slot_stuck_coverage_and_rollover_edges(backend):
    run_body(backend, tdc_edge_dut(PARAMS), bodies.tdc_channel_edges, case="tdc_edges",
             params={**PARAMS, "seed": 1, "idle": 0.0, "stall": 0.0})


@pytest.mark.parametrize("stuck, events", [(0, 0), (1, len(EVENTS))])
def test_tdc_stuck_register_at_zero_is_off_and_at_one_counts_every_pulse(stuck, events):
    """``stuck_cycles`` 0 turns the check off; 1 makes every high run of tap 0 an event."""
    params = {**PARAMS, "stuck_cycles": stuck, "counters": {**COUNTERS, "stuck_events": events}}
    run_body("pysim", tdc_edge_dut(params), bodies.tdc_channel_edges, case="tdc_edges",
             params={**params, "seed": 1, "idle": 0.0, "stall": 0.0})
