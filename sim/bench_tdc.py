"""TDC figures for ``make bench`` (SPEC 4.0): precision, linearity before and after the
code-density calibration, sustained rate per channel.

All through the RTL-exact models (:func:`models.ground.tdc_calibration.run_tdc`: calibration
mux, behavioural line, channel, calibrator), with the default ECP5-like line (seed
``TDC_LINE_SEED``) and a second line (seed + 1); formulas in ``docs/ground.md``
("TDC calibration")::

    python -m sim.bench tdc
"""

from __future__ import annotations

import pathlib

import numpy as np

from models.constants import (
    FABRIC_CLOCK_PS,
    TDC_CAL_HITS,
    TDC_CAL_PERIOD,
    TDC_DEAD_CYCLES,
    TDC_LINE_SEED,
    TDC_PULSE_PS,
)
from models.ground.tdc import ChannelConfig, DelayLine
from models.ground.tdc_calibration import (
    CalibratorConfig,
    interval_errors,
    linear_table,
    run_tdc,
    startup_table,
    table_quality,
)

INTERVAL_PS = 12_345.6
PAIRS = 5000
RATE_CYCLES = 64 * TDC_CAL_PERIOD


def measure_precision(cal_hits: int = TDC_CAL_HITS, pairs: int = PAIRS,
                      seed: int = 1) -> dict[str, object]:
    """Interval RMS (calibrated and nominal tables) and the linearity of both tables."""
    lines = (DelayLine(), DelayLine(seed=TDC_LINE_SEED + 1))
    tables = tuple(startup_table(line, cal_hits, channel=c) for c, line in enumerate(lines))
    nominal = tuple(linear_table(line) for line in lines)
    rms = {}
    for name, tabs in (("calibrated", tables), ("nominal", nominal)):
        err = interval_errors(lines, tabs, INTERVAL_PS, pairs, seed)
        rms[name] = float(np.sqrt(np.mean(err**2)))
        rms[name + "_pairs"] = len(err)
    quality = {name: [table_quality(line, tab) for line, tab in zip(lines, tabs, strict=True)]
               for name, tabs in (("calibrated", tables), ("nominal", nominal))}
    return {"rms": rms, "quality": quality}


def measure_rate(cycles: int = RATE_CYCLES) -> dict[str, float]:
    """Tags per second of one channel fed a pulse train at its dead-time limit (one pulse every
    ``TDC_DEAD_CYCLES + 1`` cycles, mid-cycle): every pulse leaves as a tag except those
    hidden in or blanked around calibration slots."""
    spacing = TDC_DEAD_CYCLES + 1
    rises = (np.arange(10, cycles - 10, spacing) + 0.5) * FABRIC_CLOCK_PS
    line = DelayLine()
    hits, tags = run_tdc(line, rises, np.full(len(rises), float(TDC_PULSE_PS)), cycles,
                         ChannelConfig(), CalibratorConfig(initial=tuple(linear_table(line))))
    seconds = cycles * FABRIC_CLOCK_PS * 1e-12
    if hits.lost_dead or hits.lost_pileup or tags.uncalibrated:
        raise AssertionError(f"pulses at the dead-time limit lost: {hits.lost_dead} dead, "
                             f"{hits.lost_pileup} pile-up, {tags.uncalibrated} uncalibrated")
    # the rest of the pulses rose inside a slot (the mux hid them) or were blanked after one
    hidden = len(rises) - len(tags.time) - hits.lost_calibration
    return {"rate_mcps": len(tags.time) / seconds / 1e6,
            "offered_mcps": len(rises) / seconds / 1e6, "lost_dead": hits.lost_dead,
            "lost_pileup": hits.lost_pileup, "lost_calibration": hits.lost_calibration,
            "hidden": hidden, "pulses": len(rises), "tags": len(tags.time)}


def run(out_dir: pathlib.Path) -> list[dict]:
    prec = measure_precision()
    rate = measure_rate()
    rms, quality = prec["rms"], prec["quality"]
    context = {"cal_hits": TDC_CAL_HITS, "lines": [TDC_LINE_SEED, TDC_LINE_SEED + 1]}
    rows = [
        {"name": "tdc_precision_ps", "value": round(rms["calibrated"], 2), "unit": "ps",
         "table": "code density", "interval_ps": INTERVAL_PS, "pairs": rms["calibrated_pairs"],
         "nominal_table_ps": round(rms["nominal"], 2), **context},
    ]
    for table in ("nominal", "calibrated"):
        q = quality[table]
        rows += [
            {"name": "tdc_dnl_lsb", "value": round(max(x.dnl_lsb for x in q), 3), "unit": "LSB",
             "table": table, "rms_lsb": round(max(x.dnl_rms_lsb for x in q), 3), **context},
            {"name": "tdc_inl_ps", "value": round(max(x.inl_ps for x in q), 1), "unit": "ps",
             "table": table, "rms_ps": round(max(x.inl_rms_ps for x in q), 1), **context},
        ]
    rows.append({"name": "tdc_channel_rate_mcps", "value": round(rate["rate_mcps"], 3),
                 "unit": "Mcps", "offered_mcps": round(rate["offered_mcps"], 3),
                 "lost_dead": rate["lost_dead"], "lost_pileup": rate["lost_pileup"],
                 "lost_calibration": rate["lost_calibration"], "hidden": rate["hidden"],
                 "cal_period": TDC_CAL_PERIOD,
                 "dead_cycles": TDC_DEAD_CYCLES})
    return rows
