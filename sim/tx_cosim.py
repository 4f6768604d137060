"""Transmitter-chain co-simulation: ``make sim-tx`` and the ``tx_cosim_*`` benchmarks.

Builds :class:`rtl.simonly.tx_cosim_top.TxCosimTop` to Verilog, runs
``tb.satellite.cocotb_tx_cosim`` on it in Verilator or Icarus, prints a summary and writes
``build/sim/summary.json`` (SPEC 8)::

    python -m sim.tx_cosim [--simulator verilator|icarus] [--pulses N] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, replace

from amaranth.lib import data

from models.transmitter import NO_FAULT, QrngFault
from rtl.satellite.layouts import CacheAnswer, DownlinkWord
from rtl.simonly.tx_cosim_top import (
    TxCosimParams,
    TxCosimTop,
    cosim_build_options,
    symbol_capture_bits,
)
from tb.runner import ROOT, SIMULATORS, run_cocotb

SUMMARY_PATH = ROOT / "build" / "sim" / "summary.json"
DEFAULT_PULSES = 1 << 20


REAL_TIME_PULSES_PER_S = 625e6  # the terminal's pulse rate: co-simulation speed / real time


class CosimError(RuntimeError):
    """A co-simulation did not produce a result (build error, crash or a failing scoreboard)."""


def cosim_widths(params: TxCosimParams) -> dict[str, int]:
    """Beat widths of the three captures, for the cocotb side."""
    return {
        "sym": symbol_capture_bits(params.lanes),
        "dl": data.Layout.cast(DownlinkWord).size,
        "ans": data.Layout.cast(CacheAnswer).size,
    }


def run_tx_cosim(simulator: str, pulses: int, params: TxCosimParams = TxCosimParams(),
                 case: str | None = None, fault: QrngFault = NO_FAULT) -> dict:
    """Run ``pulses`` pulses of the transmitter chain (with the QRNG ``fault``); return the
    result with timing fields."""
    if pulses < 1:
        raise ValueError(f"pulses={pulses} must be positive")
    case = case or f"tx_cosim_l{params.lanes}"
    result_path = ROOT / "build" / "cocotb" / case / simulator / "result.json"
    result_path.unlink(missing_ok=True)
    widths = cosim_widths(params)
    start = time.perf_counter()
    try:
        run_cocotb(TxCosimTop(params), "tb.satellite.cocotb_tx_cosim", simulator, case=case,
                   params={"top": asdict(params), "widths": widths, "pulses": pulses,
                           "fault": asdict(fault), "result_path": str(result_path)},
                   testcase="tx_chain_matches_models", **cosim_build_options())
    except SystemExit as exc:  # the cocotb runner exits when a test fails
        raise CosimError(f"{simulator} co-simulation failed (exit {exc.code})") from None
    wall = time.perf_counter() - start
    if not result_path.exists():
        raise CosimError(f"{simulator} co-simulation wrote no result ({result_path})")
    result = json.loads(result_path.read_text())
    result.update({
        "simulator": simulator,
        "wall_s": round(wall, 3),
        "pulses_per_s": round(result["pulses"] / result["sim_wall_s"], 1),
        "pulses_per_cpu_s": round(result["pulses"] / result["sim_cpu_s"], 1),
        "cycles_per_s": round(result["cycles"] / result["sim_wall_s"], 1),
        "detections": 0,  # the optical channel joins in the end-to-end co-simulation (sim/e2e.py)
        "sifted_bits": 0,
    })
    return result


def print_summary(result: dict) -> None:
    s = result["streams"]
    print(f"transmitter co-simulation on {result['simulator']}: {result['pulses']:,} pulses in "
          f"{result['cycles']:,} cycles, {result['pulses_per_s'] / 1e6:.2f} M pulses/s "
          f"(simulation loop; {result['pulses_per_cpu_s'] / 1e6:.2f} M per CPU second), "
          f"{result['wall_s']:.1f} s wall with build")
    for name, tally in s.items():
        print(f"  {name:14s} {tally['compared']:>10,} beats compared, "
              f"{tally['mismatches']} mismatches")
    st = result["cache_answer_status"]
    print(f"  cache answers: {st['ok']:,} ok, {st['expired']:,} expired, {st['pending']:,} pending;"
          f" downlink payload words {result['downlink_payload_words']:,}; alarm {result['alarm']}")
    print(f"  safe pulses {result['safe_pulses']}; sync word k leaves with pulse k * 2**16 + "
          f"{result['sync_pulse_offsets']} ({result['sync_frames_checked']} frames)")
    print("  PASS: zero mismatches" if result["mismatches"] == 0
          else f"  FAIL: {result['mismatches']} mismatches")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.tx_cosim",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--simulator", choices=SIMULATORS, default="verilator")
    parser.add_argument("--pulses", type=int, default=DEFAULT_PULSES)
    parser.add_argument("--seed", type=int, default=TxCosimParams.seed)
    args = parser.parse_args(argv)
    if args.pulses < 1:
        parser.error(f"--pulses {args.pulses} must be positive")
    try:
        result = run_tx_cosim(args.simulator, args.pulses, replace(TxCosimParams(), seed=args.seed))
    except CosimError as exc:
        print(f"sim: error: {exc}", file=sys.stderr)
        return 1
    SUMMARY_PATH.parent.mkdir(parents=True, exist_ok=True)
    SUMMARY_PATH.write_text(json.dumps(result, indent=2) + "\n")
    print_summary(result)
    print(f"  summary: {SUMMARY_PATH}")
    return 0 if result["mismatches"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
