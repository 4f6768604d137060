"""cocotb tests: QRNG health intake with healthy, stuck and biased sources, reset mid-stream."""

import random

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge

from models.health import run_health_tests
from models.qrng import biased_words, qrng_words
from tb.packing import pack_lanes
from tb.params import tb_params
from tb.stream import InOrderScoreboard, StreamDriver, StreamMonitor


async def reset(dut):
    dut.rst.value = 1
    await ClockCycles(dut.clk, 2)
    dut.rst.value = 0
    await RisingEdge(dut.clk)


async def run_case(dut, kind: str) -> None:
    p = tb_params()
    lanes, beats, fault_at, seed = p["lanes"], p["beats"], p["fault_at"], p["seed"]
    rng = random.Random(f"{seed}-{kind}")
    pulses = np.arange(beats * lanes)
    words = qrng_words(seed, pulses)
    if kind == "stuck":
        words[fault_at * lanes:] = 0xC3C3C3C3
    elif kind == "biased":
        words[fault_at * lanes:] = biased_words(seed, pulses[fault_at * lanes:])
    words = words.reshape(beats, lanes)
    verdict = run_health_tests(words)
    passed = beats if verdict.fail_beat is None else verdict.fail_beat

    await reset(dut)
    board = InOrderScoreboard(f"health-{kind}", dut._log)
    board.expect(pack_lanes(w, 32) for w in words[:passed])
    monitor = StreamMonitor(dut, "o", rng, stall=p["stall"], callback=board.actual)
    task = cocotb.start_soon(monitor.run())
    await StreamDriver(dut, "i", rng, idle=p["idle"]).send(pack_lanes(w, 32) for w in words)
    await ClockCycles(dut.clk, 20)
    task.cancel()
    board.check_done()
    assert int(dut.alarm.value) == int(verdict.rct) | int(verdict.apt) << 1, (
        f"alarm {int(dut.alarm.value):#x}, model {verdict}"
    )


@cocotb.test()
async def healthy_source_passes_everything(dut):
    cocotb.start_soon(Clock(dut.clk, 6400, unit="ps").start())
    dut.i__valid.value = 0
    await run_case(dut, "healthy")
    # Reset in mid-stream of a faulty source, then a stuck and a biased source.
    await run_case(dut, "stuck")
    await run_case(dut, "biased")
