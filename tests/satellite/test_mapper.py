"""SymbolMapper: Amaranth-simulator unit tests and cocotb scoreboard runs on both simulators."""

import random

import numpy as np
import pytest

from models.qrng import qrng_words
from models.symbols import DriveLut, MapperConfig, map_symbols
from rtl.satellite.mapper import SymbolMapper
from tb import pysim
from tb.packing import symbol_beat_value
from tb.runner import SIMULATORS, run_cocotb


def _run_pysim(lanes, beats, config, lut_writes=(), seed=3):
    dut = SymbolMapper(lanes)
    rng = random.Random(seed)
    words = qrng_words(seed, np.arange(beats * lanes)).reshape(beats, lanes)
    got: list[int] = []

    async def configure(ctx):
        ctx.set(dut.thresholds, {
            "signal_below": config.signal_below,
            "decoy_below": config.decoy_below,
            "z_below": config.z_below,
        })
        for addr, data in lut_writes:
            ctx.set(dut.lut_write, {"en": 1, "addr": addr, "data": data})
            await ctx.tick()
        ctx.set(dut.lut_write, {"en": 0, "addr": 0, "data": 0})
        await pysim.producer(dut.i, [list(map(int, w)) for w in words], rng, idle=0.3)(ctx)

    pysim.run(dut, configure, pysim.consumer(dut.o, beats, got, rng, stall=0.3))
    return words, got


@pytest.mark.parametrize("lanes", [1, 4])
def test_mapper_matches_model(lanes):
    config = MapperConfig(100, 180, 200)
    words, got = _run_pysim(lanes, 300, config)
    sym = map_symbols(words, config)
    assert got == [symbol_beat_value(b * lanes, sym, b) for b in range(len(words))]


def test_lut_registers_drive_the_modulator_codes():
    lut = DriveLut(im=(0x11, 0x22, 0x33), pm=(0x44, 0x55, 0x66, 0x77))
    writes = [(a, d) for a, d in enumerate(lut.registers()) if a != 3]
    words, got = _run_pysim(2, 100, MapperConfig(), lut_writes=writes)
    sym = map_symbols(words, MapperConfig(), lut)
    assert got == [symbol_beat_value(b * 2, sym, b) for b in range(len(words))]


def test_symbol_frequencies_within_five_sigma():
    """10**6 pulses of the default mapping: every class frequency within 5 sigma."""
    n = 1 << 20
    sym = map_symbols(qrng_words(2022, np.arange(n)))
    expected = {
        "signal": (sym.intensity == 0, 0.5), "decoy": (sym.intensity == 1, 0.25),
        "vacuum": (sym.intensity == 2, 0.25), "Z": (sym.basis == 0, 0.5),
        "bit1": (sym.bit == 1, 0.5),
    }
    for name, (mask, p) in expected.items():
        sigma = np.sqrt(n * p * (1 - p))
        assert abs(mask.sum() - n * p) < 5 * sigma, name


def test_probabilities_map_to_thresholds():
    assert MapperConfig.from_probabilities(0.5, 0.25, 0.5) == MapperConfig(128, 192, 128)
    with pytest.raises(ValueError, match="probabilities out of range"):
        MapperConfig.from_probabilities(0.8, 0.3, 0.5)
    with pytest.raises(ValueError, match="decoy_below"):
        MapperConfig(200, 100, 128)


@pytest.mark.cocotb
@pytest.mark.parametrize("simulator", SIMULATORS)
@pytest.mark.parametrize(
    ("lanes", "thresholds"), [(4, (128, 192, 128)), (2, (77, 200, 31))], ids=["default", "custom"]
)
def test_mapper_cocotb(simulator, lanes, thresholds):
    run_cocotb(
        SymbolMapper(lanes), "tb.satellite.cocotb_mapper", simulator,
        case=f"mapper_l{lanes}",
        params={"lanes": lanes, "beats": 2000, "seed": 7 + lanes, "thresholds": thresholds,
                "idle": 0.2, "stall": 0.3},
    )
