"""Sync strobes lost to the sync channel's calibration slots, with and without the strobe guard
(model level: :func:`models.ground.strobe_guard.guarded_input` and
:func:`models.ground.tdc.run_channel`; docs/ground.md "TDC calibration").

A strobe train of ``--frames`` frames drifts at ``+ppm`` and ``-ppm`` (clock offset plus range
rate, relative to the frame period) from ``--phases`` starting phases spread evenly over a
calibration period; for each, the strobes the channel reports with the plain mux and with the
guarded one, and the slots the guard skipped. The line is a short behavioural line (64 taps,
10 carry bits per tap: the guard reads only tap 0, so the line's resolution does not change
what is lost; ``--line e2e`` takes the co-simulation's 320-tap line, four times slower).

``python -m sim.strobe_slots [--frames 10000] [--ppm 1] [--phases 4] [--offset 0]
[--line short|e2e]``
prints one row per run and the totals per 10,000 frames.
"""

import argparse
import sys
from dataclasses import dataclass

import numpy as np

from models.constants import FABRIC_CLOCK_PS, TDC_CAL_PERIOD
from models.ground.stimulus import tdc_line
from models.ground.strobe_guard import FRAME_CYCLES, guarded_input
from models.ground.tdc import ChannelConfig, DelayLine, channel_input, default_pulses, run_channel
from models.ground.timing import CH_SYNC

LINES = {"short": lambda: DelayLine(taps=64, stride=10, seed=99), "e2e": lambda: tdc_line(CH_SYNC)}


@dataclass
class Run:
    """One strobe train: strobes sent, reported by the plain and the guarded channel, slots
    run and skipped by the guard."""

    phase: float
    ppm: float
    sent: int
    plain: int
    guarded: int
    slots: int
    skipped: int


def measure(frames: int, ppm: float, phase: float, line: DelayLine) -> Run:
    """One strobe train starting at ``phase`` (cycles into a calibration period)."""
    k = np.arange(1, frames + 1)
    rises = (k * FRAME_CYCLES * (1 + ppm * 1e-6) + phase) * FABRIC_CLOCK_PS
    cycles = (frames + 1) * FRAME_CYCLES + TDC_CAL_PERIOD
    cfg = ChannelConfig(channel=CH_SYNC)
    widths = default_pulses(rises)
    plain = channel_input(rises, widths, 0, cycles, channel=CH_SYNC)
    rows, codes = line.sparse_codes(*plain, cycles)
    bare = run_channel(codes, cfg, rows, cycles)
    g = guarded_input(rises, widths, 0, cycles, line)
    hits = run_channel(g.codes, cfg, g.cycle, cycles, g.guard.skipped)
    return Run(phase, ppm, frames, int((~bare.calibration).sum()), int((~hits.calibration).sum()),
               len(g.guard.skip), len(g.guard.skipped))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=10_000)
    parser.add_argument("--ppm", type=float, default=1.0)
    parser.add_argument("--phases", type=int, default=4)
    parser.add_argument("--offset", type=float, default=0.0,
                        help="cycles added to every starting phase")
    parser.add_argument("--line", choices=sorted(LINES), default="short")
    args = parser.parse_args(argv)
    if args.frames < 1 or args.phases < 1 or not 0 < abs(args.ppm) <= 125:
        print(f"strobe_slots: need frames >= 1, phases >= 1 and 0 < |ppm| <= 125, not "
              f"{args.frames}, {args.phases}, {args.ppm}", file=sys.stderr)
        raise SystemExit(2)
    line = LINES[args.line]()
    runs = []
    print("| start phase | ppm | strobes | lost, plain mux | lost, guarded | slots skipped |")
    print("|---:|---:|---:|---:|---:|---:|")
    for phase in np.arange(args.phases) * TDC_CAL_PERIOD / args.phases + 0.5 + args.offset:
        for ppm in (args.ppm, -args.ppm):
            r = measure(args.frames, ppm, float(phase), line)
            runs.append(r)
            print(f"| {r.phase:.1f} | {r.ppm:+g} | {r.sent} | {r.sent - r.plain} | "
                  f"{r.sent - r.guarded} | {r.skipped} of {r.slots} |")
    per = 10_000 / sum(r.sent for r in runs)
    print(f"per 10,000 frames: plain mux {sum(r.sent - r.plain for r in runs) * per:.1f} "
          f"strobes lost, guarded {sum(r.sent - r.guarded for r in runs) * per:.1f}; "
          f"slots skipped {sum(r.skipped for r in runs) * per:.1f} "
          f"({100 * sum(r.skipped for r in runs) / sum(r.slots for r in runs):.3f} % of the "
          "sync channel's slots)")


if __name__ == "__main__":
    main()
