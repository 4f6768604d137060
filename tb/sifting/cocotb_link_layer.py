"""cocotb: both FPGAs' sifting link layers (:mod:`rtl.sifting.link_layer`) over the lossy link
model.

The ground link layer frames its detections' reports; every uplink copy it sends goes through a
:class:`models.sifting.classical_link.Link` (loss, a burst, bit errors, duplicates, latency;
optionally an uplink-only outage) into the satellite link layer, whose downlink sift-message copies
go back through a second ``Link``. The satellite transmits one pulse per cycle (its RND cache head
moves with the ground's time, so uplink frames expire on its clock) unless ``sat_live`` is false
(every pulse written before the first report). Python only carries words between the ports (the RTL
decides everything) and records what was delivered, with the satellite's cache head when each copy's
CRC word arrived. Scoreboards, against the golden endpoints of :mod:`models.sifting.classical_link`
fed with the same delivered copies at the same heads:

* the satellite's frame decisions (accepted frames, missing declarations on a gap or on expiry)
  equal the model satellite's log, and every downlink copy equals the model satellite's sift
  message; the expiry and stale counters equal the model's;
* both RTL key streams equal the model packets (satellite and ground), the ground RTL key is a
  prefix of the satellite RTL key's tags, the ground's ack equals the model ground's progress;
* every uplink copy decodes to a frame of the ground's reports (CRC, sequence, reports; all copies
  of a frame equal), and every detection is framed or counted (record store full, overflow, late).
"""

import heapq

import cocotb
import numpy as np
from cocotb.triggers import ReadOnly, RisingEdge

from models.constants import FABRIC_CLOCK_PS
from models.sifting.classical_link import (
    MISSING_HEAD,
    Link,
    LinkConfig,
    SiftConfig,
    _Ground,
    _Satellite,
    qrng_symbols,
)
from models.sifting.entries import Reports, make_reports
from models.sifting.messages import UPLINK_HEADER_WORDS, decode_uplink, encode_uplink
from rtl.common.payload import pack, unpack, unpack_array
from rtl.sifting.crc_append import MessageWord
from rtl.sifting.uplink_receiver import FrameBeat
from tb.sifting.cocotb_sifting import compare, compare_keys, packet_beats
from tb.sifting.stimulus import (
    detections,
    message_beats,
    record_values,
    symbol_codes,
    write_beats,
)
from tb.stream import StreamDriver
from tb.testbench import TB

CLOCK_S = FABRIC_CLOCK_PS * 1e-12


class LinkPump:
    """Carries the message copies of one direction through a :class:`Link`, in arrival order."""

    def __init__(self, tb: TB, src: str, driver: StreamDriver, link: Link, stall: float) -> None:
        self.dut = tb.dut
        self.link = link
        self.words: list[int] = []
        self.sent: list[np.ndarray] = []
        self.delivered: list[np.ndarray] = []
        self.queue: list = []
        self.cycle = 0
        self.stopping = False
        self.driver = driver
        self.monitor = tb.monitor(src, stall=stall, callback=self._word)

    def _word(self, beat: int) -> None:
        word = unpack(MessageWord, beat)
        self.words.append(word["data"])
        if word["last"]:
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
            await self.driver.send(message_beats([words]))


def framed_reports(sent: list[np.ndarray], reports: Reports, bit: np.ndarray, frame_pulses: int
                   ) -> tuple[Reports, np.ndarray]:
    """The reports the ground framed (from its uplink copies), checked against its detections'
    reports: every copy of a frame carries the same reports, each one a detection's report."""
    frames: dict[int, np.ndarray] = {}
    offsets: dict[int, np.ndarray] = {}
    for words in sent:
        frame = decode_uplink(words)
        assert frame is not None, "uplink copy CRC"
        body = words[UPLINK_HEADER_WORDS:-1]
        assert np.array_equal(frames.setdefault(frame.seq, body), body), \
            f"uplink frame {frame.seq}: copies differ"
        offsets[frame.seq] = frame.offset
    pulses = [seq * frame_pulses + offsets[seq] for seq in sorted(frames)]
    pulse = np.concatenate(pulses) if pulses else np.zeros(0, np.uint64)
    index = np.searchsorted(reports.pulse, pulse)
    assert np.all(index < len(reports)) and np.array_equal(reports.pulse[index], pulse), \
        "an uplink report of no detection"
    framed = reports.take(index)
    offset_bits = (frame_pulses - 1).bit_length()
    for seq, body in frames.items():
        mine = framed.pulse // np.uint64(frame_pulses) == np.uint64(seq)
        r = framed.take(mine)
        want = encode_uplink(seq, 0, r.pulse - np.uint64(seq * frame_pulses), r.basis,
                             r.sampled, r.bit & r.sampled, offset_bits)
        assert np.array_equal(body, want[UPLINK_HEADER_WORDS:-1]), f"uplink frame {seq}"
    return framed, bit[index]


