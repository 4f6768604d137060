"""LaserTimebase at its cycle edges, in Amaranth's simulator: the first beat leaves exactly
``start_delay + 1`` cycles after reset (start delays 0, 1 and the transmitter's 2) and mapper
beats offered before it are dropped; a single missing mapper beat, a single held one and the
first beat after the alarm each make exactly that beat safe (the beats on either side carry their
random symbols); the pulse index steps by ``lanes`` every beat from 0. The schedule of safe
beats is the golden model's (:func:`models.transmitter.laser_schedule`, with the alarm from the
beat the alarm reaches on); every beat, the safe counters and ``fired`` are compared.

The 64-bit pulse index never wraps in use (2^64 pulses at 625 MHz take 936 years) and cannot
be preset, so its wrap has no case. The cocotb runs of this block are the transmitter
co-simulation's (``test_tx_cosim.py``, random): its output stream has no ``ready``, which the
directed ``tb.dual`` bodies need."""

import numpy as np
import pytest
from amaranth.hdl import Value

from models.symbols import SAFE_SYMBOL
from models.transmitter import SafeCause, laser_schedule
from rtl.common.payload import pack, unpack
from rtl.satellite.layouts import Drive, mapped_beat, symbol_beat
from rtl.satellite.timebase import LaserTimebase
from tb import pysim

LANES = 4
SAFE_DRIVE = {"im": 0xA5, "pm": 0x3C}
#: Per beat: the mapper offers it, the symbol path holds it.
OFFERED = np.array([1, 1, 0, 1, 1, 1, 1, 1, 1, 1], dtype=bool)
HOLD = np.array([0, 0, 0, 0, 1, 0, 0, 0, 0, 0], dtype=bool)
ALARM_CYCLE_BEAT = 7  # the alarm input rises in beat 7's cycle: beat 8 is the first alarm-safe


def beat_payload(rng: np.random.Generator) -> dict:
    return {"symbol": [{"intensity": int(rng.integers(0, 3)), "basis": int(rng.integers(0, 2)),
                        "bit": int(rng.integers(0, 2))} for _ in range(LANES)],
            "drive": [{"im": int(rng.integers(0, 256)), "pm": int(rng.integers(0, 256))}
                      for _ in range(LANES)]}


@pytest.mark.parametrize("start_delay", [0, 1, 2])
def test_first_beat_start_delay_and_single_safe_beats(start_delay):
    beats = len(OFFERED)
    cause = laser_schedule(1, LANES, OFFERED, HOLD).cause.copy()
    cause[ALARM_CYCLE_BEAT + 1:] = SafeCause.ALARM  # the model's rule from the alarm beat on
    assert cause.tolist() == [0, 0, 1, 0, 1, 0, 0, 0, 2, 2]
    rng = np.random.default_rng(start_delay)
    inputs = [beat_payload(rng) for _ in range(start_delay + beats)]
    dut = LaserTimebase(LANES, start_delay)
    got = []

    async def bench(ctx):
        ctx.set(Value.cast(dut.safe_drive), pack(Drive, SAFE_DRIVE))
        for cycle in range(start_delay + beats + 1):
            b = cycle - start_delay  # the beat this cycle's mapper beat becomes
            ctx.set(dut.i.valid, 1 if b < 0 else int(OFFERED[b]) if b < beats else 0)
            ctx.set(Value.cast(dut.i.payload),
                    pack(mapped_beat(LANES), inputs[min(cycle, len(inputs) - 1)]))
            ctx.set(dut.hold, int(0 <= b < beats and HOLD[b]))
            ctx.set(dut.alarm, int(b >= ALARM_CYCLE_BEAT))
            _, _, valid, payload = await ctx.tick().sample(dut.o.valid, Value.cast(dut.o.payload))
            got.append((valid, int(payload)))
        got.append((ctx.get(dut.safe.underflow), ctx.get(dut.safe.alarm), ctx.get(dut.fired)))

    pysim.run(dut, bench)
    counts = got.pop()
    # got[k]: the output during cycle k. The beat of cycle start_delay is out from the next.
    assert [v for v, _ in got] == [0] * (start_delay + 1) + [1] * beats
    safe = {"intensity": SAFE_SYMBOL, "basis": 0, "bit": 0}
    for b in range(beats):
        out = unpack(symbol_beat(LANES), got[start_delay + 1 + b][1])
        want = inputs[start_delay + b] if cause[b] == SafeCause.NONE else {
            "symbol": [safe] * LANES, "drive": [SAFE_DRIVE] * LANES}
        assert out["pulse"] == LANES * b, f"beat {b}: pulse {out['pulse']}"
        assert {k: out[k] for k in ("symbol", "drive")} == unpack(
            mapped_beat(LANES), pack(mapped_beat(LANES), want)), f"beat {b} (cause {cause[b]})"
    lanes_of = {c: LANES * int((cause == c).sum()) for c in SafeCause}
    # beats + 1 beats fired: the last cycle's (alarm-safe) beat is counted as it goes out
    assert counts == (lanes_of[SafeCause.UNDERFLOW], lanes_of[SafeCause.ALARM] + LANES,
                      LANES * (beats + 1))
