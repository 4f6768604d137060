"""Directed edge-case bodies of the sifting blocks (:mod:`tb.dual`: Amaranth's simulator, then
cocotb on Verilator and Icarus, where the blocks sit side by side in one harness so that all of
them cost one build per simulator). Each case states its expected outputs; the golden model is
held to the same statement where it models the edge. JSON parameters: ``seed``, ``idle``,
``stall`` and each body's own; the cases themselves are in :mod:`tb.sifting.edge_cases`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from amaranth.lib import wiring

from models.sifting.classical_link import (
    MISSING_HEAD,
    SiftConfig,
    _Ground,
    _Satellite,
    qrng_symbols,
)
from models.sifting.entries import Reports, SiftCode, sample_flags
from models.sifting.messages import decode_uplink, encode_sift, encode_uplink
from models.sifting.packets import Packetizer, key_beats
from rtl.common.payload import pack_array, unpack_array
from rtl.sifting.crc_append import MessageWord
from rtl.sifting.layouts import DetectionRecord, KeyBeat, Report, SiftEntry, SiftItem
from rtl.sifting.sift_receiver import SiftReceiver
from rtl.sifting.sift_sender import SiftSender
from rtl.sifting.sifter import Sifter
from rtl.sifting.uplink_framer import UplinkFramer
from rtl.sifting.uplink_receiver import FrameBeat, UplinkReceiver
from tb.dual import Bench, Receive, Send, resolve_body
from tb.sifting.harness import FlatHarness
from tb.sifting.stimulus import (
    field_tuples,
    message_beats,
    report_tuples,
    report_values,
    split_copies,
)

# The blocks of the directed cases, as built for every back end (the cocotb ones run them side
# by side in one harness: one Verilog build per simulator for all of them).
EDGE_FRAME_PULSES = 64
EDGE_PACKET_BITS = 16
EDGE_UR_DEPTH, EDGE_UR_CACHE = 16, 128
EDGE_SR_WINDOW, EDGE_SR_SLOT_WORDS = 4, 4
EDGE_UF_DEPTH, EDGE_UF_REPEATS, EDGE_UF_LAG = 64, 3, 8
EDGE_SS_DEPTH, EDGE_SS_WINDOW = 64, 4


def edge_blocks() -> dict[str, wiring.Component]:
    """The sifting blocks under directed test, by the prefix of their ports in the harness."""
    p = EDGE_FRAME_PULSES
    return {
        "sifter": Sifter(EDGE_PACKET_BITS),
        "ur": UplinkReceiver(frame_pulses=p, depth=EDGE_UR_DEPTH, cache_pulses=EDGE_UR_CACHE),
        "sr": SiftReceiver(frame_pulses=p, window=EDGE_SR_WINDOW,
                           slot_words=EDGE_SR_SLOT_WORDS),
        "uf": UplinkFramer(frame_pulses=p, depth=EDGE_UF_DEPTH, max_repeats=EDGE_UF_REPEATS,
                           close_lag=EDGE_UF_LAG),
        "ss": SiftSender(depth=EDGE_SS_DEPTH, window=EDGE_SS_WINDOW),
    }


class SiftingEdgeHarness(FlatHarness):
    """:func:`edge_blocks` side by side, unconnected, each port prefixed ``<block>_``."""

    def __init__(self) -> None:
        blocks = edge_blocks()
        super().__init__(blocks, {f"{name}_{port}": (name, port)
                                  for name, block in blocks.items()
                                  for port in block.signature.members})


class _Prefixed(Bench):
    """``bench`` with every port name prefixed (a block inside :class:`SiftingEdgeHarness`)."""

    def __init__(self, bench: Bench, prefix: str, params: Mapping | None = None) -> None:
        super().__init__(bench.params if params is None else params)
        self.rng = bench.rng
        self._bench = bench
        self._prefix = prefix

    async def reset(self, cycles: int = 2) -> None:
        await self._bench.reset(cycles)

    def set(self, name: str, value: int) -> None:
        self._bench.set(self._prefix + name, value)

    def get(self, name: str) -> int:
        return self._bench.get(self._prefix + name)

    async def ticks(self, cycles: int) -> None:
        await self._bench.ticks(cycles)

    async def transfer(self, send: Mapping[str, Send], receive: Mapping[str, Receive],
                       max_cycles: int = 200_000) -> dict[str, list[int]]:
        got = await self._bench.transfer({self._prefix + k: v for k, v in send.items()},
                                         {self._prefix + k: v for k, v in receive.items()},
                                         max_cycles)
        return {k[len(self._prefix):]: v for k, v in got.items()}


async def all_edges(bench: Bench) -> None:
    """Every block's cases in one run of :class:`SiftingEdgeHarness`: ``blocks``, a list of
    [port prefix without ``_``, body name (``module:function``), the body's parameters]."""
    for block, name, params in bench.params["blocks"]:
        await resolve_body(name)(_Prefixed(bench, f"{block}_", params))


def sifter_items(key_bits: int, seed: int) -> tuple[list[int], np.ndarray]:
    """SiftItem payloads with ``key_bits`` key detections (matched, not sampled) and, between
    them, detections that must not reach the key (sampled, dropped, missing, bases differ);
    returns the payloads and the key detections' (bit, basis, intensity) ``[key_bits, 3]``."""
    rng = np.random.default_rng(seed)
    others = key_bits // 3
    n = key_bits + others
    kind = np.zeros(n, dtype=np.int64)  # 0: key; after every third key one of 4..7, in turn
    kind[4 * np.arange(others) + 3] = 4 + np.arange(others) % 4
    intensity = rng.integers(0, 3, n)
    fields = {
        "entry": {"intensity": np.where(kind == 5, 3, intensity),
                  "match": (kind != 7).astype(np.uint8), "missing": (kind == 6).astype(np.uint8)},
        "basis": rng.integers(0, 2, n), "sampled": (kind == 4).astype(np.uint8),
        "key_bit": rng.integers(0, 2, n), "ref_bit": rng.integers(0, 2, n),
    }
    key = kind < 4
    tags = np.stack([fields["key_bit"][key], fields["basis"][key], intensity[key]], axis=-1)
    return pack_array(SiftItem, fields).tolist(), tags


def check_packet_model(case: dict, packet_bits: int, seed: int) -> tuple[list[int], np.ndarray]:
    """Check the golden model on one :func:`sifter_packets` case; returns the SiftItem payloads
    and the model's key beats."""
    items, tags = sifter_items(case["key_bits"], seed)
    model = key_beats(tags[:, 0], tags[:, 1], tags[:, 2], packet_bits)
    model_last = np.flatnonzero(unpack_array(KeyBeat, model)["last"]).tolist()
    packetizer = Packetizer(packet_bits)
    packetizer.push(tags[:, 0], tags[:, 1], tags[:, 2])
    got = [model_last, len(packetizer.packets), packetizer.partial_bits]
    assert got == case["want"], f"{case['key_bits']} key bits: model {got}, want {case['want']}"
    return items, model


async def sifter_packets(bench: Bench) -> None:
    """Sifter packet boundaries: ``packet_bits`` (the DUT's), ``cases`` (each ``key_bits``
    and the stated ``want``: key-bit indices that carry ``last``, the ``packets`` count, the
    bits left in the open packet), each after a reset. The model
    (:class:`models.sifting.packets.Packetizer`, :func:`~models.sifting.packets.key_beats`)
    and the RTL key stream must both give ``want``."""
    p = bench.params
    packet_bits = p["packet_bits"]
    for case in p["cases"]:
        items, model = check_packet_model(case, packet_bits, p["seed"])
        lasts, packets, _ = case["want"]
        await bench.reset()
        got = await bench.transfer({"i": Send(items, idle=p["idle"])},
                                   {"key": Receive(case["key_bits"], stall=p["stall"], settle=4)},
                                   max_cycles=4 * len(items) + 200)
        bench.compare(f"sifter-{case['key_bits']}", got["key"], model.tolist(), layout=KeyBeat)
        rtl_last = np.flatnonzero(unpack_array(KeyBeat, got["key"])["last"]).tolist()
        assert rtl_last == lasts, f"RTL last flags on key bits {rtl_last}, want {lasts}"
        await bench.ticks(2)
        assert bench.get("packets") == packets, f"packets register {bench.get('packets')}"


def _model_beats(sat: _Satellite, copies: list[np.ndarray]) -> list[tuple[int, int, int]]:
    """Frame beats (seq, count, missing) of the satellite endpoint's decisions."""
    counts = {}
    for words in copies:
        frame = decode_uplink(words)
        if frame is not None:
            counts.setdefault(frame.seq, len(frame.offset))
    return [(seq, 0, 1) if head == MISSING_HEAD else (seq, counts[seq], 0)
            for seq, head in sat.log]


async def uplink_receiver_edges(bench: Bench) -> None:
    """UplinkReceiver on directed copies: ``frame_pulses``, ``cache_pulses``, ``runs`` (each a
    constant cache ``head``, ``copies`` as word lists, ``model`` flags per copy (False where the
    golden endpoint does not model the edge), stated ``beats`` [(seq, count, missing)],
    ``reports`` count and ``counters``), each after a reset. The satellite endpoint
    (:class:`models.sifting.classical_link._Satellite`, fed the flagged copies at ``head``) and
    the RTL must give the stated frame beats; the RTL counters must equal ``counters``."""
    p = bench.params
    frame_pulses = p["frame_pulses"]
    for index, run in enumerate(p["runs"]):
        copies = [np.array(words, dtype=np.uint32) for words in run["copies"]]
        beats = [tuple(b) for b in run["beats"]]
        sat = _Satellite(SiftConfig(frame_pulses=frame_pulses, cache_pulses=p["cache_pulses"],
                                    pulse_rate_hz=1.0), qrng_symbols(1))
        modelled = [c for c, use in zip(copies, run["model"], strict=True) if use]
        for words in modelled:
            sat.receive(float(run["head"]), words)
        sat.advance(run["head"])
        assert _model_beats(sat, modelled) == beats, (
            f"run {index}: model {_model_beats(sat, modelled)}, want {beats}")
        bench.set("head", run["head"])
        await bench.reset()
        got = await bench.transfer(
            {"i": Send(message_beats(copies), idle=p["idle"])},
            {"frame": Receive(len(beats), stall=p["stall"], settle=40),
             "report": Receive(run["reports"], stall=p["stall"], settle=40)},
            max_cycles=20 * sum(len(c) for c in copies) + 400)
        assert field_tuples(FrameBeat, got["frame"]) == beats, (
            f"run {index}: RTL frame beats {field_tuples(FrameBeat, got['frame'])}, want {beats}")
        reports = report_tuples(got["report"])
        assert len(reports) == run["reports"], f"run {index}: {len(reports)} reports"
        for seq, count, missing in beats:  # reports of frame seq lie in [seq P, (seq + 1) P)
            inside = [r for r in reports if r[0] // frame_pulses == seq]
            assert len(inside) == (0 if missing else count), f"run {index}: frame {seq} reports"
        await bench.ticks(4)
        counters = {name: bench.get(name) for name in run["counters"]}
        assert counters == run["counters"], f"run {index}: counters {counters}"


async def sift_receiver_edges(bench: Bench) -> None:
    """SiftReceiver on directed copies after a reset: ``frame_pulses``, ``window``,
    ``closed`` (a constant), ``copies`` (word lists) with ``model`` flags (False where the
    golden endpoint does not model the edge), ``records`` (Report payloads in framing order),
    the stated ``entries`` paired with them, ``ack`` and ``counters``. The ground endpoint
    (:class:`models.sifting.classical_link._Ground`, fed the flagged copies) must reach the same
    ``ack`` and count the same missing entries; the RTL must give the stated pairs."""
    p = bench.params
    records = p["records"]
    fields = unpack_array(Report, records)
    reports = Reports(fields["pulse"].astype(np.uint64), fields["basis"].astype(np.uint8),
                      fields["sampled"].astype(np.uint8), fields["bit"].astype(np.uint8))
    ground = _Ground(SiftConfig(frame_pulses=p["frame_pulses"], rx_window=p["window"]),
                     reports, reports.bit, p["frames"])
    copies = [np.array(words, dtype=np.uint32) for words in p["copies"]]
    for words, use in zip(copies, p["model"], strict=True):
        if use:
            ground.receive(words)
    missing = sum(e == SiftCode.MISSING for e in p["entries"])
    assert (ground.next_sift, ground.totals.missing) == (p["ack"], missing), (
        f"model: next message {ground.next_sift}, {ground.totals.missing} missing entries")
    bench.set("closed", p["closed"])
    await bench.reset()
    got = await bench.transfer(
        {"i": Send(message_beats(copies), idle=p["idle"]),
         "record_in": Send(records, idle=p["idle"])},
        {"record": Receive(len(records), stall=p["stall"], settle=40),
         "entry": Receive(len(records), stall=p["stall"], settle=40)},
        max_cycles=20 * sum(len(c) for c in copies) + 400)
    bench.compare("sift-receiver-records", got["record"], records, layout=Report)
    bench.compare("sift-receiver-entries", got["entry"], p["entries"], layout=SiftEntry)
    await bench.ticks(4)
    assert bench.get("ack") == p["ack"], f"ack {bench.get('ack')}, want {p['ack']}"
    counters = {name: bench.get(name) for name in p["counters"]}
    assert counters == p["counters"], f"counters {counters}, want {p['counters']}"


async def uplink_framer_edges(bench: Bench) -> None:
    """UplinkFramer on directed phases after one reset: ``frame_pulses``, ``max_repeats``,
    ``ack`` (constant), ``phases`` (each the ``now`` to hold, ``reports`` (pulse, basis,
    sampled, bit) to send, the stated ``copies`` [(seq, [offsets])] that must come out, in
    order, exactly, the ``records`` (reports framed) and the ``late`` count after it). Every
    copy must also equal :func:`models.sifting.messages.encode_uplink` of the stated frame."""
    p = bench.params
    offset_bits = (p["frame_pulses"] - 1).bit_length()
    bench.set("ack", p["ack"])
    await bench.reset()
    sent: list[tuple] = []
    for index, phase in enumerate(p["phases"]):
        bench.set("now", phase["now"])
        reports = [tuple(r) for r in phase["reports"]]
        sent += reports
        want = []
        for seq, offsets in phase["copies"]:
            n = len(offsets)
            zeros = np.zeros(n, dtype=np.uint8)
            framed = [r for r in sent if r[0] // p["frame_pulses"] == seq]
            basis = np.array([r[1] for r in framed] or zeros, dtype=np.uint8)
            sampled = np.array([r[2] for r in framed] or zeros, dtype=np.uint8)
            bit = np.array([r[3] for r in framed] or zeros, dtype=np.uint8)
            want.append(encode_uplink(seq, p["ack"], np.array(offsets, dtype=np.uint64), basis,
                                      sampled, bit, offset_bits).tolist())
        recorded = [tuple(r) for r in phase["records"]]
        got = await bench.transfer(
            {"report": Send(report_values(*(np.array(c) for c in zip(*reports, strict=True)))
                            if reports else [], idle=p["idle"])},
            {"o": Receive(sum(len(w) for w in want), stall=p["stall"], settle=200),
             "record": Receive(len(recorded), stall=p["stall"])},
            max_cycles=4000)
        copies = [c.tolist() for c in split_copies(got["o"])]
        assert copies == want, f"phase {index}: copies {copies}, want {want}"
        assert report_tuples(got["record"]) == recorded, (
            f"phase {index}: records {report_tuples(got['record'])}")
        await bench.ticks(2)
        assert bench.get("late") == phase["late"], f"phase {index}: late {bench.get('late')}"


async def ground_report_edges(bench: Bench) -> None:
    """GroundReport's sampling threshold: ``records`` (DetectionRecord payloads) and the stated
    ``sampled`` flag of each at the DUT's ``sample_below``; the model
    (:func:`models.sifting.entries.sample_flags` with ``sample_seed``) must give the same."""
    p = bench.params
    fields = unpack_array(DetectionRecord, p["records"])
    model = sample_flags(p["sample_seed"], fields["pulse"].astype(np.uint64), p["sample_below"])
    assert model.tolist() == p["sampled"], f"model sampled {model.tolist()}, want {p['sampled']}"
    await bench.reset()
    got = await bench.transfer({"det": Send(p["records"], idle=p["idle"])},
                               {"report": Receive(len(p["records"]), stall=p["stall"], settle=8)},
                               max_cycles=400)
    reports = report_tuples(got["report"])
    assert [r[2] for r in reports] == p["sampled"], (
        f"RTL sampled {[r[2] for r in reports]} at sample_below={p['sample_below']}")
    assert [r[0] for r in reports] == fields["pulse"].tolist(), "records out of order"


async def sift_sender_edges(bench: Bench) -> None:
    """SiftSender around its acknowledgement and table edges, in ``phases`` after one reset
    (each: the ``ack`` to hold, ``messages`` [(seq, entries or None)] to build, fed as ``frame``
    beats and ``entry`` beats, in the background if ``blocked``; ``words`` to take from ``o``;
    the stated ``built`` afterwards and the ``seqs`` every copy after the first may carry: the
    first may be the copy under way when the phase began; an empty ``seqs`` means silence after
    it). Every copy must equal :func:`models.sifting.messages.encode_sift` of its message."""
    p = bench.params
    codes: dict[int, np.ndarray | None] = {}
    await bench.reset()
    for index, phase in enumerate(p["phases"]):
        bench.set("ack", phase["ack"])
        messages = [(seq, None if e is None else np.array(e, dtype=np.uint8))
                    for seq, e in phase["messages"]]
        codes.update(messages)
        frames = pack_array(FrameBeat, {
            "seq": np.array([s for s, _ in messages], dtype=np.int64),
            "count": np.array([0 if e is None else len(e) for _, e in messages], dtype=np.int64),
            "missing": np.array([e is None for _, e in messages], dtype=np.int64)}).tolist()
        entries = [int(c) for _, e in messages if e is not None for c in e]
        blocked = phase.get("blocked", False)
        got = await bench.transfer(
            {"frame": Send(frames, idle=p["idle"], background=blocked),
             "entry": Send(entries, idle=p["idle"], background=blocked)},
            {"o": Receive(phase["words"], stall=p["stall"], settle=200)}, max_cycles=4000)
        copies = split_copies(got["o"])
        tail = unpack_array(MessageWord, got["o"])["last"].tolist()
        for copy in copies[1:]:
            seq = int(copy[1])
            assert seq in phase["seqs"], f"phase {index}: copy of message {seq}"
            assert copy.tolist() == encode_sift(seq, codes[seq]).tolist(), (
                f"phase {index}: message {seq} differs from the model")
        ends = [k for k, last in enumerate(tail) if last]
        if not phase["seqs"]:
            assert len(ends) <= 1 and ends in ([], [len(tail) - 1]), (
                f"phase {index}: {len(ends)} copies ended after the acknowledgement")
        await bench.ticks(2)
        assert bench.get("built") == phase["built"], f"phase {index}: built {bench.get('built')}"
