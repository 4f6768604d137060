"""Scoreboard of the transmitter co-simulation: captured batches against the golden models.

Every captured beat is compared, in order, with what :mod:`models` says it must be, given the
seeded patterns the RTL generators make (QRNG idle cycles, symbol-path holds) and the QRNG fault
(:func:`models.transmitter.laser_schedule`):

* ``sym``: 4-bit symbols and modulator drive codes of every lane of every beat, random or safe
  (:func:`models.transmitter.transmitted_symbols`); per batch, the pulse index (low 32 bits) and
  the cycle of its first beat: beat ``b`` is pulse ``lanes * b``, sent in cycle
  ``b + FIRST_BEAT_CYCLE`` whatever the stalls (the laser timebase);
* ``dl``: every downlink word, header, payload slot and idle fill
  (:func:`models.framing.downlink_mismatches` with the payload counter 1, 2, 3, ...), and the
  cycle each frame's first word leaves: sync word ``k`` goes out with pulse
  ``k * 2**16 + sync_pulse_offset``, one offset for every frame;
* ``ans``: status of every RND cache answer (:func:`models.rnd_cache.cache_lookup` at the head
  the cache reported) and its symbol (the transmitted symbol, safe ones included, when OK, zero
  otherwise).

Pure numpy, no simulator import: the same class checks a cocotb run and unit tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from models.constants import FRAME_PULSES
from models.framing import FRAME_WORDS, downlink_mismatches
from models.qrng import qrng_offered
from models.rnd_cache import CacheStatus, cache_lookup
from models.symbols import SAFE_SYMBOL
from models.transmitter import (
    NO_FAULT,
    PIPELINE_CYCLES,
    LaserSchedule,
    QrngFault,
    laser_schedule,
    symbol_path_holds,
    transmitted_symbols,
)
from rtl.common.payload import pack_array, pack_bytes, unpack_bits
from rtl.satellite.layouts import CacheAnswer, DownlinkWord, Symbol
from rtl.simonly.tx_cosim_top import TAG_FIELD_BITS, TxCosimParams, symbol_capture
from tb.tally import StreamTally

#: Cycle after reset in which the laser sends beat 0 (the timebase's register after the
#: pipeline).
FIRST_BEAT_CYCLE = PIPELINE_CYCLES + 1
_FIELD_MASK = np.uint64((1 << TAG_FIELD_BITS) - 1)


def tx_schedule(params: TxCosimParams, beats: int, fault: QrngFault = NO_FAULT
                ) -> LaserSchedule:
    """The model's schedule of the first ``beats`` beats of a co-simulation with ``params``."""
    return laser_schedule(params.seed, params.lanes,
                          qrng_offered(params.seed, params.qrng_idle, beats),
                          symbol_path_holds(params.seed, params.symbol_hold, beats), fault)


