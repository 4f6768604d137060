"""PhyRx with ``rx_domain`` in the Amaranth simulator: the receiver in a recovered clock 27 ppm off
twice the fabric's period, its outputs crossing into the fabric, against
:func:`models.link.receiver.receive` with the CDR's pin as the aligner sees it."""

import random

import pytest
from amaranth.hdl import Value
from amaranth.sim import Simulator

from models.link import line_code, receiver
from models.link.receiver import COUNTERS, RxConfig
from rtl.common.payload import unpack
from rtl.link.layouts import RxWord
from rtl.link.rx import RX_COUNTERS, PhyRx
from tb.link.stimulus import line_bits, random_messages

CONFIG = RxConfig(lock_good=8, lock_bad=4, window=16)
FABRIC_S = 6.4e-9
RECOVERED_S = 2 * FABRIC_S * (1 + 27e-6) + 0.37e-12  # drifts through every phase


def _pins(words: int) -> list[int]:
    """The CDR's pin per word: low at first, high, one block low inside the traffic."""
    pins = [1] * words
    pins[:12] = [0] * 12
    pins[words // 2] = 0
    return pins


def test_clocked_receiver_matches_the_model_across_the_crossing():
    msgs = random_messages(8, 25)
    words = line_code.bits_to_words(line_bits(msgs, lead=60, sync_every=13, gap=1, skew=9,
                                              seed=8, tail=10)).tolist()
    pins = _pins(len(words))
    dut = PhyRx(CONFIG, depth=4, rx_domain="rxrec", cross_depth=4)
    rng = random.Random(8)
    seen: list[int] = []
    beats, syncs = [], []
    done = [False]

    async def line(ctx):
        driven = [0, 0]  # the pin through the reset; the aligner sees it two cycles late
        k = 0
        while k < len(words):
            send = rng.random() >= 0.1
            ctx.set(dut.i.valid, send)
            if send:
                ctx.set(dut.i.payload, words[k])
                ctx.set(dut.cdr_lock, pins[k])
                seen.append(driven[-2])
                k += 1
            driven.append(pins[k - 1] if k else 0)
            await ctx.tick("rxrec")
        ctx.set(dut.i.valid, 0)
        await ctx.tick("rxrec").repeat(40)
        done[0] = True

    async def fabric(ctx):
        ctx.set(dut.sync.ready, 1)
        while not done[0]:
            ready = rng.random() >= 0.3
            ctx.set(dut.o.ready, ready)
            _, _, o_valid, o_payload, s_valid, s_payload = await ctx.tick().sample(
                dut.o.valid, Value.cast(dut.o.payload), dut.sync.valid,
                Value.cast(dut.sync.payload))
            if o_valid and ready:
                beat = unpack(RxWord, int(o_payload))
                beats.append((beat["data"], beat["last"], beat["abort"]))
            if s_valid:
                syncs.append(int(s_payload))
        got = {name: ctx.get(getattr(dut, name)) for name in RX_COUNTERS}
        got["cdr"] = (ctx.get(dut.cdr_locked), ctx.get(dut.cdr_lock_losses))
        got["status"] = (ctx.get(dut.locked), ctx.get(dut.offset))
        fabric.result = got

    sim = Simulator(dut)
    sim.add_clock(FABRIC_S)
    sim.add_clock(RECOVERED_S, domain="rxrec")
    sim.add_testbench(line)
    sim.add_testbench(fabric)
    sim.run()

    want = receiver.receive(line_bits(msgs, lead=60, sync_every=13, gap=1, skew=9, seed=8,
                                      tail=10)[:len(words) * line_code.BLOCK_BITS],
                            CONFIG, seen)
    got = fabric.result
    assert beats == want.beats
    assert syncs == want.syncs
    assert {k: got[k] for k in COUNTERS} == want.counters
    assert got["status"] == (want.locked, want.offset)
    assert got["cdr"] == (1, 1) and got["overrun"] == 0 and got["sync_dropped"] == 0
    # the pin's drop cut one message and cost the lock; everything else came through
    assert want.counters["lock_losses"] == 1 and want.counters["aborted"] == 1
    assert want.counters["messages"] >= len(msgs) - 3


@pytest.mark.parametrize(("kwargs", "match"), [({"rx_domain": "sync"}, "fabric domain"),
                                               ({"rx_domain": "rxrec", "cross_depth": 6},
                                                "power of two")])
def test_bad_domain_parameters_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PhyRx(**kwargs)
