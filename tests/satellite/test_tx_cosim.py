"""Transmitter co-simulation: the batch scoreboard catches errors, and the chain passes it."""

from dataclasses import asdict

import numpy as np
import pytest

from models.framing import (
    FRAME_WORDS,
    HEADER_WORDS,
    IDLE_WORD,
    WordKind,
    header_kinds,
    header_words,
)
from models.qrng import FAULT_BIASED, FAULT_STUCK, qrng_words
from models.symbols import map_symbols
from rtl.common.payload import pack_bits
from rtl.satellite.layouts import DownlinkWord
from rtl.simonly.tx_cosim_top import (
    TxCosimParams,
    TxCosimTop,
    cosim_build_options,
    symbol_capture,
)
from sim.tx_cosim import run_tx_cosim
from tb.runner import SIMULATORS, run_cocotb
from tb.satellite.tx_scoreboard import TxScoreboard

# One top configuration for every co-simulation case here, so that they share one build per
# simulator: random QRNG idle and symbol backpressure on.
TEST_PARAMS = TxCosimParams(symbol_stall=100, qrng_idle=100)


def model_symbol_beats(params: TxCosimParams, beats: int) -> np.ndarray:
    """Bit matrix of what a correct transmitter captures for its first ``beats`` beats."""
    lanes = params.lanes
    s = map_symbols(qrng_words(params.seed, np.arange(beats * lanes).reshape(beats, lanes)))
    return pack_bits(symbol_capture(lanes), {
        "symbol": {"intensity": s.intensity, "basis": s.basis, "bit": s.bit},
        **({"pad": 0} if "pad" in symbol_capture(lanes).members else {}),
        "drive": {"im": s.im_code, "pm": s.pm_code}})


def test_scoreboard_accepts_model_and_counts_each_corrupted_beat():
    params = TxCosimParams(symbol_depth=8)
    beats = model_symbol_beats(params, 32)
    first_pulses = np.arange(0, 32, 8, dtype=np.uint64) * params.lanes
    clean = TxScoreboard(params)
    clean.check_symbols(beats, first_pulses)
    assert (clean.symbols.compared, clean.mismatches) == (32, 0)

    beats[5, 3] ^= 1  # one symbol bit
    beats[20, 40] ^= 1  # one drive bit
    bad_tag = first_pulses.copy()
    bad_tag[3] += 4  # a skipped beat at the start of batch 3
    dirty = TxScoreboard(params)
    dirty.check_symbols(beats, bad_tag)
    assert dirty.mismatches == 3
    assert dirty.symbols.first_mismatch.startswith("beat 5")


def model_downlink_beats(frames: int) -> np.ndarray:
    """Bit matrix (word, then kind) of ``frames`` frames whose even payload slots carry 1, 2, ..."""
    words, kinds = [], []
    payload = iter(range(1, frames * FRAME_WORDS))
    for frame in range(frames):
        words += header_words(frame)
        kinds += [int(k) for k in header_kinds()]
        for slot in range(FRAME_WORDS - HEADER_WORDS):
            data = slot % 2 == 0
            words.append(next(payload) if data else IDLE_WORD)
            kinds.append(WordKind.DATA if data else WordKind.IDLE)
    return pack_bits(DownlinkWord, {"data": np.array(words, dtype=np.uint64),
                                    "kind": np.array(kinds, dtype=np.int64)})


def test_downlink_scoreboard_names_the_first_corrupted_word_across_chunks():
    beats = model_downlink_beats(2)
    clean = TxScoreboard(TxCosimParams())
    for chunk in np.array_split(beats, 3):
        clean.check_downlink(chunk)
    assert (clean.downlink.compared, clean.downlink.mismatches) == (len(beats), 0)

    beats[FRAME_WORDS + 1, 0] ^= 1  # frame 1's counter word
    beats[FRAME_WORDS + 200, 5] ^= 1  # a payload word of frame 1
    dirty = TxScoreboard(TxCosimParams())
    for chunk in np.array_split(beats, 3):
        dirty.check_downlink(chunk)
    assert dirty.downlink.mismatches == 2
    assert dirty.downlink.first_mismatch.startswith(f"beat {FRAME_WORDS + 1}:")


@pytest.mark.cocotb
@pytest.mark.parametrize("simulator", SIMULATORS)
def test_tx_chain_cosim_matches_models(simulator):
    # Short enough for Icarus; `make sim` runs 2**20 pulses on Verilator.
    pulses = 1 << 16 if simulator == "verilator" else 1 << 13
    result = run_tx_cosim(simulator, pulses, TEST_PARAMS, case="tx_cosim_test")
    assert result["mismatches"] == 0
    assert result["pulses"] >= pulses
    streams = result["streams"]
    assert streams["downlink"]["compared"] > 0 and streams["cache_answers"]["compared"] > 0
    assert result["cache_answer_status"]["ok"] > 0
    assert result["alarm"] == 0


@pytest.mark.cocotb
@pytest.mark.parametrize("simulator", SIMULATORS)
@pytest.mark.parametrize(("fault", "alarm"), [(FAULT_STUCK, 0b01), (FAULT_BIASED, 0b10)],
                         ids=["stuck", "biased"])
def test_tx_chain_stops_on_faulty_source(simulator, fault, alarm):
    # Stuck words repeat every sample: the RCT fires on the 11th beat and the sticky alarm stops
    # intake before the APT counts further. Biased words (bits 1 with p = 1/4) make the APT fire.
    params = TEST_PARAMS
    run_cocotb(TxCosimTop(params), "tb.satellite.cocotb_tx_cosim", simulator,
               case="tx_cosim_test", testcase="tx_chain_stops_on_faulty_source",
               params={"top": asdict(params), "fault": fault, "expect_alarm": alarm,
                       "detect_cycles": 1100}, **cosim_build_options())
