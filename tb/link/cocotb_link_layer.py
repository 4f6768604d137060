"""cocotb: both FPGAs' sifting link layers joined by the link PHY in both directions.

:class:`tb.link.harness.PhyLinkHarness`: the ground's uplink copies go through a
:class:`~rtl.link.tx.PhyTx`, the line bits through :class:`models.link.channel.BitChannel`
(bit errors, a burst both ways, an uplink outage longer than the satellite's RND cache life, a
bit slip each way) and a fixed light time, into a :class:`~rtl.link.rx.PhyRx` and the
satellite's link layer; the satellite's sift messages come back the same way, with a sync
request every ``sync_every`` cycles on the downlink. Python carries only line bits: messages
are delimited, lost and cut on the line. The serialisers take one block per ``line_every``
cycles; the satellite writes one pulse per cycle (as in :mod:`tb.sifting.cocotb_link_layer`).

Scoreboards:

* each PHY receiver: every word it gave its link layer (cut copies flagged), every sync counter
  and every counter equal :func:`models.link.receiver.receive` of the bits it got;
* both link layers: :func:`tb.sifting.cocotb_link_layer.check_link_layers` with the copies the
  PHY receivers delivered (a cut copy arrives truncated, and the link layer's CRC drops it).
"""

from __future__ import annotations

import cocotb
import numpy as np
from cocotb.triggers import ReadOnly, RisingEdge

from models.link import channel, framing, line_code, receiver
from models.link.line_code import BLOCK_BITS
from models.link.receiver import COUNTERS, RxConfig
from rtl.common.payload import unpack
from rtl.link.layouts import RxWord
from rtl.sifting.crc_append import MessageWord
from tb.sifting.cocotb_link_layer import check_link_layers
from tb.sifting.cocotb_sifting import compare
from tb.sifting.stimulus import detections, record_values, symbol_codes
from tb.testbench import TB


class LinePump:
    """One direction: takes the transmitter's blocks, applies the channel and the light time,
    feeds the receiver one 34-bit word per cycle as bits arrive, and collects the copies."""

    def __init__(self, dut, name: str, faults: channel.Faults, latency: int) -> None:
        self.dut, self.name = dut, name
        self.channel = channel.BitChannel(faults)
        self.latency = latency
        self.line = getattr(dut, f"{name}_line__valid"), getattr(dut, f"{name}_line__payload")
        self.rx = getattr(dut, f"{name}_rx__valid"), getattr(dut, f"{name}_rx__payload")
        self.taps = [getattr(dut, f"{name}_{t}") for t in ("sent", "sent_word", "got", "got_word")]
        self.in_flight: list[tuple[int, np.ndarray]] = []  # (arrival cycle, bits)
        self.queue = np.zeros(0, dtype=np.uint8)
        self.fed: list[np.ndarray] = []
        self.blocks: list[int] = []
        self.sent: list[np.ndarray] = []
        self.delivered: list[np.ndarray] = []
        self.beats: list[tuple[int, int, int]] = []
        self._sending: list[int] = []
        self._getting: list[int] = []

    def drive(self, cycle: int, feeding: bool) -> None:
        """Before the edge: the receiver's next word, if its bits have arrived."""
        while self.in_flight and self.in_flight[0][0] <= cycle:
            self.queue = np.concatenate([self.queue, self.in_flight.pop(0)[1]])
        feed = feeding and len(self.queue) >= BLOCK_BITS
        if feed:
            self.fed.append(self.queue[:BLOCK_BITS])
            self.rx[1].value = int(line_code.bits_to_words(self.queue[:BLOCK_BITS])[0])
            self.queue = self.queue[BLOCK_BITS:]
        self.rx[0].value = int(feed)

    def sample(self, cycle: int, taking: bool) -> bool:
        """In ``ReadOnly``: the block taken at the coming edge and the taps; returns whether a
        copy reached the receiving link layer whole or cut (its last word) in this cycle."""
        if taking and self.line[0].value:
            block = int(self.line[1].value)
            self.blocks.append(block)
            bits = self.channel.push(line_code.words_to_bits([block]))
            self.in_flight.append((cycle + self.latency, bits))
        sent, sent_word, got, got_word = self.taps
        if sent.value:
            word = unpack(MessageWord, int(sent_word.value))
            self._sending.append(word["data"])
            if word["last"]:
                self.sent.append(np.array(self._sending, dtype=np.uint32))
                self._sending = []
        if got.value:
            word = unpack(RxWord, int(got_word.value))
            self.beats.append((word["data"], word["last"], word["abort"]))
            self._getting.append(word["data"])
            if word["last"]:
                self.delivered.append(np.array(self._getting, dtype=np.uint32))
                self._getting = []
                return True
        return False


