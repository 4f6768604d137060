"""End-to-end co-simulation: ``make sim`` and the ``cosim_*`` benchmarks.

Builds :class:`rtl.e2e.top.E2eTop` (satellite FPGA + ground FPGA), prepares the optical channel
of a scenario window (:mod:`sim.e2e_scenario`), runs ``tb.e2e.cocotb_e2e`` on Verilator or
Icarus with the classical link in the loop, prints a summary and writes ``build/sim/summary.json``
(SPEC 8) and a picture of the run, ``build/sim/timeline.png`` (:mod:`sim.timeline`)::

    python -m sim.e2e [--simulator verilator|icarus] [--scenario FILE] [--frames N | --pulses N]
                      [--seed S] [--summary PATH] [--waves-at-mismatch]

Windows: Verilator runs the scenario's window (``frames`` in its file); Icarus, about a thousand
times slower, runs a short smoke window of :data:`ICARUS_WINDOW_CYCLES` cycles unless a window
is given. The start line says the window, the expected duration (from :data:`EXPECTED_SPEED`)
and how to change it; a window expected to take longer than :data:`LONG_RUN_S` runs only when
asked for explicitly (``--frames`` / ``--pulses``).

On a mismatch the summary names the first disagreement (stream, beat, cycle and time, both
payloads field by field, the model's context); ``--waves-at-mismatch`` (``make sim
WAVES=mismatch``) then re-runs the same seed and scenario with waves recorded only around that
cycle and writes a GTKWave save file that opens there (:mod:`sim.mismatch_waves`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from models.constants import FRAME_PULSES
from rtl.e2e.top import (
    CAPTURES,
    CLOCKS,
    REPLAYS,
    SYNC_COUNTERS,
    TDC_COUNTERS,
    TDC_REGISTERS,
    VERILOG_SOURCES,
    E2eParams,
    E2eTop,
    payload_bits,
)
from rtl.simonly.clock_gen import LoadedClock, write_schedule
from sim.distill import e2e_key_files, e2e_keys
from sim.e2e_clocks import MAX_SEGMENTS, oscillators, plan_clocks, schedule_spec
from sim.e2e_scenario import (
    SCENARIO_DIR,
    Scenario,
    ScenarioError,
    build_stimulus,
    cached_startup_tables,
    line_channels,
    load_scenario,
    pass_window,
    scenario_params,
)
from sim.mismatch_waves import MismatchWaves, window_for, write_save_file
from sim.timeline import plot_timeline
from sim.tx_cosim import REAL_TIME_PULSES_PER_S, CosimError
from tb.e2e.cocotb_e2e import DRAIN_FRAMES
from tb.runner import ROOT, SIMULATORS, BuildError, locked_build_dir, run_cocotb
from tb.tally import Mismatch

SUMMARY_PATH = ROOT / "build" / "sim" / "summary.json"
DEFAULT_SCENARIO = SCENARIO_DIR / "nominal.toml"
# Pulses per wall second of this top on a 2-core AMD EPYC (``make bench``'s cosim_* rows): the
# start line's duration estimate, nothing else depends on them.
EXPECTED_SPEED = {"verilator": 0.55e6, "icarus": 930.0}
ICARUS_WINDOW_CYCLES = 30_000  # Icarus default: ~2 min of symbols, frames and cache traffic
LONG_RUN_S = 3600  # longer windows run only when given explicitly
SETUP_S = {"verilator": 30.0, "icarus": 20.0}  # Verilog and stimulus, roughly
BUILD_S = {"verilator": 150.0, "icarus": 30.0}  # a first build of the top (cached afterwards)
# The only top-level signals the testbench touches (Verilator VPI access, tb.runner). Only the
# inputs it writes are writable: Verilator copies every writable output at every evaluation
# (two per cycle), which the time tagger's counters would cost if they matched a writable name.
PUBLIC_RW = ("*_count", "*_strobe", "*_hold", *(f"tdc_{name}" for name in TDC_REGISTERS))
PUBLIC_RD = ("clk", "*_batch", "*_batches", "*_fill", "*_hungry", "*_accepted", "*_dropped",
             "*_short_reads", "*_released", "sat_*", "gnd_*", "up_*", "dn_*",
             "report_overflow", "locked", "tap_overflow",
             *(f"tdc_{name}" for name in (*TDC_COUNTERS, *SYNC_COUNTERS)))


def widths() -> dict[str, int]:
    return {name: payload_bits(layout) for name, layout in {**CAPTURES, **REPLAYS}.items()}


def run_e2e(simulator: str, scenario: Scenario, frames: int | None = None,
            params: E2eParams | None = None, case: str = "e2e",
            corrupt: bool | tuple[int, int] = False, max_cycles: int | None = None,
            progress: bool = False, corrupt_hit: tuple[int, int] | None = None) -> dict:
    """Run one window; return the result dict (SPEC 8 fields plus per-stream tallies).

    ``corrupt``: flip the measured bit of the model's detections ``first, first + step, ...``
    (``(first, step)``; ``True`` is ``(0, 7)``): a wrong model input the scoreboards must catch.
    ``corrupt_hit``: ``(channel, k)``: the model's raw hit ``k`` of that TDC channel gets its
    fine code's lowest bit flipped (a wrong TDC output the raw-hit scoreboard must name).
    ``progress``: draw a progress bar on standard error while the simulator runs."""
    if corrupt is True:
        corrupt = (0, 7)
    corrupt = tuple(corrupt) if corrupt else False
    frames = frames or scenario.frames
    params = scenario_params(scenario, params)
    if frames < 2:
        raise ScenarioError(f"a window needs at least 2 sync frames, not {frames}")
    # Runs of one case share a build (and their stimulus, record and result files): under
    # pytest-xdist two of them must not overlap (run_cocotb takes the same lock re-entrantly).
    with locked_build_dir(case, simulator) as build:
        return _run_locked(simulator, scenario, frames, params, build, case, corrupt, max_cycles,
                           progress, corrupt_hit)


def _run_locked(simulator: str, scenario: Scenario, frames: int, params: E2eParams, build: Path,
                case: str, corrupt: tuple[int, int] | bool, max_cycles: int | None,
                progress: bool, corrupt_hit: tuple[int, int] | None) -> dict:
    start = time.perf_counter()
    stim = build_stimulus(scenario, frames, params.seed)
    params = replace(params, delta=stim["delta"])
    stim_path = build / "stimulus.npz"
    np.savez(stim_path, **{k: v for k, v in stim.items() if isinstance(v, np.ndarray)},
             pulses=stim["pulses"], end_cycle=stim["end_cycle"])
    join = stim["join"]
    registers = {"offset_ps": join.offset_ps, "tolerance_ps": join.tolerance_ps,
                 "strobe_lag_ps": join.strobe_lag_ps, "max_lag_ps": list(stim["max_lag_ps"])}
    prep_s = time.perf_counter() - start
    window = pass_window(scenario)
    line = line_channels(scenario, window, int(stim["end_cycle"]))
    clocks = plan_clocks(scenario, window, int(stim["end_cycle"]), line, scenario.seed)
    # the same file names and table sizes for every scenario: one build serves them all
    files = {port: str(build / f"clock_{port}.hex") for port in CLOCKS.values()}
    ground, sat = CLOCKS["sync"], CLOCKS["sat"]
    loaded = {port: LoadedClock(path, MAX_SEGMENTS) for port, path in files.items()}
    # the two fabric clocks as a pair: two event times per cycle (rtl.simonly.clock_gen)
    loaded[ground] = LoadedClock(files[ground], 1, driven=True)
    loaded[sat] = LoadedClock(files[sat], 1, partner=(ground, files[ground]))
    for domain, port in CLOCKS.items():
        write_schedule(loaded[port], clocks.schedules[domain])
    clock_arrays = build / "clocks.npz"
    np.savez(clock_arrays, **clocks.arrays)
    result_path = build / "result.json"
    result_path.unlink(missing_ok=True)
    top = E2eTop(params, cached_startup_tables())
    try:
        run_cocotb(top, "tb.e2e.cocotb_e2e", simulator, case=case,
                   clocks=loaded, public_rw=PUBLIC_RW, public_rd=PUBLIC_RD,
                   extra_sources=VERILOG_SOURCES, verilog_key=repr(params),
                   wave_window=params.wave_start_cycle is not None,
                   params={"top": asdict(params), "widths": widths(), "seed": scenario.seed,
                           "stimulus": str(stim_path), "result_path": str(result_path),
                           "line": line, "line_clocks": clocks.lines,
                           "clock_arrays": str(clock_arrays),
                           "clocks": {d: schedule_spec(c) for d, c in clocks.schedules.items()},
                           "corrupt": corrupt, "corrupt_hit": corrupt_hit,
                           "tdc_registers": registers, "tdc_counters": stim["tdc_counters"],
                           "max_cycles": max_cycles,
                           "progress": progress},
                   testcase="e2e_matches_models")
    except SystemExit as exc:  # the cocotb runner exits when a test fails
        if not result_path.exists():
            raise CosimError(f"{simulator} co-simulation failed (exit {exc.code})") from None
    wall = time.perf_counter() - start
    if not result_path.exists():
        raise CosimError(f"{simulator} co-simulation wrote no result ({result_path})")
    result = json.loads(result_path.read_text())
    pulses_per_s = result["pulses_simulated"] / result["sim_wall_s"]
    result.update({
        "simulator": simulator,
        "scenario": scenario.name,
        "scenario_file": scenario.path,
        "window_frames": frames,
        "wall_s": round(wall, 3),
        "prepare_s": round(prep_s, 3),
        "pulses_per_s": round(pulses_per_s, 1),
        "pulses_per_cpu_s": round(result["pulses_simulated"] / result["sim_cpu_s"], 1),
        "load_average": round(os.getloadavg()[0], 2),
        "real_time_ratio": pulses_per_s / REAL_TIME_PULSES_PER_S,
        "sifted_bits": min(result["sifted_bits"].values()),
        "sifted_bits_per_side": result["sifted_bits"],
        "indexer_records": stim["record_status"],
        "signal_tags": stim["signal_tags"],
        "corrupt": list(corrupt) if corrupt else False,
        "corrupt_hit": list(corrupt_hit) if corrupt_hit else None,
        "tdc": {"registers": registers,
                "tag_error_ps": error_stats(stim["tdc_error_ps"]),
                "sync_error_ps": error_stats(stim["sync_error_ps"])},
        "detection_frames": np.bincount(
            (stim["det_pulse"] // np.uint64(FRAME_PULSES)).astype(np.int64),
            minlength=frames).tolist(),
        "clocks": {"oscillator_ppm": {"satellite": oscillators(scenario)["sat"],
                                      "ground": oscillators(scenario)["sync"]},
                   "range_rate_m_s": window.range_rate_m_s,
                   "cdr_pull_in_ppm": scenario.cdr_pull_in_ppm,
                   "links": {"uplink": clocks.lines["up"], "downlink": clocks.lines["dn"]}},
        "channel": {**asdict(window), "rate_scale": scenario.rate_scale,
                    "time_scale": scenario.time_scale, "clock_ppm": scenario.clock_ppm,
                    "clock_offset_ps": scenario.clock_offset_ps, "delta_ps": stim["delta"]},
    })
    return result


def error_stats(error: np.ndarray) -> dict[str, float]:
    """Mean, RMS and largest magnitude of TDC tag errors against the analog arrivals (ps)."""
    error = error[np.isfinite(error)]
    if not len(error):
        return {"tags": 0}
    return {"tags": len(error), "mean": round(float(error.mean()), 2),
            "rms": round(float(np.sqrt(np.mean(error**2))), 2),
            "max_abs": round(float(np.abs(error).max()), 2)}


def print_summary(result: dict) -> None:
    ch = result["channel"]
    print(f"end-to-end co-simulation '{result['scenario']}' on {result['simulator']}: "
          f"{result['pulses']:,} pulses ({result['window_frames']} sync frames) of "
          f"{ch['station']} at {ch['elevation_deg']:.1f} deg, rate x{ch['rate_scale']:g}, "
          f"link latency /{ch['time_scale']:g}"
          + (f", stopped at cycle {result['cycles']:,} (smoke window)" if result["truncated"]
             else ""))
    clocks = result["clocks"]
    osc, links = clocks["oscillator_ppm"], clocks["links"]
    print(f"  clocks: satellite {osc['satellite']:+.3f} ppm, ground {osc['ground']:+.3f} ppm, "
          f"range rate {clocks['range_rate_m_s']:+,.0f} m/s; recovered downlink "
          f"{links['downlink']['rate_ppm']:+.2f} ppm, uplink {links['uplink']['rate_ppm']:+.2f} "
          f"ppm of the receiver's reference (CDR range +-{clocks['cdr_pull_in_ppm']:g} ppm)")
    print(f"  {result['pulses_per_s'] / 1e6:.3f} M pulses/s in the simulation loop "
          f"({result['real_time_ratio']:.2e} of real time; "
          f"{result['pulses_per_cpu_s'] / 1e6:.3f} M per CPU second, load average "
          f"{result['load_average']}), {result['wall_s']:.1f} s wall")
    print(f"  detections {result['detections']:,}, sifted bits {result['sifted_bits']:,}, "
          f"packets satellite {result['packets']['satellite']} / ground "
          f"{result['packets']['ground']}")
    print("\n".join(
        f"  {name:14s} {t['compared']:>11,} beats compared, {t['mismatches']} mismatches"
        for name, t in result["streams"].items()))
    tdc, counters = result["tdc"], result["tdc_counters"]
    print(f"  TDC: tags {tdc['tag_error_ps'].get('rms', 0):.1f} ps RMS from the analog "
          f"arrivals, sync tags {tdc['sync_error_ps'].get('rms', 0):.1f} ps; lost to dead time "
          f"{counters['lost_dead']}, calibration blanking {counters['lost_calibration']}, "
          f"pile-up {counters['lost_pileup']}, overflow {counters['lost_overflow']}; merge "
          f"late {counters['merge_late']} overflow {counters['merge_overflow']}; join missing "
          f"{counters['sync_missing']} extra {counters['sync_extra']} ambiguous "
          f"{counters['sync_ambiguous']}")
    print(link_lines(result["link"]))
    print(f"  cache answers {result['cache_answer_status']}")
    first = result.get("first_mismatch")
    if first is not None:
        print("  first mismatch: " + Mismatch(**{k: v for k, v in first.items()
                                                 if k != "time_ns"}).describe())
    print("  PASS: zero mismatches" if result["mismatches"] == 0
          else f"  FAIL: {result['mismatches']} mismatches")


def link_lines(link: dict) -> str:
    """The summary's lines on the laser link: each PHY receiver's lock and what it lost, the
    frames and sift messages the link layers got through; a link that carried nothing says so."""
    lines = []
    for name in ("uplink", "downlink"):
        phy = link[name]
        lock = "locked" if phy["locked"] else "NOT LOCKED at the end"
        cdr = ("CDR locked" if phy["cdr_locked"] else "CDR NOT LOCKED at the end") + (
            f" (first at word {phy['cdr_lock_word']:,}" if phy["cdr_lock_word"] is not None
            else " (never locked") + f", {phy['cdr_lock_losses']} lost)"
        lines.append(f"  {name} PHY: {lock}; {cdr}; {phy['locks']} locks, "
                     f"{phy['lock_losses']} lost, "
                     f"{phy['slips']} re-alignments, {phy['bad_headers']} bad headers; "
                     f"{phy['messages']} copies whole, {phy['aborted']} cut, {phy['stray']} "
                     f"stray blocks")
    frames = link.get("uplink_frames", 0)
    missing = link.get("uplink_missing", 0)
    lines.append(f"  uplink frames {frames} decided ({missing} missing, "
                 f"{link.get('uplink_expired', 0)} on expiry), copies "
                 f"{link.get('uplink_copies_delivered', 0)} of {link.get('uplink_copies', 0)} "
                 f"delivered; sift messages {link.get('sift_messages', 0)} sifted, copies "
                 f"{link.get('sift_copies_delivered', 0)} of {link.get('sift_copies', 0)} "
                 "delivered")
    if frames and missing == frames:
        lines.append("  LINK DOWN: no uplink frame reached the satellite: every frame missing, "
                     "no key")
    return "\n".join(lines)


def record_mismatch_waves(simulator: str, scenario: Scenario, plan: WindowPlan, result: dict,
                          out_dir: Path) -> MismatchWaves:
    """Re-run ``result``'s window with waves around its first mismatch (see
    :mod:`sim.mismatch_waves`); return where the dump and its GTKWave save file are."""
    first = result.get("first_mismatch")
    if first is None or first.get("cycle") is None:
        raise CosimError("the first mismatch has no capture cycle (a stream came up short), "
                         "so there is no place to record waves at")
    cycle = int(first["cycle"])
    start, end = window_for(cycle)
    dump = (out_dir / "mismatch.fst").resolve()  # both simulators write FST (Icarus: vvp -fst)
    dump.unlink(missing_ok=True)
    params = replace(E2eParams(), wave_start_cycle=start, wave_file=str(dump))
    max_cycles = end if plan.max_cycles is None else min(end, plan.max_cycles)
    run_e2e(simulator, scenario, plan.frames, params=params, case="e2e_mismatch",
            corrupt=result.get("corrupt", False), max_cycles=max(max_cycles, start + 1),
            corrupt_hit=result.get("corrupt_hit"))
    if not dump.exists():
        raise CosimError(f"the re-run wrote no waves at {dump}")
    waves = MismatchWaves(dump, out_dir / "mismatch.gtkw", first["stream"], cycle, start, end)
    write_save_file(waves)
    return waves


@dataclass(frozen=True)
class WindowPlan:
    """The window a run will simulate and what it is expected to cost."""

    frames: int
    max_cycles: int | None
    explicit: bool

    def pulses(self, lanes: int) -> int:
        """Pulses simulated: the window plus the drain frames, or up to ``max_cycles``."""
        full = (self.frames + DRAIN_FRAMES) * FRAME_PULSES
        return full if self.max_cycles is None else min(full, self.max_cycles * lanes)

    def expected_s(self, simulator: str, lanes: int) -> float:
        return SETUP_S[simulator] + self.pulses(lanes) / EXPECTED_SPEED[simulator]


def plan_window(simulator: str, scenario: Scenario, frames: int | None) -> WindowPlan:
    """The window of ``make sim``: given explicitly, else the simulator's default."""
    if frames is not None:
        return WindowPlan(frames, None, True)
    if simulator == "icarus":
        return WindowPlan(2, ICARUS_WINDOW_CYCLES, False)
    return WindowPlan(scenario.frames, None, False)


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def start_line(simulator: str, scenario: Scenario, plan: WindowPlan, lanes: int) -> str:
    what = (f"{plan.max_cycles:,}-cycle smoke window ({plan.pulses(lanes):,} pulses)"
            if plan.max_cycles is not None else
            f"{plan.frames:,} sync frames + {DRAIN_FRAMES} to drain "
            f"({plan.pulses(lanes):.3g} pulses)")
    return (f"sim: '{scenario.name}' on {simulator}: {what}, expected ~"
            f"{duration(plan.expected_s(simulator, lanes))} at "
            f"~{EXPECTED_SPEED[simulator]:,.0f} pulses/s (a first build adds ~"
            f"{duration(BUILD_S[simulator])}); change the window with FRAMES=n or PULSES=n")


