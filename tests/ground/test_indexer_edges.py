"""Pulse indexer at every edge of its comparisons (SPEC 4.2: ``t_k <= t - delta < t_(k+1)``,
``n = k * 2**16 + round(x)``, accept if ``|r| <= gate``): each value exactly on the edge, one
LSB (1 ps) inside and one outside, with the records stated here; the golden model and the RTL
(Amaranth simulator, Verilator, Icarus) must both give them (:func:`tb.ground.bodies.
indexer_edges`)."""

import pytest

from models.constants import PULSE_PERIOD_PS
from models.ground import timing
from models.ground.timing import (
    CH_END,
    CH_SYNC,
    MAX_SLIP_BITS,
    NOMINAL_PERIOD_PS,
    IndexerConfig,
    Status,
)
from rtl.ground.indexer import PulseIndexer
from tb.dual import backend_params, run_body
from tb.ground import bodies

P = NOMINAL_PERIOD_PS  # a multiple of the pulse period: residuals are whole picoseconds
DELTA = 5_000
DEPTH = 256  # the Verilog of the indexer's other cocotb case
T0 = 1_000_000_000
K0 = 100
CFG = IndexerConfig()
ACC, OUT, NOS, BAD, OVF, ORD = (Status.ACCEPTED, Status.OUTSIDE_GATE, Status.NO_SYNC,
                                Status.BAD_PERIOD, Status.OVERFLOW, Status.ORDER)


def syncs(periods: list[int], start: int = T0, first: int = K0) -> list[list[int]]:
    """Sync tags: the first at ``start`` (frame ``first``), then one per period."""
    rows, t = [[start, CH_SYNC, first]], start
    for k, period in enumerate(periods):
        t += period
        rows.append([t, CH_SYNC, first + k + 1])
    return rows


def run(name: str, rows: list[list[int]], want: list[tuple], gate_half: int = 400,
        delta: int = DELTA, slips: int = 0, order: bool = True) -> dict:
    """A run of :func:`tb.ground.bodies.indexer_edges`: ``rows`` put in time order (stable; not
    with ``order=False``) and closed by an end marker, the stated records ``want``."""
    rows = sorted(rows, key=lambda r: r[0]) if order else rows
    return {"name": name, "delta": delta, "gate_half": gate_half,
            "rows": [*rows, [rows[-1][0], CH_END, 0]],
            "want": [[n, ch, r16, int(s)] for n, ch, r16, s in want], "slips": slips}


def pulse(k: int, m: int) -> int:
    return (k << 16) + m


def gate_run(gate_half: int, residuals: list[tuple[int, int, int, Status]]) -> dict:
    """Syncs of frames 100..103 at the nominal period (100: the guard's reference on probation,
    101 and 102 accepted); per ``(j, r, m, status)`` a detection ``r`` ps from pulse ``j`` of
    frame 102, stated as pulse ``m`` with residual ``r - (m - j) * 1600`` and ``status``;
    first the interval edges: ``u = t_102 - 1`` (frame 101, rounds up to pulse 0 of 102) and
    ``u = t_102`` (frame 102's first picosecond)."""
    s = syncs([P, P, P])
    t102 = s[2][0]
    rows = [*s, [t102 + DELTA - 1, 0, 0], [t102 + DELTA, 1, 0]]
    want = [(pulse(102, 0), 0, -16, ACC if gate_half >= 1 else OUT), (pulse(102, 0), 1, 0, ACC)]
    for j, r, m, status in residuals:
        rows.append([t102 + DELTA + j * PULSE_PERIOD_PS + r, 2, 0])
        want.append((pulse(102, m), 2, 16 * (r - (m - j) * PULSE_PERIOD_PS), status))
    return run(f"gate_{gate_half}", rows, want, gate_half=gate_half)


def slip_run(sign: int) -> dict:
    """Periods P, P, P + sign * slip_tol (no step: accepted), P + sign * (2 slip_tol + 1) (a
    step of slip_tol + 1 against the new reference), P (hold); a detection at each u = t_k."""
    tol = CFG.slip_tol
    periods = [P, P, P + sign * tol, P + sign * (2 * tol + 1), P]
    rows = syncs(periods)
    rows += [[rows[i][0] + DELTA, i % 4, 0] for i in range(1, 5)]
    return run(f"slip_tolerance_{sign:+d}", rows,
               [(pulse(101, 0), 1, 0, ACC), (pulse(102, 0), 2, 0, ACC), (0, 3, 0, BAD),
                (0, 0, 0, BAD)], slips=1)


