"""cocotb: both FPGAs' sifting link layers (:mod:`rtl.sifting.link`) over the lossy link model.

The ground link layer frames its detections' reports; every uplink copy it sends goes through a
:class:`models.sifting.link.Link` (loss, a burst, bit errors, duplicates, latency) into the
satellite link layer, whose downlink sift-message copies go back through a second ``Link``. Python
only carries words between the ports (the RTL decides everything) and records what was delivered.
Scoreboards, against the golden endpoints of :mod:`models.sifting.link` fed with the same
delivered copies:

* the satellite's frame decisions (accepted frames, missing declarations) equal the model
  satellite's log, and every downlink copy equals the model satellite's sift message;
* both RTL key streams equal the model packets (satellite and ground), the ground RTL key is a
  prefix of the satellite RTL key's tags, the ground's ack equals the model ground's progress;
* every uplink copy decodes to the model's frame (CRC, sequence, reports).
"""

import heapq
import random

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge

from models.sifting.entries import make_reports
from models.sifting.link import (
    MISSING_HEAD,
    Link,
    LinkConfig,
    SiftConfig,
    _Ground,
    _Satellite,
    qrng_symbols,
)
from models.sifting.messages import decode_uplink, encode_uplink
from tb.params import tb_params
from tb.sifting.cocotb_sifting import TAGS_MASK, packet_beats
from tb.stream import StreamDriver, StreamMonitor
from tests.sifting.rtl_helpers import detections, record_value, symbol_codes

CLOCK_S = 6.4e-9


class LinkPump:
    """Carries the message copies of one direction through a :class:`Link`, in arrival order."""

    def __init__(self, dut, src: str, dst: str, link: Link, rng: random.Random,
                 stall: float) -> None:
        self.dut = dut
        self.link = link
        self.words: list[int] = []
        self.sent: list[np.ndarray] = []
        self.delivered: list[np.ndarray] = []
        self.queue: list = []
        self.cycle = 0
        self.stopping = False
        self.monitor = StreamMonitor(dut, src, rng, stall=stall, callback=self._word)
        self.driver = StreamDriver(dut, dst, rng, idle=0.0)

    def _word(self, beat: int) -> None:
        self.words.append(beat & 0xFFFF_FFFF)
        if beat >> 32:
            copy = np.array(self.words, dtype=np.uint32)
            self.words = []
            self.sent.append(copy)
            for arrival, words in self.link.send(copy, self.cycle * CLOCK_S):
                heapq.heappush(self.queue, (arrival / CLOCK_S, len(self.sent), len(self.queue),
                                            words))

    async def deliver(self) -> None:
        """Deliver copies until :attr:`stopping`; a copy is always delivered whole."""
        while not self.stopping:
            if not self.queue or self.queue[0][0] > self.cycle:
                await RisingEdge(self.dut.clk)
                continue
            *_, words = heapq.heappop(self.queue)
            self.delivered.append(words)
            await self.driver.send(int(w) | (i == len(words) - 1) << 32
                                   for i, w in enumerate(words))


