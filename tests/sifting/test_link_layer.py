"""Both link layers (:mod:`rtl.sifting.link_layer`) in the Amaranth simulator, wired port to port,
against the golden endpoints of :mod:`models.sifting.classical_link`.

The ground's uplink words go straight into the satellite's ``up`` and the satellite's downlink
words into the ground's ``down``, except during an uplink outage longer than the satellite's RND
cache life, in which the ground's words are taken and lost (copies cut in the middle included).
The satellite writes one pulse per cycle (its cache head moves with the ground's ``now``). The
model satellite gets the copies the RTL satellite received, each at the cache head of its CRC
word; the model ground gets the satellite's downlink copies. Every output is compared: frame
decisions, downlink copies, both key streams, both sides' counters, the ack and the head. The
cocotb pass (``test_cocotb_link_layer.py``) runs the same checks over the lossy link model on the
generated Verilog; this one is the fast check of the assembly and its counter outputs.
"""

import random

import numpy as np
from amaranth.hdl import Module, Value
from amaranth.lib import wiring
from amaranth.lib.wiring import In

from models.constants import SAMPLE_SEED
from models.sifting.classical_link import (
    MISSING_HEAD,
    SiftConfig,
    _Ground,
    _Satellite,
    qrng_symbols,
)
from models.sifting.entries import make_reports
from models.sifting.messages import decode_uplink
from rtl.common.payload import pack, unpack
from rtl.sifting.crc_append import MessageWord
from rtl.sifting.link_layer import GroundLink, SatelliteLink
from rtl.sifting.uplink_receiver import FrameBeat
from tb import pysim
from tb.sifting.cocotb_link_layer import framed_reports
from tb.sifting.cocotb_sifting import packet_beats
from tb.sifting.stimulus import counters, detections, record_values, split_copies, symbol_codes

P, FRAMES, ROWS, PACKET_BITS, WINDOW = 64, 16, 256, 16, 16
SAT_SEED, SEED = 31, 17
OUTAGE = (5 * P, 11 * P)  # six frame periods without uplink: longer than the 4-period cache
END = (FRAMES + 4) * P  # the last pulse time; then the satellite's head stops


class DirectLink(wiring.Component):
    """The two link layers, ``up`` and ``down`` connected; ``outage`` takes the ground's uplink
    words and drops them."""

    outage: In(1)

    def __init__(self, sat: SatelliteLink, gnd: GroundLink) -> None:
        self.sat, self.gnd = sat, gnd
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        m.submodules.sat, m.submodules.gnd = sat, gnd = self.sat, self.gnd
        m.d.comb += [
            sat.up.valid.eq(gnd.up.valid & ~self.outage),
            sat.up.payload.eq(gnd.up.payload),
            gnd.up.ready.eq(sat.up.ready | self.outage),
        ]
        wiring.connect(m, sat.down, gnd.down)
        return m


