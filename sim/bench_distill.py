"""On-board distillation RTL benchmarks for ``make bench`` (SPEC 8 entries).

* ``ldpc_syndrome_rtl_qber{1,2,4}`` (Mbit/s): the syndrome encoder (:mod:`rtl.distill.syndrome`,
  16-bit words) on one 100 kbit packet with the one-way rate the model chooses at 1, 2 and 4 %
  QBER (upper bound of an 8000-bit sample), input at one word per cycle and output never
  stalled: packet bits / (measured cycles from the first word offered to the status beat ×
  the 6.4 ns fabric clock), Amaranth simulator. Each entry carries ``cycles``, the code's
  ``m`` and ``lift``, and ``realtime_fraction``: the fraction of the encoder's time a pass
  needs, the paper's sifted-key rate (20 packets of 100 kbit in the 300 s of the 2022-09-25
  Jinan pass, :data:`PASS_SIFTED_BIT_S`) over the encoder's throughput.
* ``ldpc_syndrome_rtl`` (Mbit/s): the slowest of the three (the pass's real-time bound).
"""

import pathlib
from typing import Any

import numpy as np
from amaranth.hdl import ClockDomain, Module, Value
from amaranth.sim import Simulator

from models.constants import FABRIC_CLOCK_HZ
from models.postprocess import ec
from rtl.distill.codes import code_table
from rtl.distill.syndrome import SyndromeEncoder
from tb.distill.syndrome import bit_words
from tb.pysim import CLOCK_PERIOD

WIDTH = 16
QBERS = (0.01, 0.02, 0.04)
SAMPLE_BITS = 8000
PASS_SIFTED_BIT_S = 20 * 100_000 / 300.0  # the paper's Jinan pass: 20 packets in 300 s


def planned_m(qber: float, n: int = ec.CODEWORD_BITS) -> int:
    """The model's one-way syndrome length for a signal-only packet at ``qber``."""
    cfg = ec.EcConfig()
    detected = np.array([[SAMPLE_BITS, 0, 0], [0, 0, 0]])
    errors = np.array([[round(SAMPLE_BITS * qber), 0, 0], [0, 0, 0]])
    estimate = ec.estimate_channel(detected, errors, cfg)
    (plan,) = ec.plan_codewords(np.zeros(n, dtype=np.uint8), estimate, cfg)
    return plan.m


def packet_cycles(n: int, m: int, seed: int = 0) -> int:
    """Cycles of one packet through the encoder, first word offered to status beat."""
    dut = SyndromeEncoder([code_table(n, m, WIDTH)], WIDTH)
    words = bit_words(np.random.default_rng(seed).integers(0, 2, n, dtype=np.uint8), WIDTH)
    top = Module()
    top.domains.sync = ClockDomain("sync")
    top.submodules.dut = dut
    result: dict[str, int] = {}

    async def bench(ctx: Any) -> None:
        ctx.set(dut.o.ready, 1)
        ctx.set(dut.status.ready, 1)
        await ctx.tick().repeat(m // WIDTH + 4)  # the accumulator clear after reset
        cycles, k = 0, 0
        ctx.set(dut.i.valid, 1)
        ctx.set(Value.cast(dut.i.payload), words[0])
        while True:
            _, _, ready, done = await ctx.tick().sample(dut.i.ready, dut.status.valid)
            cycles += 1
            if ready and k < len(words):
                k += 1
                if k < len(words):
                    ctx.set(Value.cast(dut.i.payload), words[k])
                else:
                    ctx.set(dut.i.valid, 0)
            if done:
                break
        result["cycles"] = cycles

    sim = Simulator(top)
    sim.add_clock(CLOCK_PERIOD)
    sim.add_testbench(bench)
    sim.run()
    return result["cycles"]


def run(out_dir: pathlib.Path) -> list[dict]:
    rows = []
    n = ec.CODEWORD_BITS
    for qber in QBERS:
        m = planned_m(qber)
        cycles = packet_cycles(n, m)
        mbit_s = n / (cycles / FABRIC_CLOCK_HZ) / 1e6
        rows.append({
            "name": f"ldpc_syndrome_rtl_qber{round(100 * qber)}", "value": mbit_s,
            "unit": "Mbit/s", "cycles": cycles, "n": n, "m": m,
            "lift": code_table(n, m, WIDTH).lift, "width": WIDTH,
            "realtime_fraction": PASS_SIFTED_BIT_S / (mbit_s * 1e6),
            "simulator": "amaranth pysim"})
    worst = min(rows, key=lambda row: row["value"])
    rows.append({**worst, "name": "ldpc_syndrome_rtl", "qber": worst["name"][-1]})
    return rows
