"""Directed stimulus of the ground edge tests (``tests/ground/test_*_edges.py``): inputs put
exactly on an edge of a block's comparisons, one below and one above, built from JSON values so
that a :mod:`tb.dual` body builds the same stimulus on every back end."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from models.framing import MARKER_BITS, header_words
from models.ground.sync import HEADER_BITS
from models.ground.time_tagger import TaggerConfig
from rtl.ground.tdc import TdcChannel
from rtl.simonly.delay_line import DelayLineReplay, TdcOnLine
from rtl.simonly.tagger_replay import TimeTaggerOnLines
from tb.ground.time_tagger import TaggerCase, tagger_on_lines


def sync_edge_bits(frames: Sequence[Sequence[int]], frame_bits: int, lead_bits: int,
                   seed: int) -> np.ndarray:
    """Downlink bits of consecutive frames ``[counter, marker_errors, crc_ok]`` (header of
    :mod:`models.framing`, seeded random payload) after ``lead_bits`` random bits: exactly
    ``marker_errors`` marker bits flipped, the CRC's last bit flipped unless ``crc_ok``. Frame
    ``i`` starts at bit ``lead_bits + i * frame_bits``."""
    rng = np.random.default_rng(seed)
    out = [rng.integers(0, 2, lead_bits, dtype=np.uint8)]
    for counter, errors, crc_ok in frames:
        head = np.unpackbits(np.array(header_words(counter), dtype=">u4").view(np.uint8))
        head[rng.choice(MARKER_BITS, errors, replace=False)] ^= 1
        head[HEADER_BITS - 1] ^= int(not crc_ok)
        out += [head, rng.integers(0, 2, frame_bits - HEADER_BITS, dtype=np.uint8)]
    return np.concatenate(out)


@dataclass(frozen=True)
class CodeLine:
    """A delay line whose sampled codes are given rather than simulated: what
    :class:`rtl.simonly.delay_line.DelayLineReplay` reads of a
    :class:`models.ground.tdc.DelayLine` (``taps``, ``sparse_codes``), so the replay presents
    exactly these codes. ``rows``/``codes``: run-length coded as
    :meth:`~models.ground.tdc.DelayLine.sparse_codes` gives them."""

    rows: np.ndarray
    codes: np.ndarray

    @property
    def taps(self) -> int:
        return int(self.codes.shape[1])

    def sparse_codes(self, rises: object, widths: object,
                     cycles: int) -> tuple[np.ndarray, np.ndarray]:
        """The given codes (input pulses play no part)."""
        return self.rows, self.codes


def tdc_edge_line(events: Sequence[Sequence[int]], taps: int) -> CodeLine:
    """Codes of input pulses ``[cycle, fine, high, top]``, in cycle order: tap 0 rises in the
    sample of ``cycle`` with the ``fine`` taps nearest the input high (``fine == taps``: the
    whole line) and the last tap high too with ``top`` (the tail of an earlier pulse: a
    pile-up); tap 0 stays high for ``high`` samples, then the line is low. Pulses must leave a
    low sample between them."""
    rows, codes = [0], [np.zeros(taps, dtype=bool)]
    for cycle, fine, high, top in events:
        if cycle <= rows[-1]:
            raise ValueError(f"TDC edge pulse at cycle {cycle} leaves no low sample before it")
        code = np.arange(taps) < fine
        code[-1] |= bool(top)
        rows += [cycle, cycle + high]
        codes += [code, np.zeros(taps, dtype=bool)]
    return CodeLine(np.array(rows, dtype=np.int64), np.array(codes))


def tdc_edge_dut(p: dict) -> TdcOnLine:
    """The channel (``channel``, ``taps``, ``epoch``, ``cal_period``) on the codes of
    :func:`tdc_edge_line` (``events``, ``cycles``)."""
    line = tdc_edge_line(p["events"], p["taps"])
    return TdcOnLine(DelayLineReplay(line, np.empty(0), np.empty(0), p["cycles"]),
                     TdcChannel(p["channel"], taps=p["taps"], epoch=p["epoch"],
                                cal_period=p["cal_period"]))


def tagger_edge_config(p: dict) -> TaggerConfig:
    """The tagger configuration of an edge case (``taps``, ``cal_period``, ``cal_hits``,
    ``skew``, ``initial``, ``lags``; starvation off)."""
    return TaggerConfig(taps=p["taps"], cal_period=p["cal_period"], cal_hits=p["cal_hits"],
                        starve_cycles=1 << 24, skew=tuple(p["skew"]),
                        initial=tuple(tuple(t) for t in p["initial"]),
                        max_lag_ps=tuple(p["lags"]))


def tagger_edge_dut(p: dict) -> TimeTaggerOnLines:
    """The time tagger of :func:`tagger_edge_config` on the codes of :func:`tdc_edge_line`
    (``events[ch]`` per channel, ``cycles``), with no frame events."""
    cfg = tagger_edge_config(p)
    none = (np.empty(0), np.empty(0))
    return tagger_on_lines(TaggerCase(
        lines=[tdc_edge_line(ev, cfg.taps) for ev in p["events"]],
        pulses=[none] * len(p["events"]), events=[], cfg=cfg, truth=[], cycles=p["cycles"]))
