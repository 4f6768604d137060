"""rtl.link.rx: PhyRx's default message FIFO is 16 words (the default docs/link.md states), the
same circuit as an explicit ``depth=16``; the receiver in the recovered clock (``rx_domain``) in
the Amaranth simulator, two unrelated clocks, against the model (messages, sync counters,
counters, lock, offset; the CDR pin dropped for a while: no lock while it is low, one
``cdr_lock_losses``); the crossing depths it refuses and takes."""

import numpy as np
import pytest
from amaranth.back import rtlil
from amaranth.hdl import ClockDomain, Module
from amaranth.sim import Simulator

from models.link import line_code, receiver
from models.link.receiver import COUNTERS, RxConfig
from rtl.link.rx import PhyRx
from tb.link.stimulus import line_bits, random_messages

SMALL = RxConfig(lock_good=8, lock_bad=4, window=16)
#: Aligner's view of the pin: two recovered cycles late, low before (its synchroniser).
PIN_STAGES = 2


def _run_crossing(words: list[int], pins: list[int]) -> dict:
    dut = PhyRx(SMALL, rx_domain="rxrec", cross_depth=4)
    top = Module()
    top.domains.sync = ClockDomain("sync")
    top.domains.rxrec = ClockDomain("rxrec")
    top.submodules.rx = dut
    out = {"beats": [], "syncs": [], "cdr_locked": []}

    async def feed(ctx):
        for word, pin in zip(words, pins, strict=True):
            ctx.set(dut.i.valid, 1)
            ctx.set(dut.i.payload, word)
            ctx.set(dut.cdr_lock, pin)
            await ctx.tick("rxrec")
        ctx.set(dut.i.valid, 0)
        await ctx.tick("rxrec").repeat(60)
        out["counters"] = {n: ctx.get(getattr(dut, n)) for n in (*COUNTERS, "overrun",
                                                                   "sync_dropped",
                                                                   "cdr_lock_losses")}
        out["locked"], out["offset"] = ctx.get(dut.locked), ctx.get(dut.offset)

    async def drain(ctx):
        ctx.set(dut.o.ready, 1)
        ctx.set(dut.sync.ready, 1)
        while True:
            _, _, ov, op, sv, sp, locked = await ctx.tick("sync").sample(
                dut.o.valid, dut.o.payload, dut.sync.valid, dut.sync.payload, dut.cdr_locked)
            if ov:
                out["beats"].append((op.data, op.last, op.abort))
            if sv:
                out["syncs"].append(sp.counter)
            out["cdr_locked"].append(locked)

    sim = Simulator(top)
    sim.add_clock(6.4e-9, domain="sync")
    sim.add_clock(6.9e-9, domain="rxrec")
    sim.add_testbench(feed)
    sim.add_testbench(drain, background=True)
    sim.run()
    return out


def test_recovered_clock_receiver_matches_the_model_and_follows_the_cdr_pin():
    msgs = random_messages(4, 24)
    bits = line_bits(msgs, lead=60, sync_every=9, skew=13)
    words = line_code.bits_to_words(bits).tolist()
    drop = range(len(words) // 2, len(words) // 2 + 30)
    pins = [0 if j in drop else 1 for j in range(len(words))]
    seen = np.array([0] * PIN_STAGES + pins[:-PIN_STAGES], dtype=bool)
    want = receiver.receive(bits, SMALL, cdr_lock=seen)
    got = _run_crossing(words, pins)
    assert want.counters["lock_losses"] == 1 and want.counters["locks"] == 2
    assert got["beats"] == want.beats
    assert got["syncs"] == want.syncs
    assert {k: got["counters"][k] for k in COUNTERS} == want.counters
    assert (got["locked"], got["offset"]) == (want.locked, want.offset)
    assert got["counters"]["overrun"] == got["counters"]["sync_dropped"] == 0
    assert got["counters"]["cdr_lock_losses"] == 1
    runs = [v for k, v in enumerate(got["cdr_locked"]) if k == 0 or got["cdr_locked"][k - 1] != v]
    assert runs == [0, 1, 0, 1]  # low through the synchroniser, high, the drop, high again


@pytest.mark.parametrize(("kwargs", "error"), [
    ({"rx_domain": "sync"}, "rx_domain='sync' is the fabric domain"),
    ({"rx_domain": "rxrec", "cross_depth": 1}, "cross_depth=1 must be a power of two >= 2"),
    ({"rx_domain": "rxrec", "cross_depth": 6}, "cross_depth=6 must be a power of two >= 2"),
    ({"rx_domain": "rxrec", "cross_depth": 0}, "cross_depth=0 must be a power of two >= 2"),
])
def test_bad_domain_and_crossing_depth_are_refused(kwargs, error):
    with pytest.raises(ValueError, match=error):
        PhyRx(**kwargs)


@pytest.mark.parametrize("kwargs", [{"rx_domain": "rxrec", "cross_depth": 2},
                                    {"rx_domain": "rxrec", "cross_depth": 4},
                                    {"rx_domain": "rxrec"}, {"cross_depth": 3}])
def test_power_of_two_crossings_and_one_clock_are_taken(kwargs):
    rx = PhyRx(**kwargs)
    assert ("cdr_lock" in rx.signature.members) == ("rx_domain" in kwargs)


def test_default_fifo_depth_is_16_words():
    assert rtlil.convert(PhyRx(), name="rx") == rtlil.convert(PhyRx(depth=16), name="rx")
    assert rtlil.convert(PhyRx(), name="rx") != rtlil.convert(PhyRx(depth=32), name="rx")