def test_link_layers_wired_together_match_the_model_endpoints():
    sat = SatelliteLink(frame_pulses=P, lanes=1, rows=ROWS, packet_bits=PACKET_BITS, rx_depth=64,
                        tx_depth=512, window=WINDOW)
    gnd = GroundLink(frame_pulses=P, ground_seed=SAMPLE_SEED, packet_bits=PACKET_BITS,
                     frame_depth=128, store_depth=128, window=WINDOW, slot_words=8, close_lag=8)
    dut = DirectLink(sat, gnd)
    nrng = np.random.default_rng(SEED)
    pulse, basis, bit = detections(nrng, 14 * FRAMES, FRAMES * P)
    codes = symbol_codes(SAT_SEED, END).tolist()
    rng = random.Random(SEED)
    up_sent: list[int] = []  # MessageWord beats the ground sent
    up_got: list[int] = []  # ... and the satellite received
    stamps: list[int] = []  # the satellite's head at each received copy's CRC word
    down: list[int] = []
    decisions: list[int] = []
    keys: dict[str, list[int]] = {"sat": [], "gnd": []}
    final: dict[str, int] = {}

    async def detector_and_clock(ctx):
        records = iter(zip(pulse.tolist(), record_values(pulse, basis, bit), strict=True))
        n, record = next(records)
        for cycle in range(END):
            ctx.set(gnd.now, cycle)
            ctx.set(dut.outage, OUTAGE[0] <= cycle < OUTAGE[1])
            ctx.set(sat.write.valid, 1)
            ctx.set(Value.cast(sat.write.payload), codes[cycle])
            ctx.set(gnd.det.valid, n == cycle)
            ctx.set(Value.cast(gnd.det.payload), record)
            await ctx.tick()
            if n == cycle:
                n, record = next(records, (-1, 0))
        ctx.set(sat.write.valid, 0)
        ctx.set(gnd.det.valid, 0)
        ctx.set(dut.outage, 0)
        await ctx.tick().repeat(6 * P)  # the head stops; the last copies are decided and sifted
        for name in ("head", "ack", "expired_count", "up_corrupted", "up_duplicates",
                     "frames_missing", "frames_expired", "up_stale", "detected", "errors",
                     "dropped", "packets"):
            final[f"sat_{name}"] = ctx.get(Value.cast(getattr(sat, name)))
        for name in ("ack", "overflow", "late", "store_full", "down_corrupted",
                     "down_duplicates", "down_outside", "mismatch", "detected", "dropped",
                     "missing", "packets"):
            final[f"gnd_{name}"] = ctx.get(Value.cast(getattr(gnd, name)))

    async def taps(ctx):
        while True:
            _, _, *sampled = await ctx.tick().sample(
                gnd.up.valid, gnd.up.ready, Value.cast(gnd.up.payload), sat.up.valid,
                sat.up.ready, sat.head, sat.down.valid, sat.down.ready,
                Value.cast(sat.down.payload), sat.decided, Value.cast(sat.decision))
            u_valid, u_ready, u_word, s_valid, s_ready, head, d_valid, d_ready, d_word, \
                decided, decision = sampled
            if u_valid and u_ready:
                up_sent.append(u_word)
            if s_valid and s_ready:
                up_got.append(u_word)
                if unpack(MessageWord, u_word)["last"]:
                    stamps.append(head)
            if d_valid and d_ready:
                down.append(d_word)
            if decided:
                decisions.append(decision)

    def key_sink(side, port):
        async def sink(ctx):
            while True:
                keys[side].append(await pysim.stream_get(ctx, port))
                while rng.random() < 0.2:
                    await ctx.tick()
        return sink

    pysim.run(dut, detector_and_clock,
              background=[taps, key_sink("sat", sat.key), key_sink("gnd", gnd.key)])

    sift = SiftConfig(frame_pulses=P, packet_bits=PACKET_BITS, cache_pulses=ROWS,
                      pulse_rate_hz=1.0, ground_seed=SAMPLE_SEED, rx_window=WINDOW)
    model_sat = _Satellite(sift, qrng_symbols(SAT_SEED))
    received = split_copies(up_got)
    assert len(received) == len(stamps)
    for words, stamp in zip(received, stamps, strict=True):
        model_sat.receive(float(stamp), words)
    model_sat.advance(final["sat_head"])
    reports, framed_bit = framed_reports(split_copies(up_sent),
                                         make_reports(pulse, basis, bit, SAMPLE_SEED), bit, P)
    model_gnd = _Ground(sift, reports, framed_bit, END // P + 2)
    down_copies = split_copies(down)
    for words in down_copies:
        model_gnd.receive(words)

    # Satellite: decisions (accepted, missing on a gap or on its cache deadline), downlink copies.
    bounds = model_gnd.bounds
    want_decisions = [pack(FrameBeat, {
        "seq": seq, "count": 0 if h == MISSING_HEAD else int(bounds[seq + 1] - bounds[seq]),
        "missing": int(h == MISSING_HEAD)}) for seq, h in model_sat.log]
    assert decisions == want_decisions and len(decisions) >= FRAMES
    assert [w.tolist() for w in down_copies] == \
        [model_sat.messages[int(w[1])].tolist() for w in down_copies]
    missing = sum(h == MISSING_HEAD for _, h in model_sat.log)
    assert model_sat.timeouts > 0 and missing > model_sat.timeouts  # expiry and a gap
    assert final["sat_head"] == END and final["sat_ack"] == model_sat.ack == model_gnd.next_sift
    assert (final["sat_frames_missing"], final["sat_frames_expired"], final["sat_up_stale"]) == \
        (missing, model_sat.timeouts, model_sat.stale)
    cut = len(received) - sum(decode_uplink(w) is not None for w in received)
    assert final["sat_up_corrupted"] == cut > 0
    assert final["sat_up_duplicates"] > 0
    sat_totals, gnd_totals = model_sat.totals, model_gnd.totals
    assert np.array_equal(counters(final["sat_detected"]), sat_totals.detected)
    assert np.array_equal(counters(final["sat_errors"]), sat_totals.errors)
    assert final["sat_errors"] and final["sat_dropped"] == sat_totals.dropped
    assert final["sat_expired_count"] == 0  # every frame looked up was still in the cache

    # Ground: every detection framed, sifted with the satellite's entries, counters.
    assert len(reports) == len(pulse)
    assert (final["gnd_overflow"], final["gnd_late"], final["gnd_store_full"]) == (0, 0, 0)
    assert final["gnd_ack"] == model_gnd.next_sift >= FRAMES
    assert (final["gnd_down_corrupted"], final["gnd_down_outside"], final["gnd_mismatch"]) == \
        (0, 0, 0)
    assert final["gnd_down_duplicates"] > 0
    assert np.array_equal(counters(final["gnd_detected"]), gnd_totals.detected)
    assert (final["gnd_dropped"], final["gnd_missing"]) == (gnd_totals.dropped, gnd_totals.missing)
    assert gnd_totals.missing > 0

    # Keys: both sides against the model packets, every bit sifted on both sides.
    want_sat = packet_beats(model_sat.packetizer.packets, PACKET_BITS)
    want_gnd = packet_beats(model_gnd.packetizer.packets, PACKET_BITS)
    assert keys["sat"][:len(want_sat)] == want_sat and len(want_sat) >= 2 * PACKET_BITS
    assert keys["gnd"][:len(want_gnd)] == want_gnd
    assert len(keys["sat"]) == sat_totals.sifted_bits and len(keys["gnd"]) == gnd_totals.sifted_bits
    assert final["sat_packets"] == len(model_sat.packetizer.packets)
    assert final["gnd_packets"] == len(model_gnd.packetizer.packets)