def _faults(p: dict, direction: str) -> channel.Faults:
    """The direction's faults, given in cycles of the line (``line_every`` cycles per block)."""
    to_bits = BLOCK_BITS / p["line_every"]
    horizon = int(p["cycles"] * to_bits)
    rand = channel.random_faults(horizon, p["seed"] + len(direction), ber=p["ber"])
    bursts = [p["burst"], *(p.get("up_bursts", []) if direction == "up" else [])]
    return channel.Faults(
        flips=rand.flips,
        bursts=tuple((int(s * to_bits), int(n * to_bits)) for s, n in bursts),
        slips=((int(p["slips"][direction][0] * to_bits), p["slips"][direction][1]),),
        seed=p["seed"])


@cocotb.test()
async def link_layers_over_the_phy(dut):
    tb = TB(dut)
    p = tb.params
    config = RxConfig(**p["config"])
    P, frames = p["frame_pulses"], p["frames"]
    pulses = frames * P
    det = tb.driver("gnd_det")
    pumps = {d: LinePump(dut, d, _faults(p, d), p["latency_cycles"]) for d in ("up", "down")}
    for name in ("sat_write__valid", "up_rx__valid", "down_rx__valid", "down_sync__valid",
                 "up_line__ready", "down_line__ready"):
        getattr(dut, name).value = 0
    dut.up_rx_sync__ready.value = dut.down_rx_sync__ready.value = 1
    dut.gnd_now.value = 0
    await tb.reset()
    codes = symbol_codes(p["sat_seed"], p["cycles"] + 4096)
    sat_key = tb.monitor("sat_key", stall=0.2)
    gnd_key = tb.monitor("gnd_key", stall=0.2)
    decisions: list[int] = []
    stamps: list[int] = []  # the satellite's cache head as each delivered copy's CRC word arrives
    syncs: list[int] = []
    state = {"cycle": 0, "writing": True, "feeding": True, "sync_k": 0, "sync_due": False}

    async def clock() -> None:
        # One pulse per cycle: the ground's time, the satellite's symbols, the line both ways.
        written = 0
        while True:
            await RisingEdge(dut.clk)
            state["cycle"] = cycle = state["cycle"] + 1
            dut.gnd_now.value = cycle
            dut.sat_write__valid.value = int(state["writing"])
            if state["writing"]:  # `write` is always ready: one pulse per cycle
                dut.sat_write__payload.value = int(codes[written])
                written += 1
            taking = cycle % p["line_every"] == 0
            dut.up_line__ready.value = dut.down_line__ready.value = int(taking)
            for pump in pumps.values():
                pump.drive(cycle, state["feeding"])
            if cycle % p["sync_every"] == 0:
                state["sync_due"] = True
                dut.down_sync__payload.value = state["sync_k"] % (1 << line_code.ARG_BITS)
            dut.down_sync__valid.value = int(state["sync_due"])
            await ReadOnly()
            if state["sync_due"] and dut.down_sync__ready.value:
                state["sync_k"] += 1
                state["sync_due"] = False
            if dut.sat_decided.value:
                decisions.append(int(dut.sat_decision.value))
            if pumps["up"].sample(cycle, taking):
                stamps.append(int(dut.sat_head.value))
            pumps["down"].sample(cycle, taking)
            if dut.down_rx_sync__valid.value:
                syncs.append(int(dut.down_rx_sync__payload.value))

    tasks = [cocotb.start_soon(clock())]
    pulse, basis, bit = detections(np.random.default_rng(p["seed"]), p["detections"], pulses)

    async def detector() -> None:
        for n, record in zip(pulse.tolist(), record_values(pulse, basis, bit), strict=True):
            while state["cycle"] < n:
                await RisingEdge(dut.clk)
            await det.send([record])

    tasks.append(cocotb.start_soon(detector()))
    for _ in range(p["cycles"] // 100):
        await tb.ticks(100)
        if int(dut.gnd_ack.value) >= frames + 2 and state["cycle"] > pulses + 2 * P:
            break
    state["feeding"] = False  # what is on the line stays there
    await tb.ticks(20)
    state["writing"] = False  # the head stops: every expiry it reached is decided in what follows
    await tb.ticks(200)
    for t in tasks:
        t.cancel()
    for monitor in (sat_key, gnd_key):
        monitor.stop()
    await tb.ticks(2)

    for d, pump in pumps.items():  # the PHYs against the model, on the bits they got
        want = receiver.receive(np.concatenate(pump.fed), config)
        compare(tb, f"{d} PHY words", pump.beats, want.beats)
        compare(tb, f"{d} PHY counters", [{k: int(getattr(dut, f"{d}_{k}").value)
                                           for k in COUNTERS}], [want.counters])
        if d == "down":
            compare(tb, "down PHY sync counters", syncs, want.syncs)
        headers, bodies, _ = line_code.decode(np.asarray(pump.blocks, dtype=np.uint64))
        on_line, _ = framing.items(headers, bodies)
        assert [list(c) for c in pump.sent[:len(on_line)]] == on_line, f"{d}: line != copies"
        assert int(getattr(dut, f"{d}_overrun").value) == 0
        assert want.counters["lock_losses"] >= 2 and want.counters["slips"] >= 1, d
    head = int(dut.sat_head.value)
    sat, gnd, missing, store_full = check_link_layers(
        tb, p, pulse=pulse, basis=basis, bit=bit, cycle=state["cycle"], head=head,
        up=(pumps["up"].sent, pumps["up"].delivered, stamps),
        down=(pumps["down"].sent, pumps["down"].delivered), decisions=decisions,
        keys=(sat_key.received, gnd_key.received))
    tb.check_done()
    assert len(sat_key.received) == sat.totals.sifted_bits
    assert len(gnd_key.received) == gnd.totals.sifted_bits
    assert int(dut.gnd_ack.value) == gnd.next_sift
    cut = {d: sum(abort for _, last, abort in pump.beats if last) for d, pump in pumps.items()}
    assert missing > 0 and all(cut.values()), "the line faults must cut copies both ways"
    assert int(dut.sat_up_corrupted.value) > 0 and int(dut.gnd_down_corrupted.value) > 0
    dut._log.info(
        "%d cycles, %d frames decided (%d missing, %d expired), uplink copies %d sent / %d "
        "delivered (%d cut), downlink %d / %d (%d cut), %d reports dropped (store full), key "
        "bits satellite %d ground %d; PHY up %s; down %s", state["cycle"], len(decisions),
        missing, sat.timeouts, len(pumps["up"].sent), len(pumps["up"].delivered), cut["up"],
        len(pumps["down"].sent), len(pumps["down"].delivered), cut["down"], store_full,
        len(sat_key.received), len(gnd_key.received),
        {k: int(getattr(dut, f"up_{k}").value) for k in COUNTERS},
        {k: int(getattr(dut, f"down_{k}").value) for k in COUNTERS})
