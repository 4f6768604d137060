"""Modulator gearbox: the 17 pins deserialised at 625 MS/s in Amaranth's simulator (fabric and
312.5 MHz ECLK clocks, the ODDRX2F and DELAYF behavioural models) against the golden symbol
sequence of a window with safe pulses, and the fine-delay registers walked onto every DELAYF."""

import numpy as np
import pytest
from amaranth.hdl import ClockDomain, ClockSignal, Module
from amaranth.lib.wiring import connect

from models.constants import LANES, PULSE_PERIOD_PS
from models.qrng import qrng_offered
from models.symbols import Intensity
from models.transmitter import laser_schedule, symbol_path_holds, transmitted_symbols
from rtl.satellite.gearbox import CHANNEL_PINS, PIN_LATENCY_PS, ModulatorGearbox
from rtl.simonly.ecp5_primitives import DELAYF, ODDRX2F, PrimitiveModelError
from rtl.simonly.sourced_tx import SourcedTx
from tb.satellite.gearbox_sim import PS, run_gearbox

SEED, ROWS, IDLE, HOLD = 9, 64, 150, 100
UI_S = PULSE_PERIOD_PS * PS


def run_window(cycles: int, delays: list[tuple[int, dict[str, int]]]) -> dict:
    """``cycles`` fabric cycles of SourcedTx -> ModulatorGearbox; ``delays``: (cycle, register
    values) to set. Returns the pins sampled mid-UI, the beats seen and the delay state."""
    top = Module()
    top.domains.sync = sync = ClockDomain("sync")
    top.domains.eclk = eclk = ClockDomain("eclk")
    top.d.comb += eclk.rst.eq(sync.rst)
    top.submodules.tx = tx = SourcedTx(SEED, LANES, ROWS, IDLE, HOLD)
    top.submodules.gearbox = gearbox = ModulatorGearbox()
    connect(top, tx.symbols, gearbox.i)
    out = {"pins": {name: [] for name in CHANNEL_PINS}, "beats": [], "taps": [], "applied": []}
    changes = dict(delays)

    async def bench(ctx):
        ctx.set(sync.rst, 1)
        for _ in range(2):  # ``repeat`` raises DomainReset while the reset is high
            await ctx.tick("sync")
        ctx.set(sync.rst, 0)
        await ctx.tick("sync")
        # Now just after a fabric edge E: unit intervals start at E + j * 1.6 ns.
        for cycle in range(cycles):
            if cycle in changes:
                for name, value in changes[cycle].items():
                    ctx.set(getattr(gearbox.delay, name), value)
            for ui in range(LANES):
                await ctx.delay((UI_S / 2) if ui == 0 else UI_S)
                if ui == 0:
                    out["beats"].append((ctx.get(tx.symbols.valid),
                                         ctx.get(tx.symbols.payload.pulse)))
                for name in CHANNEL_PINS:
                    out["pins"][name].append(ctx.get(getattr(gearbox, name)))
            await ctx.tick("sync")
        out["taps"] = {key: ctx.get(line.taps) for key, line in gearbox.delay_lines.items()}
        out["applied"] = {name: ctx.get(getattr(gearbox.applied, name)) for name in CHANNEL_PINS}

    run_gearbox(top, bench)
    return out


def test_pins_carry_the_golden_sequence_and_fine_delays_settle():
    cycles = 400
    delays = [(0, {"im": 5, "pm": 17, "trigger": 100}), (250, {"trigger": 40})]
    out = run_window(cycles, delays)
    valid = np.array([v for v, _ in out["beats"]], dtype=bool)
    pulses = np.array([p for _, p in out["beats"]], dtype=np.uint64)[valid]
    first = int(np.flatnonzero(valid)[0])
    assert np.array_equal(pulses, LANES * np.arange(len(pulses), dtype=np.uint64))
    beats = len(pulses)
    schedule = laser_schedule(SEED, LANES, qrng_offered(SEED, IDLE, beats),
                              symbol_path_holds(SEED, HOLD, beats))
    sym = transmitted_symbols(SEED, np.arange(beats * LANES, dtype=np.uint64), schedule, LANES)
    assert (sym.intensity == Intensity.OFF).sum() > 50  # safe pulses in the window
    # The beat seen in cycle `first + b` reaches the pins PIN_LATENCY_PS after that cycle's end.
    start = LANES * (first + 1) + PIN_LATENCY_PS // PULSE_PERIOD_PS
    usable = min(beats * LANES, len(out["pins"]["im"]) - start)
    assert usable > 1000
    want = {"im": sym.im_code, "pm": sym.pm_code,
            "trigger": (sym.intensity != Intensity.OFF).astype(np.uint8)}
    for name, pins in CHANNEL_PINS.items():
        got = np.array(out["pins"][name][start:start + usable], dtype=np.int64)
        assert np.array_equal(got, want[name][:usable].astype(np.int64)), name
        assert got.max() < 1 << pins
    assert out["applied"] == {"im": 5, "pm": 17, "trigger": 40}
    for (name, _pin), taps in out["taps"].items():
        assert taps == out["applied"][name]


def test_primitive_models_refuse_what_they_do_not_model():
    with pytest.raises(PrimitiveModelError, match="ECLK"):
        ODDRX2F(i_D0=0, i_D1=0, i_D2=0, i_D3=0, i_SCLK=ClockSignal("sync"), i_RST=0, o_Q=None)
    with pytest.raises(PrimitiveModelError, match="DEL_MODE"):
        DELAYF(p_DEL_MODE="SCLK_ALIGNED", i_A=0)
    with pytest.raises(ValueError, match="lanes=2"):
        ModulatorGearbox(2)
