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

from models.framing import downlink_mismatches
from models.qrng import qrng_words
from models.rnd_cache import CacheStatus, cache_lookup
from models.symbols import map_symbols
from rtl.common.payload import pack_array, pack_bytes, unpack_bits
from rtl.satellite.layouts import CacheAnswer, DownlinkWord, Symbol
from rtl.simonly.tx_cosim_top import TxCosimParams, symbol_capture
from tb.tally import StreamTally


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
        layout = symbol_capture(lanes)  # cached: the same layout object every batch
        want_pulse = (self.pulses + np.arange(len(beats), dtype=np.uint64) * lanes)
        want = map_symbols(qrng_words(self.params.seed, want_pulse[:, None] + np.arange(lanes)))
        model = {"symbol": {"intensity": want.intensity, "basis": want.basis, "bit": want.bit},
                 "drive": {"im": want.im_code, "pm": want.pm_code}}
        if "pad" in layout.members:
            model["pad"] = 0
        # Compared as bytes of the captured beat (the model packed through the same layout).
        got = np.packbits(beats, axis=1, bitorder="little")
        bad = np.any(got != pack_bytes(layout, model), axis=1)
        bad[::depth] |= np.asarray(batch_pulses, dtype=np.uint64) != want_pulse[::depth]
        self.symbols.record(bad, "symbol beat differs from models.symbols.map_symbols")

    def check_downlink(self, beats: np.ndarray, _tags: np.ndarray | None = None) -> None:
        words = unpack_bits(DownlinkWord, beats)
        data, kind = words["data"], words["kind"]
        # Upper bound of the payload words this chunk can hold; the counter starts at 1.
        payload = np.arange(self.payload_words + 1, self.payload_words + len(beats) + 1)
        bad, consumed = downlink_mismatches(data, kind, payload, first_word=self.downlink.compared)
        self.downlink.record(bad, "downlink word differs from models.framing")
        self.payload_words += consumed

    def check_answers(self, beats: np.ndarray, _tags: np.ndarray | None = None) -> None:
        ans = unpack_bits(CacheAnswer, beats)
        pulse, head, status = ans["pulse"], ans["head"], ans["status"]
        symbol = pack_array(Symbol, ans["symbol"])
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