def check_link_layers(tb: TB, p: dict, *, pulse: np.ndarray, basis: np.ndarray, bit: np.ndarray,
                      cycle: int, head: int, up: tuple, down: tuple, decisions: list[int],
                      keys: tuple[list[int], list[int]]) -> tuple:
    """Scoreboards of both link layers against the golden endpoints fed with the copies the RTL
    received: ``up`` = (copies the ground sent, copies delivered to the satellite, the
    satellite's cache head at each delivered copy's CRC word), ``down`` = (copies the satellite
    sent, copies delivered to the ground), ``decisions`` the satellite's ``FrameBeat`` payloads,
    ``keys`` both key streams. Returns ``(model satellite, model ground, missing frames,
    reports dropped with the store full)``; the caller closes the scoreboards."""
    dut = tb.dut
    P, frames = p["frame_pulses"], p["frames"]
    up_sent, up_delivered, stamps = up
    down_sent, down_delivered = down
    sat_key, gnd_key = keys
    assert int(dut.gnd_ack.value) >= frames, f"ground sifted {int(dut.gnd_ack.value)} frames"
    assert int(dut.gnd_mismatch.value) == 0
    sift = SiftConfig(frame_pulses=P, packet_bits=p["packet_bits"], cache_pulses=p["rows"],
                      pulse_rate_hz=1.0, ground_seed=p["ground_seed"], rx_window=p["window"])
    sat = _Satellite(sift, qrng_symbols(p["sat_seed"]))
    for words, stamp in zip(up_delivered, stamps, strict=True):
        sat.receive(float(stamp), words)
    sat.advance(head)
    reports, framed_bit = framed_reports(up_sent, make_reports(pulse, basis, bit,
                                                               sift.ground_seed), bit, P)
    gnd = _Ground(sift, reports, framed_bit, cycle // P + 2)
    for words in down_delivered:
        gnd.receive(words)
    dropped = len(pulse) - len(reports)
    assert dropped == sum(int(getattr(dut, f"gnd_{name}").value)
                          for name in ("store_full", "overflow", "late"))
    assert int(dut.gnd_overflow.value) == 0 and int(dut.gnd_late.value) == 0
    store_full = int(dut.gnd_store_full.value)
    assert (store_full > 0) == p.get("store_overflows", False), f"{store_full} dropped"

    bounds = gnd.bounds
    model_decisions = [pack(FrameBeat, {
        "seq": seq, "count": 0 if h == MISSING_HEAD else int(bounds[seq + 1] - bounds[seq]),
        "missing": int(h == MISSING_HEAD)}) for seq, h in sat.log]
    compare(tb, "satellite frame decisions", decisions, model_decisions, FrameBeat)
    assert int(dut.sat_frames_expired.value) == sat.timeouts
    assert int(dut.sat_up_stale.value) == sat.stale
    if p.get("up_bursts"):
        assert sat.timeouts > 0, "the uplink outage must outlast the cache"
    missing = int(unpack_array(FrameBeat, model_decisions)["missing"].sum())
    # Downlink: every copy is the model satellite's message (word 1: its sequence number).
    compare(tb, "downlink copies", [tuple(words.tolist()) for words in down_sent],
            [tuple(sat.messages[int(words[1])].tolist()) for words in down_sent])
    # Keys: both sides against the model packets, and against each other.
    compare_keys(tb, sat_key, gnd_key, packet_beats(sat.packetizer.packets, sift.packet_bits),
                 packet_beats(gnd.packetizer.packets, sift.packet_bits))
    return sat, gnd, missing, store_full


@cocotb.test()
async def link_layers_over_lossy_link(dut):
    tb = TB(dut)
    p = tb.params
    nrng = np.random.default_rng(p["seed"])
    P, frames = p["frame_pulses"], p["frames"]
    pulses = frames * P
    drive = {port: tb.driver(port) for port in ("sat_write", "sat_up", "gnd_det", "gnd_down")}
    dut.gnd_now.value = 0
    await tb.reset()

    live = p.get("sat_live", False)
    codes = symbol_codes(p["sat_seed"], p["cycles"] + 4096 if live else pulses)
    if not live:  # the satellite has sent every pulse of the pass before the first report
        await drive["sat_write"].send(write_beats(codes, 1))
        await RisingEdge(dut.clk)
        assert int(dut.sat_head.value) == pulses

    faults = {"loss": p["loss"], "ber": p["ber"], "duplicate": p["duplicate"],
              "latency_s": p["latency_cycles"] * CLOCK_S, "rate_bps": 32 / (2 * CLOCK_S),
              "bursts": ((p["burst"][0] * CLOCK_S, p["burst"][1] * CLOCK_S),)}
    up_faults = {**faults, "bursts": faults["bursts"] + tuple(
        (start * CLOCK_S, length * CLOCK_S) for start, length in p.get("up_bursts", []))}
    horizon = p["cycles"] * CLOCK_S
    up = LinkPump(tb, "gnd_up", drive["sat_up"], Link(LinkConfig(**up_faults),
                                                      p["seed"] * 2 + 1, horizon), stall=0.5)
    down = LinkPump(tb, "sat_down", drive["gnd_down"], Link(LinkConfig(**faults),
                                                            p["seed"] * 2 + 2, horizon), stall=0.5)
    sat_key = tb.monitor("sat_key", stall=0.2)
    gnd_key = tb.monitor("gnd_key", stall=0.2)
    monitors = [up.monitor, down.monitor, sat_key, gnd_key]
    pumps = [cocotb.start_soon(up.deliver()), cocotb.start_soon(down.deliver())]
    decisions: list[int] = []  # FrameBeat payloads
    stamps: list[int] = []  # the satellite's cache head as each delivered copy's CRC word arrives
    writing = [live]
    written = [0]

    async def clock_and_decisions() -> None:
        # One pulse per cycle: the ground's time, the satellite's symbols (live), its frame
        # decisions and the head at each uplink copy's CRC word (the RTL judges the copy at it).
        while True:
            await RisingEdge(dut.clk)
            up.cycle = down.cycle = up.cycle + 1
            dut.gnd_now.value = up.cycle
            dut.sat_write__valid.value = int(writing[0])
            if writing[0]:  # `write` is always ready: one pulse per cycle
                dut.sat_write__payload.value = int(codes[written[0]])
                written[0] += 1
            await ReadOnly()
            if dut.sat_decided.value:
                decisions.append(int(dut.sat_decision.value))
            if dut.sat_up__valid.value and dut.sat_up__ready.value and \
                    unpack(MessageWord, int(dut.sat_up__payload.value))["last"]:
                stamps.append(int(dut.sat_head.value))

    tasks = [cocotb.start_soon(clock_and_decisions())]

    pulse, basis, bit = detections(nrng, p["detections"], pulses)

    async def detector() -> None:
        for n, record in zip(pulse.tolist(), record_values(pulse, basis, bit), strict=True):
            while up.cycle < n:
                await RisingEdge(dut.clk)
            await drive["gnd_det"].send([record])

    tasks.append(cocotb.start_soon(detector()))
    for _ in range(p["cycles"] // 100):
        await tb.ticks(100)
        if int(dut.gnd_ack.value) >= frames + 2 and up.cycle > pulses + 2 * P:
            break
    up.stopping = down.stopping = True
    for pump in pumps:
        await pump
    writing[0] = False  # the head stops: every expiry it reached is decided in what follows
    await tb.ticks(200)  # the last delivered copies are processed
    for t in tasks:
        t.cancel()
    for monitor in monitors:
        monitor.stop()
    await tb.ticks(2)
    head = int(dut.sat_head.value)
    assert len(stamps) == len(up.delivered)
    sat, gnd, missing, store_full = check_link_layers(
        tb, p, pulse=pulse, basis=basis, bit=bit, cycle=up.cycle, head=head,
        up=(up.sent, up.delivered, stamps if live else [head] * len(stamps)),
        down=(down.sent, down.delivered), decisions=decisions,
        keys=(sat_key.received, gnd_key.received))
    tb.check_done()
    assert len(sat_key.received) == sat.totals.sifted_bits
    assert len(gnd_key.received) == gnd.totals.sifted_bits
    assert int(dut.gnd_ack.value) == gnd.next_sift
    both = len(gnd_key.received)
    stats = (up.link.stats, down.link.stats)
    assert missing > 0 and all(s.lost and s.corrupted and s.duplicated for s in stats), \
        "the link faults must be exercised"
    assert int(dut.sat_up_corrupted.value) > 0 and int(dut.sat_up_duplicates.value) > 0
    assert int(dut.gnd_down_corrupted.value) > 0 and int(dut.gnd_down_duplicates.value) > 0
    dut._log.info("%d cycles, %d frames decided (%d missing, %d expired, %d stale copies), "
                  "%d/%d uplink copies sent/delivered, %d/%d downlink, %d reports dropped "
                  "(store full), key bits satellite %d ground %d, %d packets both",
                  up.cycle, len(decisions), missing, sat.timeouts, sat.stale, len(up.sent),
                  len(up.delivered), len(down.sent), len(down.delivered), store_full,
                  len(sat_key.received), both, len(gnd.packetizer.packets))
