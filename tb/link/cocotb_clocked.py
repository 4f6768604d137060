"""cocotb: the link PHY in its clocks, scenario after scenario (:mod:`tb.link.clock_scenarios`).

Three clocks made by the simulator: the satellite's fabric (``sat_clk``: :class:`PhyTx`, one
block taken per two cycles), the CDR's recovered block clock (``rxrec_clk``: the receiver, one
received word per cycle) and the ground's fabric (``clk``: the receiver's outputs, drained with
30 % stall). Per scenario every domain is reset, then seeded messages (30 % idle) and a sync
request every ``sync_every`` cycles go in for ``traffic`` fabric cycles, and the line runs on
for ``settle`` more. Each received word is the line bits the CDR model says (a CDR in lock
takes every bit once; one out of lock drops or repeats bits; without light the bits are noise),
with the CDR's lock pin on ``cdr_lock``. Checked per scenario:

* the line carries exactly the messages and sync counters taken (model decoder);
* every word, sync counter and counter that reaches the ground's fabric equals
  :func:`models.link.receiver.receive` of the words the receiver got (in-order scoreboards),
  and ``cdr_locked`` / ``cdr_lock_losses`` follow the pin;
* in lock (nominal, +-1 ppm, Doppler extremes): one CDR lock, one block lock, no loss, and the
  delivered messages are the sent ones without a gap, up to the last ones in flight;
* unlockable: no CDR lock, no block lock, nothing delivered;
* dead link: both locks lost after the light goes, nothing sent after it delivered.
"""

from __future__ import annotations

import itertools

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge

from models.link import channel, framing, line_code, receiver
from models.link.line_code import BLOCK_BITS
from models.link.receiver import RxConfig
from rtl.common.payload import pack, unpack
from rtl.link.layouts import RxWord
from rtl.link.rx import RX_COUNTERS
from rtl.sifting.crc_append import MessageWord
from tb.link.clock_scenarios import BLOCK_CYCLES, Scenario, plan, scenarios
from tb.link.stimulus import random_messages
from tb.testbench import TB

RESET_BLOCKS = 4


class _Run:
    """What one scenario's three clocks share."""

    def __init__(self, p: dict, step: dict, seed: int) -> None:
        self.scenario = Scenario(**step["scenario"])
        self.sampled = np.asarray(step["sampled"], dtype=np.int64).reshape(-1, BLOCK_BITS)
        self.lock_pin = step["lock_pin"]
        faults = channel.Faults() if step["dark_bit"] is None else channel.Faults(
            bursts=((step["dark_bit"], 2 * p["blocks"] * BLOCK_BITS),), seed=seed)
        self.chan = channel.BitChannel(faults)
        self.msgs = random_messages(seed, p["blocks"])
        self.beats = [pack(MessageWord, {"data": w, "last": int(n == len(m) - 1)})
                      for m in self.msgs for n, w in enumerate(m)]
        self.line: list[int] = []
        self.bits = np.zeros(0, dtype=np.uint8)
        self.fed: list[np.ndarray] = []
        self.pins: list[int] = []  # the CDR's lock pin with each word
        self.seen: list[int] = []  # ... and as the aligner saw it
        self.got_beats: list[tuple[int, int, int]] = []
        self.got_syncs: list[int] = []
        self.taken = 0
        self.sending = True
        self.running = True


async def _transmit(dut, run: _Run, rng, p: dict) -> None:
    """The satellite's fabric: messages, sync requests, one block per BLOCK_CYCLES cycles."""
    held, sync_due, sync_k, cycle = False, False, 0, 0
    while run.running:
        await RisingEdge(dut.sat_clk)
        dut.line__ready.value = int(cycle % BLOCK_CYCLES == 0)
        if run.sending and not held and run.taken < len(run.beats) and rng.random() >= p["idle"]:
            held = True
            dut.msg__payload.value = run.beats[run.taken]
        dut.msg__valid.value = int(held)
        if run.sending and cycle % p["sync_every"] == 0:
            sync_due = True
            dut.sync_in__payload.value = sync_k % (1 << line_code.ARG_BITS)
        dut.sync_in__valid.value = int(sync_due)
        await ReadOnly()
        if held and dut.msg__ready.value:
            run.taken, held = run.taken + 1, False
        if sync_due and dut.sync_in__ready.value:
            sync_k, sync_due = sync_k + 1, False
        if dut.line__valid.value and cycle % BLOCK_CYCLES == 0:
            block = int(dut.line__payload.value)
            run.line.append(block)
            run.bits = np.concatenate([run.bits, run.chan.push(line_code.words_to_bits([block]))])
        cycle += 1


async def _receive(dut, run: _Run) -> None:
    """The recovered clock: word ``j`` is the line bits the CDR samples, once they arrived,
    with the lock pin of its block. The aligner sees the pin two cycles late (its
    synchroniser; the pin was low through the reset)."""
    j, driven = 0, [0, 0]
    while True:
        await RisingEdge(dut.rxrec_clk)
        if not run.running:  # checked after the edge: every word driven is taken
            break
        word = run.sampled[j] if j < len(run.sampled) else None
        ready = word is not None and int(word.max()) < len(run.bits)
        if ready:
            bits = run.bits[word]
            run.fed.append(bits)
            run.seen.append(driven[-2])
            run.pins.append(run.lock_pin[j])
            dut.rx__payload.value = int(line_code.bits_to_words(bits)[0])
            dut.cdr_lock.value = run.lock_pin[j]
            j += 1
        driven.append(run.pins[-1] if run.pins else 0)
        dut.rx__valid.value = int(ready)
    dut.rx__valid.value = 0