def max_step_run(extra: int) -> dict:
    """A step of exactly MAX_SLIP_BITS link bits (``extra`` 0: re-anchored, the next interval
    accepted) or 1 ps more (beyond the guard's reach: hold) after a confirmed reference;
    detections in frames 101 and 102 at u = t_k and in the middle of frame 103."""
    step = MAX_SLIP_BITS * CFG.bit_lsb + extra
    rows = syncs([P, P, P + step, P])
    rows += [[T0 + P + DELTA, 0, 0], [T0 + 2 * P + DELTA, 1, 0],
             [T0 + 3 * P + P // 2 + DELTA, 2, 0]]
    last = (pulse(103, 1 << 15), 2, 0, ACC) if extra == 0 else (0, 2, 0, BAD)
    return run("max_step", rows, [(pulse(101, 0), 0, 0, ACC), (0, 1, 0, BAD), last], slips=1)


RUNS = {
    # the 800 ps gate: |r| <= 400 kept (SPEC 4.2), 401 not; rounding at +-800 (half up)
    "gate_keeps_400_ps_not_401": gate_run(400, [
        (10, -401, 10, OUT), (11, -400, 11, ACC), (12, -399, 12, ACC), (13, 0, 13, ACC),
        (14, 399, 14, ACC), (15, 400, 15, ACC), (16, 401, 16, OUT),
        (20, 799, 20, OUT), (30, 800, 31, OUT), (40, -800, 40, OUT), (50, -801, 49, OUT)]),
    # the calibration gate (a whole period): the pulse slot's rounding edges, all kept
    "pulse_slot_rounds_half_up_at_800_ps": gate_run(800, [
        (10, 799, 10, ACC), (20, 800, 21, ACC), (30, -800, 30, ACC), (40, -801, 39, ACC),
        (50, 801, 51, ACC)]),
    # gate 0: only an exact hit of the pulse slot is kept
    "gate_0_keeps_only_the_exact_slot": gate_run(0, [
        (10, -1, 10, OUT), (11, 0, 11, ACC), (12, 1, 12, OUT)]),
    # sync interval window [p_min, p_max]: on the edge accepted, one outside BAD_PERIOD (a
    # deviation of 1 ps is no timing step); detections at u = t_k, first frame on probation
    "period_p_min_p_max_kept_one_outside_bad": run("period_window", [
        *syncs([CFG.p_min, CFG.p_min, CFG.p_min - 1, CFG.p_min, CFG.p_min]),
        *[[T0 + DELTA + i * CFG.p_min - (i >= 3), 0, 0] for i in range(1, 5)],
        *syncs([CFG.p_max, CFG.p_max, CFG.p_max + 1], start=T0 + 10 * P, first=K0 + 10),
        *[[T0 + 10 * P + DELTA + i * CFG.p_max, 1, 0] for i in range(1, 3)]],
        [(pulse(101, 0), 0, 0, ACC), (0, 0, 0, BAD), (pulse(103, 0), 0, 0, ACC),
         (pulse(104, 0), 0, 0, ACC), (pulse(111, 0), 1, 0, ACC), (0, 1, 0, BAD)]),
    # bit-slip guard: a deviation of exactly slip_tol from the reference is no step, one more
    # is one (BAD_PERIOD, counted, then hold: no whole link bit in it)
    "slip_tol_is_no_step_one_more_is_up": slip_run(+1),
    "slip_tol_is_no_step_one_more_is_down": slip_run(-1),
    # pending FIFO: exactly DEPTH detections wait, the next one overflows; a tag as old as the
    # previous one is in order, one 1 ps older is not
    "step_of_max_slip_bits_is_reanchored": max_step_run(0),
    "step_of_max_slip_bits_plus_1_ps_holds": max_step_run(1),
    "pending_full_at_depth_equal_time_in_order": run("pending_full_and_order", [
        [T0, CH_SYNC, K0],
        *[[T0 + 1000 + i, i % 4, 0] for i in range(DEPTH)],
        [T0 + 1000 + DEPTH, 3, 0], [T0 + 1000 + DEPTH, 3, 0], [T0 + 1000 + DEPTH - 1, 2, 0],
        [T0 + P, CH_SYNC, K0 + 1]],
        [(0, 3, 0, OVF), (0, 3, 0, OVF), (0, 2, 0, ORD),
         *[(0, i % 4, 0, NOS) for i in range(DEPTH)]], order=False),
}

RUNS = {name: {**case, "name": name} for name, case in RUNS.items()}


@pytest.mark.parametrize("name", list(RUNS))
def test_indexer_edge_model_states(name):
    """The golden model alone on each run (fast, and names the failing edge)."""
    params = RUNS[name]
    cfg = IndexerConfig(delta=params["delta"], gate_half=params["gate_half"], depth=DEPTH)
    got = timing.index_stream(*bodies.tag_columns(params["rows"]), cfg)
    assert got.records == [timing.Record(n, c, r, Status(s)) for n, c, r, s in params["want"]]
    assert got.slips == params["slips"]


@pytest.mark.parametrize("backend", backend_params())
def test_indexer_gate_window_and_pending_edges_rtl(backend):
    """Every run of :data:`RUNS` through the RTL in one build per simulator."""
    run_body(backend, PulseIndexer(IndexerConfig(depth=DEPTH)), bodies.indexer_edges,
             case="ground_indexer", params={"runs": list(RUNS.values()), "depth": DEPTH,
                                            "seed": 3, "idle": 0.2, "stall": 0.3})
