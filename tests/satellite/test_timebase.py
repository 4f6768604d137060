"""Laser timebase: one beat per cycle whatever the QRNG and the symbol path do, the safe symbol
(laser off) for underflow, holds and health alarms, counted by cause and kept in the RND cache;
one body (tb.satellite.bodies.laser_tx) in Amaranth's simulator and through cocotb. The
co-simulation (test_tx_cosim.py) adds the sync-word alignment over whole frames."""

import numpy as np
import pytest

from models.patterns import xorshift32
from models.qrng import FAULT_BIASED, FAULT_STUCK, qrng_offered
from rtl.simonly.sourced_tx import SourcedTx
from rtl.simonly.xorshift import Xorshift32
from tb import pysim
from tb.dual import backend_params, run_body
from tb.satellite import bodies

LANES, ROWS, IDLE, HOLD = 4, 64, 100, 100


def laser_params(beats: int, fault: dict | None = None) -> dict:
    return {"seed": 7, "lanes": LANES, "cache_rows": ROWS, "qrng_idle": IDLE, "symbol_hold": HOLD,
            "beats": beats, "queries": beats // 2, "idle": 0.6, "stall": 0.2,
            **({"fault": fault} if fault else {})}


@pytest.mark.parametrize("backend", backend_params(slow_cocotb=True))
def test_laser_fires_every_cycle_under_qrng_idle_and_holds(backend):
    """The Verilog cases are slow-marked: the transmitter co-simulation (test_tx_cosim.py)
    covers the same top on both simulators in `make test`."""
    run_body(backend, SourcedTx(7, LANES, ROWS, IDLE, HOLD), bodies.laser_tx,
             case="laser_tx", params=laser_params(1500))


@pytest.mark.parametrize(("fault", "name"), [(FAULT_STUCK, "stuck"), (FAULT_BIASED, "biased")])
def test_health_alarm_makes_every_later_pulse_safe(fault, name):
    """Stuck words trip the repetition count test within 11 beats, biased ones the adaptive
    proportion test within a few 512-beat windows; from the failing beat on the laser sends the
    safe symbol, counted as alarm-safe."""
    beats = 700 if name == "stuck" else 2200
    run_body("pysim", SourcedTx(7, LANES, ROWS, IDLE, HOLD), bodies.laser_tx,
             case=f"laser_tx_{name}", params=laser_params(beats, {"code": fault, "from_beat": 500}))


def test_pattern_model_is_the_xorshift_generator_across_blocks():
    """models.patterns.xorshift32 (1024 states per numpy pass) against the RTL generator for
    three passes, and the idle pattern's rate."""
    cycles, seed = 2600, 0x51ED_2701 ^ 7
    dut = Xorshift32(seed)
    got = []

    async def bench(ctx):
        for _ in range(cycles):
            got.append(ctx.get(dut.value))
            await ctx.tick()

    pysim.run(dut, bench)
    assert np.array_equal(np.array(got, dtype=np.uint32), xorshift32(seed, cycles))
    offered = qrng_offered(7, IDLE, 1 << 16)
    assert abs((~offered).mean() - IDLE / 1024) < 0.01