def show_progress() -> bool:
    """A progress bar only for a person at a terminal, never in CI logs."""
    return sys.stderr.isatty() and os.environ.get("CI", "").lower() not in ("true", "1")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.e2e", description=__doc__.split("\n")[0])
    parser.add_argument("--simulator", choices=SIMULATORS, default="verilator")
    parser.add_argument("--scenario", default=str(DEFAULT_SCENARIO))
    window = parser.add_mutually_exclusive_group()
    window.add_argument("--frames", type=int, help="window in sync frames of 2**16 pulses")
    window.add_argument("--pulses", type=int, help="window in pulses (rounded up to frames)")
    parser.add_argument("--seed", type=int, help="channel and link seed (default: scenario's)")
    parser.add_argument("--summary", default=str(SUMMARY_PATH))
    parser.add_argument("--waves-at-mismatch", action="store_true",
                        default=os.environ.get("WAVES", "") == "mismatch",
                        help="on a mismatch, re-run with waves around the first one "
                             "(default with WAVES=mismatch)")
    args = parser.parse_args(argv)
    frames = args.frames
    if frames is not None and frames < 2:
        parser.error(f"--frames {frames}: a window needs at least 2 sync frames")
    if args.pulses is not None:
        if args.pulses < 1:
            parser.error(f"--pulses {args.pulses} must be positive")
        frames = max(2, -(-args.pulses // FRAME_PULSES))
    summary = Path(args.summary)
    try:
        scenario = load_scenario(args.scenario)
        if args.seed is not None:
            scenario = replace(scenario, seed=args.seed)
        plan = plan_window(args.simulator, scenario, frames)
        lanes = E2eParams().lanes
        print(start_line(args.simulator, scenario, plan, lanes), flush=True)
        if not plan.explicit and plan.expected_s(args.simulator, lanes) > LONG_RUN_S:
            print(f"sim: error: this window would take ~"
                  f"{duration(plan.expected_s(args.simulator, lanes))}; give FRAMES=n or "
                  f"PULSES=n to run it anyway, or a shorter one", file=sys.stderr)
            return 2
        result = run_e2e(args.simulator, scenario, plan.frames, max_cycles=plan.max_cycles,
                         progress=show_progress())
    except (ScenarioError, CosimError, BuildError) as exc:
        print(f"sim: error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, ScenarioError) else 1
    keys = e2e_keys(result, *e2e_key_files(args.simulator), E2eParams().seed, args.simulator)
    summary.parent.mkdir(parents=True, exist_ok=True)
    summary.write_text(json.dumps(result, indent=2) + "\n")
    print_summary(result)
    print("\n".join(keys))
    print(f"  summary: {summary}")
    picture = summary.with_name("timeline.png")
    plot_timeline(result, picture)
    print(f"  timeline: {picture}")
    if result["mismatches"] and args.waves_at_mismatch:
        try:
            waves = record_mismatch_waves(args.simulator, scenario, plan, result,
                                          summary.parent)
        except CosimError as exc:
            print(f"sim: error: {exc}", file=sys.stderr)
            return 1
        print(f"  waves around the first mismatch: {waves.dump}\n"
              f"  open them with: gtkwave {waves.save_file}")
    return 0 if result["mismatches"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
