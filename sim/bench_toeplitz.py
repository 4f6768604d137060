"""Toeplitz privacy amplification in RTL (``make bench``): ``pa_toeplitz_rtl_100kbit`` and
``pa_toeplitz_rtl_900kbit`` (Mbit/s of input at the fabric clock, 156.25 MHz), from the cycles
the flight engine (:class:`rtl.distill.toeplitz.ToeplitzOnChip`, 16 input bits a cycle, 1024
accumulators) takes in Verilator from a block's job to its status, every key word checked
against the model; the output length is :func:`tb.distill.toeplitz_harness.key_bits_for`.
``pa_toeplitz_rtl_pass_budget`` (fraction): the time to privacy-amplify the sifted key of the
Table 1 pass with the most sifted packets in 900 kbit blocks, over that pass's duration."""

import math
import pathlib
import time
import tomllib

from models.constants import FABRIC_CLOCK_HZ
from models.sifting.packets import PACKET_BITS
from tb.distill.toeplitz_harness import key_bits_for, run_flight_blocks

ROOT = pathlib.Path(__file__).resolve().parent.parent
SIZES = (100_000, 900_000)



def busiest_pass() -> tuple[str, int, float]:
    """(name, sifted bits, duration in s) of the Table 1 pass with the most sifted packets."""
    best = ("", 0, 1.0)
    for path in sorted((ROOT / "configs" / "passes").glob("*.toml")):
        cfg = tomllib.loads(path.read_text())
        bits = int(cfg["paper"]["sifted_packets"]) * PACKET_BITS
        if bits > best[1]:
            best = (path.stem, bits, float(cfg["duration_s"]))
    return best


def run(out_dir: pathlib.Path) -> list[dict]:
    start = time.perf_counter()
    figures = run_flight_blocks("verilator", "toeplitz_bench",
                                [(n, key_bits_for(n)) for n in SIZES])
    wall = time.perf_counter() - start
    context = {"simulator": "verilator", "clock_mhz": FABRIC_CLOCK_HZ / 1e6, "width": 16,
               "window": 1024, "memory": "block RAM, one read per port and cycle",
               "wall_s": round(wall, 1)}
    entries = []
    for f in figures:
        seconds = f["cycles"] / FABRIC_CLOCK_HZ
        entries.append({"name": f"pa_toeplitz_rtl_{f['n'] // 1000}kbit",
                        "value": round(f["n"] / seconds / 1e6, 2), "unit": "Mbit/s",
                        "of": "input", "n": f["n"], "m": f["m"], "cycles": f["cycles"],
                        "output_mbit_s": round(f["m"] / seconds / 1e6, 2),
                        "mismatches": f["mismatches"], **context})
    name, bits, duration = busiest_pass()
    big = figures[-1]
    busy = math.ceil(bits / big["n"]) * big["cycles"] / FABRIC_CLOCK_HZ
    entries.append({"name": "pa_toeplitz_rtl_pass_budget", "value": round(busy / duration, 6),
                    "unit": "fraction", "pass": name, "sifted_bits": bits,
                    "block_bits": big["n"], "busy_s": round(busy, 3), "duration_s": duration,
                    **context})
    return entries
