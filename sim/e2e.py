"""End-to-end co-simulation: ``make sim`` and the ``cosim_*`` benchmarks.

Builds :class:`rtl.e2e.top.E2eTop` (satellite FPGA + ground FPGA), prepares the optical channel
of a scenario window (:mod:`sim.e2e_scenario`), runs ``tb.e2e.cocotb_e2e`` on Verilator or
Icarus with the classical link in the loop, prints a summary and writes ``build/sim/summary.json``
(SPEC 8)::

    python -m sim.e2e [--simulator verilator|icarus] [--scenario FILE] [--frames N | --pulses N]
                      [--seed S] [--summary PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from models.ground.timing import FRAME_PULSES
from rtl.e2e.top import CAPTURES, REPLAYS, VERILOG_SOURCES, E2eParams, E2eTop, payload_bits
from sim.e2e_scenario import (
    SCENARIO_DIR,
    Scenario,
    ScenarioError,
    build_stimulus,
    link_configs,
    load_scenario,
    pass_window,
)
from sim.tx_cosim import REAL_TIME_PULSES_PER_S, CosimError
from tb.runner import ROOT, SIMULATORS, locked_build_dir, run_cocotb

SUMMARY_PATH = ROOT / "build" / "sim" / "summary.json"
DEFAULT_SCENARIO = SCENARIO_DIR / "nominal.toml"
CLOCK_PS = 6400  # 156.25 MHz, made inside the simulator (tb.runner internal_clock_ps)
# The only top-level signals the testbench touches (Verilator VPI access, tb.runner).
PUBLIC_RW = ("*_count", "*_strobe")
PUBLIC_RD = ("clk", "*_batch", "*_batches", "*_fill", "*_hungry", "*_accepted", "*_dropped",
             "*_short_reads", "sat_packets", "gnd_packets", "gnd_missing", "sat_dropped",
             "report_overflow", "locked")


def widths() -> dict[str, int]:
    return {name: payload_bits(layout) for name, layout in {**CAPTURES, **REPLAYS}.items()}


def link_dict(config) -> dict:
    out = asdict(config)
    out["bursts"] = [list(b) for b in out["bursts"]]
    return out


def run_e2e(simulator: str, scenario: Scenario, frames: int | None = None,
            params: E2eParams | None = None, case: str = "e2e", corrupt: bool = False,
            max_cycles: int | None = None) -> dict:
    """Run one window; return the result dict (SPEC 8 fields plus per-stream tallies)."""
    frames = frames or scenario.frames
    params = params or E2eParams()
    if frames < 2:
        raise ScenarioError(f"a window needs at least 2 sync frames, not {frames}")
    # Runs of one case share a build (and their stimulus, record and result files): under
    # pytest-xdist two of them must not overlap (run_cocotb takes the same lock re-entrantly).
    with locked_build_dir(case, simulator) as build:
        return _run_locked(simulator, scenario, frames, params, build, case, corrupt, max_cycles)


def _run_locked(simulator: str, scenario: Scenario, frames: int, params: E2eParams, build: Path,
                case: str, corrupt: bool, max_cycles: int | None) -> dict:
    start = time.perf_counter()
    stim = build_stimulus(scenario, frames, params.seed)
    params = replace(params, delta=stim["delta"])
    stim_path = build / "stimulus.npz"
    np.savez(stim_path, **{k: v for k, v in stim.items() if isinstance(v, np.ndarray)},
             pulses=stim["pulses"])
    prep_s = time.perf_counter() - start
    window = pass_window(scenario)
    up, down = link_configs(scenario, window)
    result_path = build / "result.json"
    result_path.unlink(missing_ok=True)
    top = E2eTop(params)
    try:
        run_cocotb(top, "tb.e2e.cocotb_e2e", simulator, case=case,
                   internal_clock_ps=CLOCK_PS, public_rw=PUBLIC_RW, public_rd=PUBLIC_RD,
                   extra_sources=VERILOG_SOURCES, verilog_key=repr(params),
                   params={"top": asdict(params), "widths": widths(), "seed": scenario.seed,
                           "stimulus": str(stim_path), "result_path": str(result_path),
                           "uplink": link_dict(up), "downlink": link_dict(down),
                           "corrupt": corrupt, "max_cycles": max_cycles},
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
        "channel": {**asdict(window), "rate_scale": scenario.rate_scale,
                    "time_scale": scenario.time_scale, "clock_ppm": scenario.clock_ppm,
                    "clock_offset_ps": scenario.clock_offset_ps, "delta_ps": stim["delta"]},
    })
    return result


def print_summary(result: dict) -> None:
    ch = result["channel"]
    print(f"end-to-end co-simulation '{result['scenario']}' on {result['simulator']}: "
          f"{result['pulses']:,} pulses ({result['window_frames']} sync frames) of "
          f"{ch['station']} at {ch['elevation_deg']:.1f} deg, rate x{ch['rate_scale']:g}, "
          f"link latency /{ch['time_scale']:g}")
    print(f"  {result['pulses_per_s'] / 1e6:.3f} M pulses/s in the simulation loop "
          f"({result['real_time_ratio']:.2e} of real time; "
          f"{result['pulses_per_cpu_s'] / 1e6:.3f} M per CPU second, load average "
          f"{result['load_average']}), {result['wall_s']:.1f} s wall")
    print(f"  detections {result['detections']:,}, sifted bits {result['sifted_bits']:,}, "
          f"packets satellite {result['packets']['satellite']} / ground "
          f"{result['packets']['ground']}")
    print("\n".join(
        f"  {name:14s} {t['compared']:>11,} beats compared, {t['mismatches']} mismatches"
        + (f" (first: {t['first_mismatch']})" if t["first_mismatch"] else "")
        for name, t in result["streams"].items()))
    link = result["link"]
    print(f"  uplink frames {link['uplink_frames']} ({link['uplink_missing']} missing), "
          f"sift messages {link['sift_messages']}; cache answers {result['cache_answer_status']}")
    print("  PASS: zero mismatches" if result["mismatches"] == 0
          else f"  FAIL: {result['mismatches']} mismatches")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.e2e", description=__doc__.split("\n")[0])
    parser.add_argument("--simulator", choices=SIMULATORS, default="verilator")
    parser.add_argument("--scenario", default=str(DEFAULT_SCENARIO))
    window = parser.add_mutually_exclusive_group()
    window.add_argument("--frames", type=int, help="window in sync frames of 2**16 pulses")
    window.add_argument("--pulses", type=int, help="window in pulses (rounded up to frames)")
    parser.add_argument("--seed", type=int, help="channel and link seed (default: scenario's)")
    parser.add_argument("--summary", default=str(SUMMARY_PATH))
    args = parser.parse_args(argv)
    frames = args.frames
    if args.pulses is not None:
        if args.pulses < 1:
            parser.error(f"--pulses {args.pulses} must be positive")
        frames = -(-args.pulses // FRAME_PULSES)
    try:
        scenario = load_scenario(args.scenario)
        if args.seed is not None:
            scenario = replace(scenario, seed=args.seed)
        result = run_e2e(args.simulator, scenario, frames)
    except (ScenarioError, CosimError) as exc:
        print(f"sim: error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, ScenarioError) else 1
    summary = Path(args.summary)
    summary.parent.mkdir(parents=True, exist_ok=True)
    summary.write_text(json.dumps(result, indent=2) + "\n")
    print_summary(result)
    print(f"  summary: {summary}")
    return 0 if result["mismatches"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
