"""Scoreboards of the classical link in the end-to-end co-simulation: both link PHYs and both
link layers against the golden models, after the window (pure numpy, no simulator import).

What the RTL did decides what the models are fed (as in :mod:`tb.sifting.cocotb_link_layer`):
the bits each PHY receiver got (the bit channel's output), and the copies each receiver gave
its link layer, with the satellite's RND cache head at each uplink copy's CRC word. Streams
(each a :class:`tb.tally.StreamTally` of the run's scoreboard, compared in order; beats the
model says were due by the end of the window and that never came are mismatches, captured
beats beyond the model's are mismatches):

* ``uplink_phy`` / ``downlink_phy``: every word of the PHY receiver (data, last, abort) =
  :func:`models.link.receiver.receive` of its bits and of the CDR's lock pin as its aligner
  saw it (two recovered cycles late); ``downlink_sync``: the ground receiver's SYNC counters;
  ``phy_counters`` (a check): lock and every receiver counter = the model's, no word lost to a
  full output FIFO (``overrun``) and no sync counter dropped, every word in its recovered
  cycle (none handed over late), the CDR's lock and lock losses as the pin says, and the
  downlink line's SYNC blocks count the sync frames from 0 (none on the uplink);
* ``uplink_frames`` (one beat per framed report): the uplink line carries only copies of
  frames of the ground's reports (CRC, sequence, reports = the model's reports of their pulses;
  every copy of a frame the same), the lines' grammar holds;
* ``frame_decisions``: the satellite's frame decisions (accepted with their report count,
  declared missing on a gap or on expiry) = the golden satellite's
  (:class:`models.sifting.classical_link._Satellite`) fed with the delivered copies;
* ``downlink_copies``: every sift-message copy on the downlink line = the golden satellite's
  message of that sequence number;
* ``sift_entries``, ``satellite_key``, ``ground_key``: the satellite's sift entries and both key
  streams = the golden endpoints' (the ground's fed with the delivered sift-message copies).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from models.constants import FRAME_PULSES
from models.link import line_code
from models.link.framing import FramingError, items
from models.link.receiver import RxResult, receive
from models.sifting.classical_link import (
    MISSING_HEAD,
    SiftConfig,
    _Ground,
    _Satellite,
    qrng_symbols,
)
from models.sifting.entries import Reports
from models.sifting.messages import UPLINK_HEADER_WORDS, decode_sift, decode_uplink
from models.sifting.packets import key_beats
from rtl.common.payload import pack
from rtl.e2e.top import E2eParams
from rtl.link.layouts import RxWord
from rtl.sifting.uplink_receiver import FrameBeat
from tb.tally import Mismatch, StreamTally

LINK_STREAMS = ("uplink_phy", "downlink_phy", "downlink_sync", "frame_decisions",
                "downlink_copies")
LINK_CHECKS = ("phy_counters", "uplink_frames")
PHY_FIFO = 16  # words a PHY receiver may hold in its output FIFO at the end of the window
PIN_DELAY = 2  # recovered cycles from the CDR's lock pin to the aligner (FFSynchronizer)
PIN_SETTLE = 4  # recovered cycles from a pin to the fabric's ``cdr_locked`` at most
BODY_MASK = (1 << line_code.BODY_BITS) - 1


class KeyLog:
    """Stands in for an endpoint's :class:`~models.sifting.packets.Packetizer`: keeps every
    key bit (the RTL streams the open packet's bits too)."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.bits = 0

    def push(self, bit, basis, intensity, pulse=None) -> list:
        self.parts.append((np.asarray(bit), np.asarray(basis), np.asarray(intensity)))
        self.bits += len(bit)
        return []

    def beats(self, packet_bits: int) -> list[int]:
        if not self.parts:
            return []
        bit, basis, intensity = (np.concatenate(c) for c in zip(*self.parts, strict=True))
        return key_beats(bit, basis, intensity, packet_bits).tolist()


@dataclass
class Captured:
    """One captured stream after the window: beat values and capture cycles."""

    values: list[int] = field(default_factory=list)
    cycles: list[int] = field(default_factory=list)

    def add(self, values: np.ndarray, cycles: np.ndarray) -> None:
        self.values.extend(np.asarray(values).tolist())
        self.cycles.extend(np.asarray(cycles).tolist())


def copies(beats: list[tuple[int, int, int]]) -> list[np.ndarray]:
    """The copies a link layer got from its PHY receiver (a cut copy as its truncated words)."""
    out, words = [], []
    for data, last, _abort in beats:
        words.append(data)
        if last:
            out.append(np.array(words, dtype=np.uint32))
            words = []
    return out


def line_copies(words: np.ndarray) -> tuple[list[np.ndarray], list[int]]:
    """``(messages, sync counters)`` a transmitter put on its line (a message still open at the
    end left out); raises :class:`FramingError` if the line breaks the grammar."""
    headers, bodies, _ = line_code.decode(np.asarray(words, dtype=np.uint64))
    messages, syncs = items(headers, bodies)
    return [np.array(m, dtype=np.uint32) for m in messages], syncs


def beats_of(values: list[int]) -> list[tuple[int, int, int]]:
    """``(data, last, abort)`` of RxWord payloads."""
    return [(v & BODY_MASK, v >> 32 & 1, v >> 33 & 1) for v in values]


def accepted_entries(sat: _Satellite) -> list[int]:
    """The golden satellite's sift entries, frame after accepted frame."""
    return [int(c) for i, (_, h) in enumerate(sat.log) if h != MISSING_HEAD
            for c in decode_sift(sat.messages[i]).code]


def framed_from_line(sent: list[np.ndarray], reports: Reports, bit: np.ndarray
                     ) -> tuple[Reports, np.ndarray, np.ndarray]:
    """The reports the ground framed, read from its uplink copies (corrupted copies cannot be
    on a transmitter's line), with the model's measured bit of each, and per framed report
    whether it differs from the model's report of that pulse (none, or other fields; all
    copies of a frame must be the same, else each of its reports counts as wrong)."""
    frames: dict[int, np.ndarray] = {}
    same: dict[int, bool] = {}
    for words in sent:
        seq = int(words[1]) if len(words) > 1 else -1
        body = words[UPLINK_HEADER_WORDS:-1]
        same[seq] = same.get(seq, True) and decode_uplink(words) is not None and (
            seq not in frames or np.array_equal(frames[seq], body))
        frames.setdefault(seq, body)
    parts = []
    for seq in sorted(s for s in frames if s >= 0):
        body = frames[seq].astype(np.uint64)
        parts.append((np.uint64(seq * FRAME_PULSES) + (body >> np.uint64(3)),
                      (body >> np.uint64(2)) & np.uint64(1), (body >> np.uint64(1)) & np.uint64(1),
                      body & np.uint64(1), np.full(len(body), not same[seq])))
    if parts:
        pulse, basis, sampled, rbit, wrong = (np.concatenate(c) for c in zip(*parts, strict=True))
    else:
        pulse = basis = sampled = rbit = np.zeros(0, np.uint64)
        wrong = np.zeros(0, bool)
    index = np.minimum(np.searchsorted(reports.pulse, pulse), max(len(reports) - 1, 0))
    known = (index < len(reports)) & (reports.pulse[index] == pulse) if len(reports) else \
        np.zeros(len(pulse), bool)
    model = reports.take(index) if len(reports) else reports
    wrong = wrong | ~known
    if len(reports):
        wrong |= (model.basis != basis) | (model.sampled != sampled) | (model.bit != rbit)
    framed = Reports(pulse, basis.astype(np.uint8), sampled.astype(np.uint8),
                     rbit.astype(np.uint8))
    return framed, np.where(known, bit[index] if len(bit) else 0, 0).astype(np.uint8), wrong


def rx_words(result: RxResult) -> list[int]:
    return [pack(RxWord, {"data": d, "last": last, "abort": a}) for d, last, a in result.beats]


def compare(tally: StreamTally, got: list[int], cycles: list[int], want: list[int], due: int,
            message: str, layout=None) -> None:
    """``got`` against ``want`` in order; ``got`` beyond ``want`` and the first ``due`` of
    ``want`` that never came are mismatches."""
    n = min(len(got), len(want))
    bad = np.array([g != w for g, w in zip(got[:n], want[:n], strict=True)]
                   + [True] * (len(got) - n), dtype=bool)

    def detail(i: int) -> Mismatch:
        show = (lambda v: {"value": v}) if layout is None else (
            lambda v: {k: v >> layout[k].offset & ((1 << layout[k].width) - 1)
                       for k in layout.members})
        return Mismatch(tally.name, 0, message if i < n else f"{tally.name}: beat beyond "
                        "the model's", expected=show(want[i]) if i < n else None,
                        received=show(got[i]))
    tally.record(bad, message, detail, np.asarray(cycles, dtype=np.int64))
    if due > len(got):
        tally.missing(due - len(got), due)


@dataclass
class LineRun:
    """One direction after the window: the line words its transmitter sent, the bits its
    receiver got, the words the receiver gave its link layer (``got``: RxWord payloads;
    ``heads``: the satellite's cache head with each, uplink only) and the receiver's status."""

    sent: np.ndarray
    bits: np.ndarray
    got: Captured
    status: dict[str, int]
    heads: list[int] = field(default_factory=list)
    syncs: Captured | None = None
    pins: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    late: int = 0

    def seen(self) -> np.ndarray:
        """The CDR's lock pin as the aligner saw it with each word: two recovered cycles late
        (its synchroniser; low before the first word)."""
        return np.concatenate([np.zeros(PIN_DELAY, dtype=bool), self.pins])[:len(self.pins)]


def _phy(tallies: dict[str, StreamTally], name: str, line: LineRun) -> tuple[RxResult, dict]:
    """A PHY receiver against the model of the bits it got; returns the model and its stats."""
    model = receive(line.bits, cdr_lock=line.seen())
    want = rx_words(model)
    compare(tallies[f"{name}_phy"], line.got.values, line.got.cycles, want,
            max(0, len(want) - PHY_FIFO), f"{name} PHY receiver word differs from "
            "models.link.receiver", RxWord)
    if line.syncs is not None:
        compare(tallies[f"{name}_sync"], line.syncs.values, line.syncs.cycles, model.syncs,
                max(0, len(model.syncs) - 1), "sync counter differs from models.link.receiver")
    want_status = {**model.counters, "locked": int(model.locked), "overrun": 0,
                   "sync_dropped": 0}
    wrong = {k: (w, line.status[k]) for k, w in want_status.items() if line.status[k] != w}
    # the fabric's view of the pin may trail the last words by a few recovered cycles
    pins = line.pins.astype(np.int8)
    falls = [int(np.count_nonzero(np.diff(pins[:len(pins) - lag]) < 0))
             for lag in (PIN_SETTLE, 0)]
    if not falls[0] <= line.status["cdr_lock_losses"] <= falls[1]:
        wrong["cdr_lock_losses"] = (falls[1], line.status["cdr_lock_losses"])
    if len(pins) > PIN_SETTLE and pins[-PIN_SETTLE:].min() == pins[-PIN_SETTLE:].max() \
            and line.status["cdr_locked"] != pins[-1]:
        wrong["cdr_locked"] = (int(pins[-1]), line.status["cdr_locked"])
    if line.late:
        wrong["words handed over late"] = (0, line.late)
    tallies["phy_counters"].record(np.array([bool(wrong)]), f"{name} PHY receiver: " + ", ".join(
        f"{k} expected {w} received {g}" for k, (w, g) in wrong.items()))
    lock = np.flatnonzero(pins)
    return model, {"blocks_sent": len(line.sent), "bits_received": len(line.bits),
                   "words_delivered": len(line.got.values), "late": line.late,
                   "cdr_lock_word": int(lock[0]) if len(lock) else None, **line.status}


def check_link(tallies: dict[str, StreamTally], params: E2eParams, reports: Reports,
               bit: np.ndarray, frames: int, up: LineRun, dn: LineRun,
               captured: dict[str, Captured], head_end: int, end_cycle: int,
               margin_cycles: int) -> dict:
    """Every link stream of the window (see the module docstring); returns the link's figures
    for the summary. ``captured``: ``dec``, ``ent``, ``skey``, ``gkey``; ``head_end`` the cache
    head at the end of the window; results the RTL could still be working on
    (``margin_cycles`` before the end) are not due."""
    _, up_stats = _phy(tallies, "uplink", up)
    _, dn_stats = _phy(tallies, "downlink", dn)
    stats = {"uplink": up_stats, "downlink": dn_stats}
    try:
        up_sent, up_syncs = line_copies(up.sent)
        dn_sent, dn_syncs = line_copies(dn.sent)
    except FramingError as exc:  # a transmitter broke the line grammar: nothing to read
        tallies["uplink_frames"].record(np.array([True]), f"link lines: {exc}")
        return stats
    # the satellite asks for one SYNC block per sync frame, counter k in frame k; none goes up
    tallies["phy_counters"].record(np.array([up_syncs != [] or dn_syncs != list(
        range(len(dn_syncs)))]), f"SYNC blocks on the lines: uplink {up_syncs[:4]}, downlink "
        f"{dn_syncs[:4]}... (the downlink's must count the sync frames from 0)")
    framed, framed_bit, wrong = framed_from_line(up_sent, reports, bit)
    tallies["uplink_frames"].record(wrong, "uplink report differs from the model's report of "
                                    "its pulse (or the copies of its frame differ)")
    sift = SiftConfig(frame_pulses=FRAME_PULSES, packet_bits=params.packet_bits,
                      cache_pulses=params.lanes * params.cache_rows, pulse_rate_hz=1.0,
                      rx_window=params.ground_window)
    sat = _Satellite(sift, qrng_symbols(params.seed))
    sat.packetizer = KeyLog()
    gnd = _Ground(sift, framed, framed_bit, frames + 2)
    gnd.packetizer = KeyLog()
    up_copies = copies(beats_of(up.got.values))
    stamps = [h for v, h in zip(up.got.values, up.heads, strict=True) if v >> 32 & 1]
    cut = head_end - margin_cycles * params.lanes
    due: dict[str, int] = {}
    for phase in (0, 1):
        for words, stamp in zip(up_copies, stamps, strict=True):
            if (stamp <= cut) != bool(phase):
                sat.receive(float(stamp), words)
        sat.advance(cut if phase == 0 else head_end)
        if phase == 0:
            due["decisions"], due["satellite_key"] = len(sat.log), sat.packetizer.bits
            due["sift_entries"] = len(accepted_entries(sat))
    dn_last = [c for v, c in zip(dn.got.values, dn.got.cycles, strict=True) if v >> 32 & 1]
    for phase in (0, 1):
        for words, at in zip(copies(beats_of(dn.got.values)), dn_last, strict=True):
            if (at <= end_cycle - margin_cycles) != bool(phase):
                gnd.receive(words)
        if phase == 0:
            due["ground_key"] = gnd.packetizer.bits

    bounds = gnd.bounds
    decisions = [pack(FrameBeat, {
        "seq": seq, "missing": int(h == MISSING_HEAD),
        "count": 0 if h == MISSING_HEAD else int(bounds[seq + 1] - bounds[seq])})
        for seq, h in sat.log]
    dec = captured["dec"]
    compare(tallies["frame_decisions"], dec.values, dec.cycles, decisions, due["decisions"],
            "frame decision differs from the golden satellite", FrameBeat)
    entries = accepted_entries(sat)
    ent = captured["ent"]
    compare(tallies["sift_entries"], ent.values, ent.cycles, entries, due["sift_entries"],
            "sift entry differs from the golden satellite")
    for side, model in (("satellite", sat), ("ground", gnd)):
        key = captured["skey" if side == "satellite" else "gkey"]
        compare(tallies[f"{side}_key"], key.values, key.cycles,
                model.packetizer.beats(params.packet_bits), due[f"{side}_key"],
                f"{side} key beat differs from the golden endpoint")
    # every downlink copy on the line is the golden satellite's message of its sequence number
    bad = [len(w) < 2 or int(w[1]) >= len(sat.messages)
           or not np.array_equal(w, sat.messages[int(w[1])]) for w in dn_sent]
    tallies["downlink_copies"].record(np.array(bad, dtype=bool),
                                      "downlink copy differs from the golden satellite's message")
    missing = [seq for seq, h in sat.log if h == MISSING_HEAD]
    stats.update({
        "uplink_copies": len(up_sent), "uplink_copies_delivered": len(up_copies),
        "uplink_frames": len(sat.log), "uplink_missing": len(missing),
        "uplink_expired": sat.timeouts, "uplink_stale": sat.stale, "missing_frames": missing,
        "sift_copies": len(dn_sent), "sift_copies_delivered": len(dn_last),
        "sift_messages": gnd.next_sift,
        "key_bits": {"satellite": sat.packetizer.bits, "ground": gnd.packetizer.bits},
    })
    return stats
