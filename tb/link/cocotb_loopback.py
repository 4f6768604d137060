"""cocotb: link PHY loopback, transmitter -> bit channel -> receiver, checked against the model.

The link layer's messages (seeded, with idle) and sync requests (every ``sync_every`` cycles)
go into :class:`~rtl.link.tx.PhyTx`; the serialiser takes one block per cycle; the blocks'
bits pass through :class:`models.link.channel.BitChannel` (random bit errors, bursts and slips
plus one long burst and one slip each way at fixed places); the received bits go to
:class:`~rtl.link.rx.PhyRx` 34 at a time, with idle cycles (the deserialiser's pace), and its
output is taken with backpressure. At the end:

* the line carries exactly the sent messages and sync counters (model decoder);
* every receiver beat, sync counter and counter equals :func:`models.link.receiver.receive` of
  the bits the receiver got (in-order scoreboards);
* every message delivered whole is a sent one, in order; the faults cost locks and messages.
"""

from __future__ import annotations

import cocotb
import numpy as np
from cocotb.triggers import ReadOnly, RisingEdge

from models.link import channel, framing, line_code, receiver
from models.link.line_code import BLOCK_BITS
from models.link.receiver import COUNTERS, RxConfig
from rtl.common.payload import pack, unpack
from rtl.link.layouts import RxWord
from rtl.sifting.crc_append import MessageWord
from tb.link.stimulus import is_subsequence, random_messages
from tb.testbench import TB


def _faults(p: dict, bits: int) -> channel.Faults:
    rand = channel.random_faults(bits, p["seed"], ber=p["ber"], burst_rate=p["burst_rate"],
                                 burst_bits=p["burst_bits"], slip_rate=p["slip_rate"])
    slips = dict(rand.slips)
    slips.update({int(i): int(w) for i, w in p["slips"]})
    return channel.Faults(flips=rand.flips,
                          bursts=(*rand.bursts, *(tuple(b) for b in p["bursts"])),
                          slips=tuple(sorted(slips.items())), seed=p["seed"])


@cocotb.test()
async def loopback_matches_model(dut):
    tb = TB(dut)
    p = tb.params
    rng = tb.rng
    config = RxConfig(**p["config"])
    cycles, feed_cycles = p["cycles"], p["cycles"] - 40
    msgs = random_messages(p["seed"], p["messages"])
    beats = [pack(MessageWord, {"data": w, "last": int(n == len(m) - 1)})
             for m in msgs for n, w in enumerate(m)]
    chan = channel.BitChannel(_faults(p, cycles * BLOCK_BITS))
    line: list[int] = []
    fed: list[np.ndarray] = []
    queue = np.zeros(0, dtype=np.uint8)
    got_beats: list[tuple[int, int, int]] = []
    got_syncs: list[int] = []
    sync_k, sync_due, k, held = 0, False, 0, False

    dut.line__ready.value = 0  # from the first cycle of the loop on: no block is missed
    dut.sync__ready.value = 1
    for port in ("msg", "sync_in", "rx"):
        getattr(dut, f"{port}__valid").value = 0
    await tb.reset()
    for cycle in range(cycles):
        await RisingEdge(dut.clk)
        dut.line__ready.value = 1
        if not held and k < len(beats) and rng.random() >= p["idle"]:
            held = True
            dut.msg__payload.value = beats[k]
        dut.msg__valid.value = int(held)
        if cycle % p["sync_every"] == 0:
            sync_due = True
            dut.sync_in__payload.value = sync_k % (1 << line_code.ARG_BITS)
        dut.sync_in__valid.value = int(sync_due)
        feed = cycle < feed_cycles and len(queue) >= BLOCK_BITS and rng.random() >= p["rx_idle"]
        if feed:
            fed.append(queue[:BLOCK_BITS])
            dut.rx__payload.value = int(line_code.bits_to_words(queue[:BLOCK_BITS])[0])
            queue = queue[BLOCK_BITS:]
        dut.rx__valid.value = int(feed)
        ready = rng.random() >= p["stall"]
        dut.o__ready.value = int(ready)
        await ReadOnly()
        if held and dut.msg__ready.value:
            k, held = k + 1, False
        if sync_due and dut.sync_in__ready.value:
            sync_k, sync_due = sync_k + 1, False
        if dut.line__valid.value:
            block = int(dut.line__payload.value)
            line.append(block)
            queue = np.concatenate([queue, chan.push(line_code.words_to_bits([block]))])
        if ready and dut.o__valid.value:
            beat = unpack(RxWord, int(dut.o__payload.value))
            got_beats.append((beat["data"], beat["last"], beat["abort"]))
        if dut.sync__valid.value:
            got_syncs.append(int(dut.sync__payload.value))
    await RisingEdge(dut.clk)
    counters = {name: int(getattr(dut, name).value) for name in COUNTERS}

    # the line: every message taken and every sync request, in order (the last may be open)
    headers, bodies, _ = line_code.decode(np.asarray(line, dtype=np.uint64))
    sent, syncs = framing.items(headers, bodies)
    assert sent == msgs[:len(sent)] and len(sent) >= k_whole(beats, k) - 1
    assert syncs == list(range(len(syncs)))

    want = receiver.receive(np.concatenate(fed), config)
    for name, got_items, want_items in (("beats", got_beats, want.beats),
                                        ("syncs", got_syncs, want.syncs),
                                        ("counters", [counters], [want.counters])):
        board = tb.scoreboard(name)
        board.expect(want_items)
        for item in got_items:
            board.actual(item)
    tb.check_done()
    assert int(dut.overrun.value) == 0 and int(dut.sync_dropped.value) == 0
    delivered = receiver.messages(got_beats)
    assert is_subsequence(delivered, msgs)
    whole = sum(not aborted for _, aborted in delivered)
    tb.log.info("line %d blocks, %d messages sent, %d delivered whole, %d aborted; counters %s",
                len(line), len(sent), whole, counters["aborted"], counters)
    assert whole >= p["min_whole"] and counters["lock_losses"] >= 2 and counters["slips"] >= 1


def k_whole(beats: list[int], taken: int) -> int:
    """Messages whose last word was among the first ``taken`` beats."""
    return sum(unpack(MessageWord, b)["last"] for b in beats[:taken])
