"""Scoreboard of the transmitter co-simulation: captured batches against the golden models.

Every captured beat is compared, in order, with what :mod:`models` says it must be:

* ``sym``: pulse index of every batch's first beat, 4-bit symbols and modulator drive codes of
  every lane (:func:`models.qrng.qrng_words` + :func:`models.symbols.map_symbols`);
* ``dl``: every downlink word, header, payload slot and idle fill
  (:func:`models.framing.downlink_mismatches` with the payload counter 1, 2, 3, ...);
* ``ans``: status of every RND cache answer (:func:`models.rnd_cache.cache_lookup` at the head
  the cache reported) and its symbol (the model's symbol when OK, zero otherwise).

Pure numpy, no simulator import: the same class checks a cocotb run and unit tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from models.framing import WORD_BITS, downlink_mismatches
from models.qrng import qrng_words
from models.rnd_cache import CacheStatus, cache_lookup
from models.symbols import map_symbols
from rtl.simonly.tx_cosim_top import TxCosimParams
from tb.capture import fields
from tb.tally import StreamTally

SYMBOL_BITS, DRIVE_BITS, PULSE_BITS, KIND_BITS, STATUS_BITS = 4, 16, 64, 2, 2


@dataclass
class TxScoreboard:
    params: TxCosimParams
    symbols: StreamTally = field(default_factory=StreamTally)
    downlink: StreamTally = field(default_factory=StreamTally)
    answers: StreamTally = field(default_factory=StreamTally)
    answer_status: dict[str, int] = field(
        default_factory=lambda: {s.name.lower(): 0 for s in CacheStatus}
    )
    payload_words: int = 0

    @property
    def pulses(self) -> int:
        return self.symbols.compared * self.params.lanes

    @property
    def mismatches(self) -> int:
        return self.symbols.mismatches + self.downlink.mismatches + self.answers.mismatches

    def check_symbols(self, beats: np.ndarray, batch_pulses: np.ndarray) -> None:
        """``beats``: whole batches of symbol beats; ``batch_pulses``: pulse of each first beat."""
        lanes, depth = self.params.lanes, self.params.symbol_depth
        # Compare bytes and 16-bit words, not bits: a beat is ``lanes`` 4-bit symbols padded to
        # whole bytes, then ``lanes`` little-endian 16-bit drive words (symbol_capture_bits).
        got = np.packbits(beats, axis=1, bitorder="little")
        symbol_bytes = got.shape[1] - 2 * lanes
        want_pulse = (self.pulses + np.arange(len(beats), dtype=np.uint64) * lanes)
        want = map_symbols(qrng_words(self.params.seed, want_pulse[:, None] + np.arange(lanes)))
        packed = want.packed()
        want_symbols = np.zeros(len(beats), dtype=np.uint64)
        for lane in range(lanes):
            want_symbols |= packed[:, lane].astype(np.uint64) << np.uint64(SYMBOL_BITS * lane)
        got_symbols = np.zeros(len(beats), dtype=np.uint64)
        for byte in range(symbol_bytes):
            got_symbols |= got[:, byte].astype(np.uint64) << np.uint64(8 * byte)
        drive = got[:, symbol_bytes:].copy().view("<u2")
        want_drive = want.im_code.astype(np.uint16) | want.pm_code.astype(np.uint16) << 8
        pulse_ok = np.ones(len(beats), dtype=bool)
        pulse_ok[::depth] = np.asarray(batch_pulses, dtype=np.uint64) == want_pulse[::depth]
        bad = ~pulse_ok | (got_symbols != want_symbols) | np.any(drive != want_drive, axis=1)
        self.symbols.record(bad, "symbol beat differs from models.symbols.map_symbols")

    def check_downlink(self, beats: np.ndarray, _tags: np.ndarray | None = None) -> None:
        data, kind = fields(beats, [WORD_BITS, KIND_BITS])
        # Upper bound of the payload words this chunk can hold; the counter starts at 1.
        payload = np.arange(self.payload_words + 1, self.payload_words + len(beats) + 1)
        bad, consumed = downlink_mismatches(data, kind, payload, first_word=self.downlink.compared)
        self.downlink.record(bad, "downlink word differs from models.framing")
        self.payload_words += consumed

    def check_answers(self, beats: np.ndarray, _tags: np.ndarray | None = None) -> None:
        pulse, head, status, symbol = fields(
            beats, [PULSE_BITS, PULSE_BITS, STATUS_BITS, SYMBOL_BITS]
        )
        capacity = self.params.lanes * self.params.cache_rows
        want_status = cache_lookup(pulse, head, capacity)
        model_symbol = map_symbols(qrng_words(self.params.seed, pulse)).packed()
        want_symbol = np.where(want_status == CacheStatus.OK, model_symbol, 0)
        bad = (status != want_status) | (symbol != want_symbol)
        self.answers.record(bad, "RND cache answer differs from models.rnd_cache")
        for s in CacheStatus:
            self.answer_status[s.name.lower()] += int(np.count_nonzero(status == s))

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
            "downlink_payload_words": self.payload_words,
        }