@cocotb.test()
async def link_layers_over_lossy_link(dut):
    p = tb_params()
    rng = random.Random(p["seed"])
    nrng = np.random.default_rng(p["seed"])
    P, frames = p["frame_pulses"], p["frames"]
    pulses = frames * P
    cocotb.start_soon(Clock(dut.clk, 6400, unit="ps").start())
    for port in ("sat_write", "sat_up", "gnd_det", "gnd_down"):
        getattr(dut, f"{port}__valid").value = 0
    dut.gnd_now.value = 0
    dut.rst.value = 1
    await ClockCycles(dut.clk, 2)
    dut.rst.value = 0
    await RisingEdge(dut.clk)

    # The satellite has sent every pulse of the pass before the first report can arrive.
    codes = symbol_codes(p["sat_seed"], pulses)
    await StreamDriver(dut, "sat_write", rng).send(int(c) for c in codes)
    await RisingEdge(dut.clk)
    head = int(dut.sat_head.value)
    assert head == pulses

    faults = {"loss": p["loss"], "ber": p["ber"], "duplicate": p["duplicate"],
              "latency_s": p["latency_cycles"] * CLOCK_S, "rate_bps": 32 / (2 * CLOCK_S),
              "bursts": ((p["burst"][0] * CLOCK_S, p["burst"][1] * CLOCK_S),)}
    horizon = p["cycles"] * CLOCK_S
    up = LinkPump(dut, "gnd_up", "sat_up", Link(LinkConfig(**faults), p["seed"] * 2 + 1,
                                                horizon), rng, stall=0.5)
    down = LinkPump(dut, "sat_down", "gnd_down", Link(LinkConfig(**faults), p["seed"] * 2 + 2,
                                                      horizon), rng, stall=0.5)
    sat_key = StreamMonitor(dut, "sat_key", rng, stall=0.2)
    gnd_key = StreamMonitor(dut, "gnd_key", rng, stall=0.2)
    pumps = [cocotb.start_soon(up.deliver()), cocotb.start_soon(down.deliver())]
    tasks = [cocotb.start_soon(t) for t in (up.monitor.run(), down.monitor.run(),
                                            sat_key.run(), gnd_key.run())]
    decisions: list[tuple[int, int, int]] = []

    async def clock_and_decisions() -> None:
        # One pulse per cycle: the ground's time, and the satellite's frame decisions.
        while True:
            await RisingEdge(dut.clk)
            up.cycle = down.cycle = up.cycle + 1
            dut.gnd_now.value = up.cycle
            await ReadOnly()
            if dut.sat_decided.value:
                d = int(dut.sat_decision.value)
                decisions.append((d & 0xFFFF_FFFF, (d >> 32) & 0xFF_FFFF, d >> 56))

    tasks.append(cocotb.start_soon(clock_and_decisions()))

    pulse, basis, bit = detections(nrng, p["detections"], pulses)

    async def detector() -> None:
        driver = StreamDriver(dut, "gnd_det", rng)
        for n, b, x in zip(pulse, basis, bit, strict=True):
            while up.cycle < int(n):
                await RisingEdge(dut.clk)
            await driver.send([record_value(int(n), int(b), int(x))])

    tasks.append(cocotb.start_soon(detector()))
    for _ in range(p["cycles"] // 100):
        await ClockCycles(dut.clk, 100)
        if int(dut.gnd_ack.value) >= frames + 2 and up.cycle > pulses + 2 * P:
            break
    up.stopping = down.stopping = True
    for pump in pumps:
        await pump
    await ClockCycles(dut.clk, 200)  # the last delivered copies are processed
    for t in tasks:
        t.cancel()
    await ClockCycles(dut.clk, 2)
    assert int(dut.gnd_ack.value) >= frames, f"ground sifted {int(dut.gnd_ack.value)} frames"
    assert int(dut.gnd_overflow.value) == 0 and int(dut.gnd_late.value) == 0
    assert int(dut.gnd_mismatch.value) == 0

    # The golden endpoints, fed with the copies the RTL received.
    sift = SiftConfig(frame_pulses=P, packet_bits=p["packet_bits"], cache_pulses=p["rows"],
                      pulse_rate_hz=1.0, ground_seed=p["ground_seed"], rx_window=p["window"])
    reports = make_reports(pulse, basis, bit, sift.ground_seed)
    sat = _Satellite(sift, qrng_symbols(p["sat_seed"]))
    for words in up.delivered:
        sat.receive(float(head), words)
    gnd = _Ground(sift, reports, bit, up.cycle // P + 2)
    for words in down.delivered:
        gnd.receive(words)

    # Uplink: every copy is the model's frame; the satellite's decisions are the model's.
    bounds = gnd.bounds
    offset_bits = (P - 1).bit_length()
    for words in up.sent:
        frame = decode_uplink(words)
        assert frame is not None, "uplink copy CRC"
        sl = slice(int(bounds[frame.seq]), int(bounds[frame.seq + 1]))
        r = reports.take(sl)
        want = encode_uplink(frame.seq, frame.ack, r.pulse - np.uint64(frame.seq * P), r.basis,
                             r.sampled, r.bit & r.sampled, offset_bits)
        assert np.array_equal(words, want), f"uplink frame {frame.seq}"
    model_decisions = [(seq, 0 if h == MISSING_HEAD else int(bounds[seq + 1] - bounds[seq]),
                        int(h == MISSING_HEAD)) for seq, h in sat.log]
    assert decisions == model_decisions, "satellite frame decisions"
    missing = sum(m for *_, m in decisions)
    # Downlink: every copy is the model satellite's message.
    for words in down.sent:
        seq = int(words[1])
        assert np.array_equal(words, sat.messages[seq]), f"sift message {seq}"
    # Keys: both sides against the model packets, and against each other.
    want_sat = packet_beats(sat.packetizer.packets, sift.packet_bits)
    assert sat_key.received[:len(want_sat)] == want_sat, "satellite key"
    assert len(sat_key.received) == sat.totals.sifted_bits
    want_gnd = packet_beats(gnd.packetizer.packets, sift.packet_bits)
    assert gnd_key.received[:len(want_gnd)] == want_gnd, "ground key"
    assert len(gnd_key.received) == gnd.totals.sifted_bits
    assert int(dut.gnd_ack.value) == gnd.next_sift
    both = len(gnd_key.received)
    assert [k & TAGS_MASK for k in gnd_key.received] == \
        [k & TAGS_MASK for k in sat_key.received[:both]]
    stats = (up.link.stats, down.link.stats)
    assert missing > 0 and all(s.lost and s.corrupted and s.duplicated for s in stats), \
        "the link faults must be exercised"
    assert int(dut.sat_up_corrupted.value) > 0 and int(dut.sat_up_duplicates.value) > 0
    assert int(dut.gnd_down_corrupted.value) > 0 and int(dut.gnd_down_duplicates.value) > 0
    dut._log.info("%d cycles, %d frames decided (%d missing), %d/%d uplink copies sent/"
                  "delivered, %d/%d downlink, key bits satellite %d ground %d, %d packets both",
                  up.cycle, len(decisions), missing, len(up.sent), len(up.delivered),
                  len(down.sent), len(down.delivered), len(sat_key.received), both,
                  len(gnd.packetizer.packets))
