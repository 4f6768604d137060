"""Scoreboard of the end-to-end co-simulation: every captured stream against the golden models.

Pure numpy, no simulator import. Streams, each compared beat by beat in order
(:class:`tb.tally.StreamTally` counts compared beats and mismatches and keeps the first mismatch
with its cycle, both payloads decoded through the stream's layout and the model's context):

* ``symbols``: per-batch signatures (:mod:`rtl.e2e.signature`) of the model's symbols;
* ``sync_frames``: ground sync detector events: consecutive frame counters at the frame's bit
  position on the downlink, no flywheel on a clean link;
* ``reports``: ground reports = expected detection records (indexer + gate + squash model of the
  channel's tags) with the sampling decision of :func:`models.sifting.entries.make_reports`;
* ``cache_answers``: RND cache status and symbol (``models.rnd_cache`` at the reported head);
* the link's streams (both link PHYs, frame decisions, sift-message copies, ``sift_entries``,
  ``satellite_key``, ``ground_key``): :mod:`tb.e2e.link_check`, after the window, against the
  golden link PHY receiver and sifting endpoints fed with what the link delivered;
* ``raw_hits``: the TDC channels' raw hits (tapped into one capture, interleaved by capture
  time), each channel's in order against :func:`models.ground.stimulus.sparse_raw_hits` of
  the codes its delay line sampled;
* ``cal_tags``: the calibrators' tags, per channel, against
  :func:`models.ground.time_tagger.run_time_tagger_hits`; ``sync_tags``: the sync join's
  ``(t_k, k)`` tags; ``merged_tags``: the time-ordered merge's output, the indexer's input;
* ``tdc_counters`` (one check): every counter of the time tagger at the end of the window
  equals the model's (lost to dead time, calibration blanking, pile-up, join missing / extra);
* ``replay_batches`` (not a stream: one check per replay): every batch the testbench strobed into
  a :class:`rtl.e2e.replay.TimedReplay` was accepted and none was refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from models.constants import FRAME_PULSES
from models.framing import FRAME_WORDS, WORD_BITS
from models.qrng import qrng_words
from models.rnd_cache import CacheStatus, cache_lookup
from models.sifting.classical_link import SiftConfig
from models.sifting.entries import make_reports
from models.symbols import map_symbols
from rtl.common.payload import unpack_bits
from rtl.e2e.signature import FOLD_BITS, SignatureRecord
from rtl.e2e.top import CAPTURES, POWER_ON_CYCLES, SYNC_EVENT_CYCLE, E2eParams
from rtl.ground.sync import FrameEvent
from rtl.satellite.layouts import CacheAnswer
from rtl.sifting.layouts import Report
from tb.e2e.link_check import LINK_CHECKS, LINK_STREAMS
from tb.tally import Mismatch, StreamTally

FRAME_BITS = FRAME_WORDS * WORD_BITS
LOCK_FRAMES = 4  # the sync detector must lock within this many frames of a clean start
STREAMS = ("symbols", "sync_frames", "reports", "cache_answers", "sift_entries",
           "satellite_key", "ground_key", "raw_hits", "cal_tags", "sync_tags", "merged_tags")
CHECKS = (*STREAMS, *LINK_STREAMS, "replay_batches", "tdc_counters", *LINK_CHECKS)
# Layout of each stream's beats (the capture that carries it).
STREAM_LAYOUT = {"symbols": CAPTURES["sig"], "sync_frames": CAPTURES["frm"],
                 "reports": CAPTURES["rep"], "cache_answers": CAPTURES["ans"],
                 "sift_entries": CAPTURES["ent"], "satellite_key": CAPTURES["skey"],
                 "ground_key": CAPTURES["gkey"], "raw_hits": CAPTURES["raw"],
                 "cal_tags": CAPTURES["cal"], "sync_tags": CAPTURES["sync"],
                 "merged_tags": CAPTURES["tag"]}


def row(tree: dict, i: int, prefix: str = "") -> dict[str, int]:
    """Beat ``i`` of nested field arrays as a flat ``{"field.sub": int}`` dict."""
    out: dict[str, int] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(row(value, i, f"{name}."))
        else:
            v = np.asarray(value)[i]
            if v.ndim:  # an array field: one entry per element
                out.update({f"{name}.{j}": int(x) for j, x in enumerate(v)})
            else:
                out[name] = int(v)
    return out


def flat(value: dict) -> dict[str, int]:
    """A decoded payload (:func:`rtl.common.payload.unpack`) as a flat ``{"field.sub": int}``."""
    return row({k: np.array([v]) if not isinstance(v, dict) else
                {kk: np.array([vv]) for kk, vv in v.items()} for k, v in value.items()}, 0)


def frame_context(pulse: int) -> dict[str, int]:
    return {"pulse": int(pulse), "frame": int(pulse) // FRAME_PULSES,
            "pulse_in_frame": int(pulse) % FRAME_PULSES}


def signature_words(seed: int, lanes: int, first_pulse: np.ndarray, beats: int) -> np.ndarray:
    """``[batches, beats]`` words of :class:`rtl.e2e.signature.SymbolSignature` (model)."""
    pulse = (first_pulse[:, None, None] + np.arange(beats, dtype=np.uint64)[None, :, None]
             * np.uint64(lanes) + np.arange(lanes, dtype=np.uint64)[None, None, :])
    sym = map_symbols(qrng_words(seed, pulse))
    shifts = np.arange(lanes, dtype=np.uint64)
    symbols = np.bitwise_or.reduce(sym.packed().astype(np.uint64) << (shifts * np.uint64(4)),
                                   axis=2)
    drive = sym.im_code.astype(np.uint64) | sym.pm_code.astype(np.uint64) << np.uint64(8)
    lane_bits = np.uint64(16) * shifts
    fold = np.zeros(symbols.shape, dtype=np.uint64)
    for lane in range(lanes):
        fold ^= (drive[..., lane] << lane_bits[lane]) >> np.uint64(
            FOLD_BITS * (16 * lane // FOLD_BITS)) & np.uint64(0xFFFF_FFFF)
    return symbols | fold << np.uint64(4 * lanes)


def signatures(words: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fletcher sums (s1, s2) mod 2**64 of each row of ``words``."""
    s1 = np.cumsum(words, axis=1, dtype=np.uint64)
    return s1[:, -1], np.sum(s1, axis=1, dtype=np.uint64)


