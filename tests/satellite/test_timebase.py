"""Laser timebase: one beat per cycle whatever the QRNG and the symbol path do, the safe symbol
(laser off) for underflow, holds and health alarms, counted by cause and kept in the RND cache;
one body (tb.satellite.bodies.laser_tx) in Amaranth's simulator and through cocotb. The
co-simulation (test_tx_cosim.py) adds the sync-word alignment over whole frames."""

import pytest

from models.qrng import FAULT_BIASED, FAULT_STUCK
from rtl.simonly.sourced_tx import SourcedTx
from tb.dual import backend_params, run_body
from tb.satellite import bodies

LANES, ROWS, IDLE, HOLD = 4, 64, 100, 100


def laser_params(beats: int, fault: dict | None = None) -> dict:
    return {"seed": 7, "lanes": LANES, "cache_rows": ROWS, "qrng_idle": IDLE, "symbol_hold": HOLD,
            "beats": beats, "queries": beats // 4, "idle": 0.6, "stall": 0.2,
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