async def _drain(dut, run: _Run, rng, stall: float) -> None:
    """The ground's fabric: words with backpressure, sync counters always taken."""
    while run.running:
        await RisingEdge(dut.clk)
        ready = rng.random() >= stall
        dut.o__ready.value = int(ready)
        await ReadOnly()
        if ready and dut.o__valid.value:
            beat = unpack(RxWord, int(dut.o__payload.value))
            run.got_beats.append((beat["data"], beat["last"], beat["abort"]))
        if dut.sync__valid.value:
            run.got_syncs.append(int(dut.sync__payload.value))


async def _count(clk, counter: list[int]) -> None:
    while True:
        await RisingEdge(clk)
        counter[0] += 1


async def _reset(dut) -> None:
    for rst in (dut.rst, dut.sat_rst, dut.rxrec_rst):
        rst.value = 1
    for valid in (dut.rx__valid, dut.msg__valid, dut.sync_in__valid):
        valid.value = 0
    dut.cdr_lock.value = 0
    await ClockCycles(dut.rxrec_clk, RESET_BLOCKS)
    for rst in (dut.rst, dut.sat_rst, dut.rxrec_rst):
        rst.value = 0


def _falls(pins: list[int]) -> int:
    return sum(a and not b for a, b in itertools.pairwise(pins))


def _check(tb: TB, run: _Run, config: RxConfig) -> dict:
    dut, name = tb.dut, run.scenario.name
    counters = {c: int(getattr(dut, c).value) for c in RX_COUNTERS}
    headers, bodies, _ = line_code.decode(np.asarray(run.line, dtype=np.uint64))
    sent, syncs = framing.items(headers, bodies)
    assert sent == run.msgs[:len(sent)], f"{name}: the line carries other messages"
    assert syncs == list(range(len(syncs))), f"{name}: the line carries other sync counters"

    want = receiver.receive(np.concatenate(run.fed), config, np.asarray(run.seen))
    for what, got_items, want_items in (
            ("beats", run.got_beats, want.beats), ("syncs", run.got_syncs, want.syncs),
            ("counters", [{c: counters[c] for c in receiver.COUNTERS}], [want.counters]),
            ("status", [(int(dut.locked.value), int(dut.offset.value))],
             [(int(want.locked), want.offset)]),
            ("cdr", [(int(dut.cdr_locked.value), int(dut.cdr_lock_losses.value))],
             [(run.pins[-1], _falls(run.pins))])):
        board = tb.scoreboard(f"{name} {what}")
        board.expect(want_items)
        for item in got_items:
            board.actual(item)
        board.check_done()
    assert counters["overrun"] == 0 and counters["sync_dropped"] == 0, f"{name}: {counters}"

    delivered = [words for words, aborted in receiver.messages(run.got_beats) if not aborted]
    first = run.msgs.index(delivered[0]) if delivered else 0
    report = {"scenario": name, "cdr_lock_block": int(np.argmax(run.pins)) if any(run.pins)
              else None,
              "phy_lock_block": want.lock_trace.index(True) if counters["locks"] else None,
              "sent": len(sent), "delivered": len(delivered), "syncs": len(run.got_syncs),
              **counters, "cdr_lock_losses": _falls(run.pins)}
    if run.scenario.name == "unlockable":
        assert not any(run.pins) and counters["locks"] == 0 and not run.got_beats, report
    elif run.scenario.dark_from is not None:
        assert _falls(run.pins) >= 1 and not run.pins[-1], report
        assert counters["lock_losses"] >= 1 and not int(dut.locked.value), report
        # nothing sent after the light went is delivered: frames missing, no invented one
        lit = run.scenario.dark_from + 1
        sent_lit, syncs_lit = framing.items(headers[:lit], bodies[:lit])
        assert delivered == run.msgs[first:first + len(delivered)], report
        assert first + len(delivered) <= len(sent_lit) < len(sent), report
        assert len(run.got_syncs) <= len(syncs_lit) < len(syncs), report
    else:
        assert counters["locks"] == 1 and counters["lock_losses"] == 0, report
        assert run.pins[-1] and _falls(run.pins) == 0, report
        assert delivered == run.msgs[first:first + len(delivered)], f"{name}: a gap"
        assert first + len(delivered) >= len(sent) - 1, report
        assert delivered, report
    return report


@cocotb.test()
async def clocked_phy_matches_model(dut):
    tb = TB(dut, clock_ps=None)
    p = tb.params
    config = RxConfig(**p["config"])
    chosen = tuple(s for s in scenarios(p["blocks"]) if s.name in p["scenarios"])
    _clocks, plans = plan(chosen, p["blocks"], p["seed"])
    dut.sync__ready.value = 1
    dut.o__ready.value = 0
    dut.line__ready.value = 0
    fabric = p["blocks"] * BLOCK_CYCLES
    counter = [0]
    cocotb.start_soon(_count(dut.clk, counter))
    for index, step in enumerate(plans):
        # each scenario's stretch of the schedules starts at fabric cycle index * fabric
        await ClockCycles(dut.clk, max(1, index * fabric + RESET_BLOCKS - counter[0]))
        run = _Run(p, step, p["seed"] + index)
        await _reset(dut)
        tasks = [cocotb.start_soon(_transmit(dut, run, tb.rng, p)),
                 cocotb.start_soon(_receive(dut, run)),
                 cocotb.start_soon(_drain(dut, run, tb.rng, p["stall"]))]
        await ClockCycles(dut.clk, fabric - p["settle"] - 8 * RESET_BLOCKS * BLOCK_CYCLES)
        run.sending = False
        await ClockCycles(dut.clk, p["settle"])
        run.running = False
        for task in tasks:
            await task
        await ClockCycles(dut.clk, 2 * RESET_BLOCKS * BLOCK_CYCLES)
        tb.log.info("%s", _check(tb, run, config))
    tb.check_done()