@dataclass
class E2eScoreboard:
    params: E2eParams
    det_pulse: np.ndarray
    det_basis: np.ndarray
    det_bit: np.ndarray
    sift: SiftConfig = field(default_factory=SiftConfig)
    tallies: dict[str, StreamTally] = field(
        default_factory=lambda: {name: StreamTally(name) for name in CHECKS})
    answer_status: dict[str, int] = field(
        default_factory=lambda: {s.name.lower(): 0 for s in CacheStatus})
    key_bits: dict[str, int] = field(default_factory=lambda: {"satellite": 0, "ground": 0})
    first_frame: int | None = None
    # stream -> the model's beats of every channel as field arrays, each channel's first index
    # and count (``check_split``)
    split_expected: dict[str, tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]] = field(
        default_factory=dict)
    split_seen: dict[str, np.ndarray] = field(default_factory=dict)
    sequence_expected: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.reports = make_reports(self.det_pulse, self.det_basis, self.det_bit,
                                    self.sift.ground_seed, self.sift.sample_below)

    @property
    def mismatches(self) -> int:
        return sum(t.mismatches for t in self.tallies.values())

    # --- streams checked directly against the models ---------------------------------------
    def check_signatures(self, beats: np.ndarray, cycles: np.ndarray) -> None:
        p = self.params
        got = unpack_bits(SignatureRecord, beats)
        tally = self.tallies["symbols"]
        per_batch = p.signature_beats * p.lanes
        want = {"pulse": (np.arange(len(beats), dtype=np.uint64) + np.uint64(tally.compared))
                * np.uint64(per_batch)}
        want["s1"], want["s2"] = signatures(signature_words(p.seed, p.lanes, want["pulse"],
                                                            p.signature_beats))
        bad = np.zeros(len(beats), dtype=bool)
        for name in ("pulse", "s1", "s2"):
            bad |= got[name] != want[name]
        message = "symbol batch signature differs from models.symbols.map_symbols"

        def detail(i: int) -> Mismatch:
            first = int(want["pulse"][i])
            return Mismatch("symbols", 0, message, expected=row(want, i), received=row(got, i),
                            context={**frame_context(first), "last_pulse": first + per_batch - 1,
                                     "beats_signed": p.signature_beats})
        tally.record(bad, message, detail, cycles)

    def check_frames(self, beats: np.ndarray, cycles: np.ndarray) -> None:
        got = unpack_bits(FrameEvent, beats)
        tally = self.tallies["sync_frames"]
        if self.first_frame is None and len(beats):
            self.first_frame = int(got["frame"][0])
        first = self.first_frame or 0
        frame = np.arange(len(beats), dtype=np.uint64) + np.uint64(first + tally.compared)
        want = {"frame": frame, "position": frame * np.uint64(FRAME_BITS),
                "flywheel": np.zeros(len(beats), dtype=np.uint64)}
        bad = np.full(len(beats), first >= LOCK_FRAMES)
        for name, value in want.items():
            bad |= got[name] != value
        # each event in its cycle: the time tagger's model joins the strobes at these cycles
        event_cycle = frame.astype(np.int64) * FRAME_BITS + SYNC_EVENT_CYCLE + POWER_ON_CYCLES
        bad |= np.asarray(cycles, dtype=np.int64) != event_cycle
        message = (f"sync event is not the next frame at its downlink position and cycle (lock "
                   f"within {LOCK_FRAMES} frames, no flywheel)")

        def detail(i: int) -> Mismatch:
            return Mismatch("sync_frames", 0, message, expected=row(want, i),
                            received=row(got, i),
                            context={"frame": int(frame[i]), "first_frame_seen": first,
                                     "downlink_bit": int(frame[i]) * FRAME_BITS,
                                     "expected_cycle": int(event_cycle[i])})
        tally.record(bad, message, detail, cycles)

    def check_reports(self, beats: np.ndarray, cycles: np.ndarray) -> np.ndarray:
        """Compare report beats; return them as a ``[n, 4]`` (pulse, basis, sampled, bit)."""
        got = unpack_bits(Report, beats)
        tally = self.tallies["reports"]
        start = tally.compared
        model = self.reports.take(slice(start, start + len(beats)))
        n = len(model)
        want = {"pulse": model.pulse, "basis": model.basis, "sampled": model.sampled,
                "bit": self.det_bit[start:start + n].astype(np.uint64)}
        bad = np.ones(len(beats), dtype=bool)
        bad[:n] = False
        for name, value in want.items():
            bad[:n] |= got[name][:n] != value
        message = "report differs from the indexer/gate/squash/sampling models"

        def detail(i: int) -> Mismatch:
            if i >= n:
                return Mismatch("reports", 0, "report beyond the model's detections",
                                received=row(got, i), context={"detection": start + i})
            return Mismatch("reports", 0, message, expected=row(want, i), received=row(got, i),
                            context={"detection": start + i, **frame_context(want["pulse"][i]),
                                     "detector_basis": int(self.det_basis[start + i]),
                                     "detector_bit": int(self.det_bit[start + i])})
        tally.record(bad, message, detail, cycles)
        return np.stack([got["pulse"], got["basis"], got["sampled"], got["bit"]], axis=1)

    def check_answers(self, beats: np.ndarray, cycles: np.ndarray) -> np.ndarray:
        """Compare RND cache answers; return the model's status of each (for the sift model)."""
        got = unpack_bits(CacheAnswer, beats)
        pulse, head, status = got["pulse"], got["head"], got["status"]
        capacity = self.params.lanes * self.params.cache_rows
        want_status = cache_lookup(pulse, head, capacity)
        sym = map_symbols(qrng_words(self.params.seed, pulse))
        ok = want_status == CacheStatus.OK
        want = {"pulse": pulse, "head": head, "status": want_status.astype(np.uint64),
                "symbol": {"intensity": np.where(ok, sym.intensity, 0),
                           "basis": np.where(ok, sym.basis, 0), "bit": np.where(ok, sym.bit, 0)}}
        bad = status != want["status"]
        for name, value in want["symbol"].items():
            bad |= got["symbol"][name] != value
        message = "RND cache answer differs from the model"

        def detail(i: int) -> Mismatch:
            return Mismatch("cache_answers", 0, message, expected=row(want, i),
                            received=row(got, i),
                            context={**frame_context(pulse[i]),
                                     "age_pulses": int(head[i]) - int(pulse[i]),
                                     "cache_pulses": capacity})
        self.tallies["cache_answers"].record(bad, message, detail, cycles)
        for s in CacheStatus:
            self.answer_status[s.name.lower()] += int(np.count_nonzero(status == s))
        return want_status

    def expect_split(self, stream: str, per_channel: list[dict[str, np.ndarray]]) -> None:
        """The model's beats of a per-channel stream: ``per_channel[k]`` field -> array (kept
        concatenated, channel after channel, for vectorised lookups)."""
        counts = np.array([len(next(iter(e.values()))) for e in per_channel], dtype=np.int64)
        self.split_expected[stream] = (
            {name: np.concatenate([e[name] for e in per_channel]).astype(np.uint64)
             for name in per_channel[0]},
            np.cumsum(counts) - counts, counts)
        self.split_seen[stream] = np.zeros(len(per_channel), dtype=np.int64)

    def check_split(self, stream: str, beats: np.ndarray, cycles: np.ndarray) -> None:
        """Compare captured beats of a per-channel stream, each channel's in its order."""
        got = unpack_bits(STREAM_LAYOUT[stream], beats)
        (want, first, counts), seen = self.split_expected[stream], self.split_seen[stream]
        channel = got["channel"].astype(np.int64)
        known_channel = channel < len(seen)
        ch = np.where(known_channel, channel, 0)
        # index of each beat within its channel: beats of the channel seen before, then its rank
        order = np.argsort(ch, kind="stable")
        per = np.bincount(ch, minlength=len(seen))
        rank = np.empty(len(ch), dtype=np.int64)
        rank[order] = np.arange(len(ch)) - np.repeat(np.cumsum(per) - per, per)
        index = seen[ch] + rank
        known = known_channel & (index < counts[ch])
        at = first[ch] + np.minimum(index, np.maximum(counts[ch] - 1, 0))
        bad = ~known
        for name, values in want.items():
            if len(values):
                bad |= known & (got[name] != values[np.minimum(at, len(values) - 1)])
        seen += per
        message = f"{stream} beat differs from the model of its channel"

        def detail(i: int) -> Mismatch:
            context = {"channel": int(channel[i]), "beat_of_channel": int(index[i])}
            if not known[i]:
                return Mismatch(stream, 0, f"{stream}: beat beyond the model's output of "
                                f"channel {int(channel[i])}", received=row(got, i),
                                context=context)
            return Mismatch(stream, 0, message, expected={
                name: int(v[at[i]]) for name, v in want.items()}, received=row(got, i),
                context=context)
        self.tallies[stream].record(bad, message, detail, cycles)

    def expect_sequence(self, stream: str, expected: dict[str, np.ndarray]) -> None:
        """The model's beats of a stream compared in one order: field -> array."""
        self.sequence_expected[stream] = expected

    def check_sequence(self, stream: str, beats: np.ndarray, cycles: np.ndarray) -> None:
        """Compare captured beats of a stream with the model's, in order."""
        got = unpack_bits(STREAM_LAYOUT[stream], beats)
        want, tally = self.sequence_expected[stream], self.tallies[stream]
        start = tally.compared
        n_want = len(next(iter(want.values())))
        j = start + np.arange(len(beats))
        known = j < n_want
        bad = ~known
        for name, values in want.items():
            bad[known] |= got[name][known] != values[j[known]]
        message = f"{stream} beat differs from the time tagger model"

        def detail(i: int) -> Mismatch:
            if not known[i]:
                return Mismatch(stream, 0, f"{stream}: beat beyond the model's output",
                                received=row(got, i), context={"beat": int(j[i])})
            return Mismatch(stream, 0, message, expected={
                name: int(v[j[i]]) for name, v in want.items()}, received=row(got, i),
                context={"beat": int(j[i])})
        tally.record(bad, message, detail, cycles)

    def sequence_shortfall(self, stream: str, due: int | None = None) -> None:
        """Beats of a sequence stream that never came (``due`` by the end of the window,
        default all of the model's) are mismatches."""
        want = self.sequence_expected[stream]
        self.shortfall(stream, len(next(iter(want.values()))) if due is None else due, 0)

    def split_shortfall(self, stream: str, due: list[int] | None = None) -> None:
        """Beats of a per-channel stream that never came (``due[k]`` of channel ``k`` were
        due by the end of the window; default all of the model's) are mismatches."""
        counts, seen = self.split_expected[stream][2], self.split_seen[stream]
        want = counts.tolist() if due is None else due
        missing = sum(max(0, w - int(s)) for w, s in zip(want, seen, strict=True))
        if missing:
            self.tallies[stream].missing(missing, sum(want))

    def check_taps(self, overflow: int) -> None:
        """The capture taps of the per-channel streams lost no beat (``rtl.e2e.funnel``)."""
        if overflow:
            self.tallies["raw_hits"].record(np.array([True]), f"{overflow} tapped beats lost "
                                            "to a full funnel FIFO: the capture is incomplete")

    def check_safe_pulses(self, safe: int) -> None:
        """No pulse left with the safe symbol: the e2e QRNG never underflows and stays healthy,
        so the symbol signatures (random symbols only) hold for every pulse
        (``docs/satellite.md``)."""
        if safe:
            self.tallies["symbols"].record(np.array([True]), f"{safe} pulses sent with the safe "
                                           "symbol (laser off) in a run whose QRNG never stalls")

    def check_counters(self, got: dict, want: dict) -> None:
        """The time tagger's counters at the end of the window equal the model's."""
        wrong = {name: (want[name], value) for name, value in got.items() if value != want[name]}
        message = "time tagger counters differ from the model: " + ", ".join(
            f"{name} expected {w} received {g}" for name, (w, g) in wrong.items())
        self.tallies["tdc_counters"].record(np.array([bool(wrong)]), message)

    def check_replays(self, counts: dict[str, tuple[int, ...]]) -> None:
        """``counts``: replay name -> (batches sent, accepted, dropped[, short reads]) at the
        end of the run; short reads are accepted batches whose file record was incomplete."""
        tally = self.tallies["replay_batches"]
        for name, (sent, accepted, dropped, *short) in counts.items():
            short_reads = short[0] if short else 0
            bad = accepted != sent or dropped != 0 or short_reads != 0
            tally.record(np.array([bad]), f"replay {name}: {sent} batches sent, {accepted} "
                                          f"accepted, {dropped} refused (entries lost), "
                                          f"{short_reads} read short")

    def shortfall(self, stream: str, expected: int, slack: int) -> None:
        """Count beats that never came (more than ``slack`` short of ``expected``) as mismatches."""
        tally = self.tallies[stream]
        missing = expected - slack - tally.compared
        if missing > 0:
            tally.missing(missing, expected)

    def first_mismatch(self) -> Mismatch | None:
        """The earliest first mismatch over all streams (by cycle; undated ones last)."""
        firsts = [t.first for t in self.tallies.values() if t.first is not None]
        if not firsts:
            return None
        return min(firsts, key=lambda f: (f.cycle is None, f.cycle or 0))

    def summary(self) -> dict:
        return {
            "mismatches": self.mismatches,
            "streams": {name: t.summary() for name, t in self.tallies.items()},
            "first_mismatch": None if (first := self.first_mismatch()) is None else
            first.as_dict(),
            "mismatch_cycles": {name: t.mismatch_cycles for name, t in self.tallies.items()
                                if t.mismatch_cycles},
            "cache_answer_status": dict(self.answer_status),
            "key_bits_expected": dict(self.key_bits),
        }