@dataclass
class TxScoreboard:
    params: TxCosimParams
    beats: int = 1 << 16  # beats the schedule covers (a run sends one per cycle)
    fault: QrngFault = NO_FAULT
    symbols: StreamTally = field(default_factory=StreamTally)
    downlink: StreamTally = field(default_factory=StreamTally)
    answers: StreamTally = field(default_factory=StreamTally)
    answer_status: dict[str, int] = field(
        default_factory=lambda: {s.name.lower(): 0 for s in CacheStatus}
    )
    payload_words: int = 0
    safe_answers: int = 0  # OK answers for a pulse sent with the safe symbol
    sync_pulse_offsets: set[int] = field(default_factory=set)
    frames_checked: int = 0

    def __post_init__(self) -> None:
        self.schedule = tx_schedule(self.params, self.beats, self.fault)

    @property
    def pulses(self) -> int:
        return self.symbols.compared * self.params.lanes

    @property
    def mismatches(self) -> int:
        return self.symbols.mismatches + self.downlink.mismatches + self.answers.mismatches

    def transmitted(self, pulses: np.ndarray):
        return transmitted_symbols(self.params.seed, pulses, self.schedule, self.params.lanes)

    def check_symbols(self, beats: np.ndarray, tags: np.ndarray) -> None:
        """``beats``: whole batches of symbol beats; ``tags``: per batch ``pulse[:32]`` of its
        first beat in the low half, that beat's cycle in the high half."""
        lanes, depth = self.params.lanes, self.params.symbol_depth
        layout = symbol_capture(lanes)  # cached: the same layout object every batch
        beat = self.symbols.compared + np.arange(len(beats), dtype=np.uint64)
        want = self.transmitted(beat[:, None] * np.uint64(lanes) + np.arange(lanes,
                                                                             dtype=np.uint64))
        model = {"symbol": {"intensity": want.intensity, "basis": want.basis, "bit": want.bit},
                 "drive": {"im": want.im_code, "pm": want.pm_code}}
        if "pad" in layout.members:
            model["pad"] = 0
        # Compared as bytes of the captured beat (the model packed through the same layout).
        got = np.packbits(beats, axis=1, bitorder="little")
        bad = np.any(got != pack_bytes(layout, model), axis=1)
        tags = np.asarray(tags, dtype=np.uint64)
        first = beat[::depth]
        bad[::depth] |= (tags & _FIELD_MASK) != ((first * np.uint64(lanes)) & _FIELD_MASK)
        bad[::depth] |= (tags >> np.uint64(TAG_FIELD_BITS)) != first + np.uint64(FIRST_BEAT_CYCLE)
        self.symbols.record(bad, "symbol beat, pulse or cycle differs from models.transmitter")

    def check_downlink(self, beats: np.ndarray, tags: np.ndarray) -> None:
        """``tags``: the cycle each batch's first word was taken."""
        words = unpack_bits(DownlinkWord, beats)
        data, kind = words["data"], words["kind"]
        # Upper bound of the payload words this chunk can hold; the counter starts at 1.
        payload = np.arange(self.payload_words + 1, self.payload_words + len(beats) + 1)
        first_word = self.downlink.compared
        bad, consumed = downlink_mismatches(data, kind, payload, first_word=first_word)
        depth = self.params.downlink_depth
        starts = first_word + np.arange(0, len(beats), depth)
        for start, cycle in zip(starts.tolist(), np.asarray(tags).tolist(), strict=True):
            if start % FRAME_WORDS == 0:
                # The pulse the laser sends in the cycle sync word k leaves.
                pulse = self.params.lanes * (cycle - FIRST_BEAT_CYCLE)
                self.sync_pulse_offsets.add(pulse - start // FRAME_WORDS * FRAME_PULSES)
                self.frames_checked += 1
        if len(self.sync_pulse_offsets) > 1:
            bad[:] = True
        self.downlink.record(bad, "downlink word differs from models.framing, or a sync word "
                                  "left at another offset from its pulse k * 2**16")
        self.payload_words += consumed

    def check_answers(self, beats: np.ndarray, _tags: np.ndarray | None = None) -> None:
        ans = unpack_bits(CacheAnswer, beats)
        pulse, head, status = ans["pulse"], ans["head"], ans["status"]
        symbol = pack_array(Symbol, ans["symbol"])
        capacity = self.params.lanes * self.params.cache_rows
        want_status = cache_lookup(pulse, head, capacity)
        ok = want_status == CacheStatus.OK
        model_symbol = np.zeros(len(pulse), dtype=np.uint8)
        model_symbol[ok] = self.transmitted(pulse[ok]).packed()
        want_symbol = np.where(ok, model_symbol, 0)
        bad = (status != want_status) | (symbol != want_symbol)
        self.answers.record(bad, "RND cache answer differs from models.rnd_cache")
        self.safe_answers += int(np.count_nonzero(ok & (model_symbol == SAFE_SYMBOL)))
        for s in CacheStatus:
            self.answer_status[s.name.lower()] += int(np.count_nonzero(status == s))

    def safe_counts_mismatch(self, counted: dict[str, int], beats_sent: int) -> str | None:
        """Compare the transmitter's safe-pulse counters, read when ``beats_sent`` beats had
        been sent, with the model; a message if they differ."""
        if beats_sent > self.schedule.cause.size:
            return f"{beats_sent} beats sent, beyond the model's {self.schedule.cause.size}"
        want = self.schedule.safe_pulses(self.params.lanes, beats_sent)
        return None if counted == want else f"safe pulse counters {counted}, model {want}"

    def summary(self) -> dict:
        return {
            "pulses": self.pulses,
            "mismatches": self.mismatches,
            "streams": {
                name: {"compared": t.compared, "mismatches": t.mismatches,
                       "first_mismatch": t.first_mismatch}
                for name, t in (("symbols", self.symbols), ("downlink", self.downlink),
                                ("cache_answers", self.answers))
            },
            "cache_answer_status": dict(self.answer_status),
            "cache_safe_answers": self.safe_answers,
            "downlink_payload_words": self.payload_words,
            "sync_frames_checked": self.frames_checked,
            "sync_pulse_offsets": sorted(self.sync_pulse_offsets),
            "safe_pulses_model": self.schedule.safe_pulses(
                self.params.lanes, self.symbols.compared),
            "alarm_beat_model": self.schedule.alarm_beat,
        }
