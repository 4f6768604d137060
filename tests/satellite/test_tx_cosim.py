"""Transmitter co-simulation: the batch scoreboard catches errors, and the chain passes it."""

from dataclasses import replace

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
from models.qrng import FAULT_BIASED, FAULT_STUCK, qrng_offered
from models.symbols import SAFE_SYMBOL, Intensity
from models.transmitter import QrngFault, SafeCause, symbol_path_holds
from rtl.common.payload import pack_bits
from rtl.satellite.layouts import DownlinkWord
from rtl.simonly.tx_cosim_top import (
    LINK_CYCLES_PER_WORD,
    TAG_FIELD_BITS,
    TxCosimParams,
    symbol_capture,
)
from sim.tx_cosim import run_tx_cosim
from tb.runner import SIMULATORS
from tb.satellite.tx_scoreboard import FIRST_BEAT_CYCLE, TxScoreboard

# One top configuration for every co-simulation case here, so that they share one build per
# simulator: random QRNG idle cycles and symbol-path holds on (the laser fires regardless).
TEST_PARAMS = TxCosimParams(symbol_hold=100, qrng_idle=100)


def model_symbol_beats(board: TxScoreboard, beats: int) -> np.ndarray:
    """Bit matrix of what a correct transmitter captures for its first ``beats`` beats."""
    lanes = board.params.lanes
    s = board.transmitted(np.arange(beats * lanes, dtype=np.uint64).reshape(beats, lanes))
    return pack_bits(symbol_capture(lanes), {
        "symbol": {"intensity": s.intensity, "basis": s.basis, "bit": s.bit},
        **({"pad": 0} if "pad" in symbol_capture(lanes).members else {}),
        "drive": {"im": s.im_code, "pm": s.pm_code}})


def symbol_tags(params: TxCosimParams, first_beats: np.ndarray) -> np.ndarray:
    """Batch tags of a correct run: pulse (low 32 bits) and cycle of each batch's first beat."""
    first_beats = np.asarray(first_beats, dtype=np.uint64)
    return (first_beats * np.uint64(params.lanes)) | (
        (first_beats + np.uint64(FIRST_BEAT_CYCLE)) << np.uint64(TAG_FIELD_BITS))


def test_scoreboard_accepts_model_and_counts_each_corrupted_beat():
    params = replace(TEST_PARAMS, symbol_depth=8)
    clean = TxScoreboard(params, beats=64)
    assert clean.schedule.safe_pulses(params.lanes, 32)["underflow"] > 0  # safe beats in view
    beats = model_symbol_beats(clean, 32)
    tags = symbol_tags(params, np.arange(0, 32, 8))
    clean.check_symbols(beats, tags)
    assert (clean.symbols.compared, clean.mismatches) == (32, 0)

    safe_beat = int(np.flatnonzero(clean.schedule.cause[:32])[0])
    beats[5, 3] ^= 1  # one symbol bit
    beats[20, 40] ^= 1  # one drive bit
    beats[safe_beat, 0] ^= 1  # a safe beat sent with another intensity
    bad_tag = tags.copy()
    bad_tag[3] += np.uint64(1) << np.uint64(TAG_FIELD_BITS)  # batch 3 a cycle late
    dirty = TxScoreboard(params, beats=64)
    dirty.check_symbols(beats, bad_tag)
    assert dirty.mismatches == 4 - (safe_beat in (5, 20, 24))
    assert dirty.symbols.first_mismatch.startswith(f"beat {min(5, safe_beat)}")


def test_safe_symbol_is_laser_off_and_the_model_predicts_holds_and_idle():
    params = TEST_PARAMS
    board = TxScoreboard(params, beats=4096)
    cause = board.schedule.cause
    offered = qrng_offered(params.seed, params.qrng_idle, 4096)
    holds = symbol_path_holds(params.seed, params.symbol_hold, 4096)
    assert np.array_equal(cause != SafeCause.NONE, ~offered | holds)
    sym = board.transmitted(np.arange(4096 * params.lanes, dtype=np.uint64))
    safe = np.repeat(cause != SafeCause.NONE, params.lanes)
    assert np.all(sym.intensity[safe] == Intensity.OFF) and np.all(sym.im_code[safe] == 0)
    assert np.all(sym.intensity[~safe] != Intensity.OFF)
    assert np.all(sym.packed()[safe] == SAFE_SYMBOL)


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


def downlink_chunks(beats: np.ndarray, depth: int, first_cycle: int, late_frame: int = -1):
    """Chunks of whole batches with the cycle tags of a one-word-per-32-cycles sink (frame
    ``late_frame``'s first word one cycle late)."""
    starts = np.arange(0, len(beats), depth)
    cycles = first_cycle + LINK_CYCLES_PER_WORD * starts
    cycles[starts == late_frame * FRAME_WORDS] += 1
    for chunk in np.array_split(np.arange(len(starts)), 3):
        yield beats[starts[chunk[0]]:starts[chunk[-1]] + depth], cycles[chunk]


def test_downlink_scoreboard_names_the_first_corrupted_word_across_chunks():
    depth = TxCosimParams().downlink_depth
    beats = model_downlink_beats(2)
    clean = TxScoreboard(TxCosimParams(), beats=16)
    for chunk, cycles in downlink_chunks(beats, depth, 2):
        clean.check_downlink(chunk, cycles)
    assert (clean.downlink.compared, clean.downlink.mismatches) == (len(beats), 0)
    assert clean.frames_checked == 2 and len(clean.sync_pulse_offsets) == 1

    beats[FRAME_WORDS + 1, 0] ^= 1  # frame 1's counter word
    beats[FRAME_WORDS + 200, 5] ^= 1  # a payload word of frame 1
    dirty = TxScoreboard(TxCosimParams(), beats=16)
    for chunk, cycles in downlink_chunks(beats, depth, 2):
        dirty.check_downlink(chunk, cycles)
    assert dirty.downlink.mismatches == 2
    assert dirty.downlink.first_mismatch.startswith(f"beat {FRAME_WORDS + 1}:")


def test_downlink_scoreboard_catches_a_sync_word_off_its_pulse():
    depth = TxCosimParams().downlink_depth
    late = TxScoreboard(TxCosimParams(), beats=16)
    for chunk, cycles in downlink_chunks(model_downlink_beats(2), depth, 2, late_frame=1):
        late.check_downlink(chunk, cycles)
    assert len(late.sync_pulse_offsets) == 2 and late.downlink.mismatches > 0


@pytest.mark.cocotb
@pytest.mark.parametrize("simulator", SIMULATORS)
def test_laser_timebase_under_qrng_idle_and_symbol_path_holds(simulator):
    """QRNG idle in ~10 % of cycles and the symbol path held in ~10 %: every beat (safe ones
    included) is the model's, the laser sends one beat per cycle, sync word k leaves with pulse
    k * 2**16 (plus one constant) for every frame, safe pulses are counted and the RND cache
    answers them with the safe symbol. Four frames on Verilator; Icarus (~350 cycles/s on this
    top) runs a short window with frame 0 only. `make sim-tx` runs 2**20 pulses on Verilator."""
    long = simulator == "verilator"
    pulses = 1 << 18 if long else 1 << 13
    result = run_tx_cosim(simulator, pulses, TEST_PARAMS, case="tx_cosim_test")
    assert result["mismatches"] == 0
    assert result["pulses"] >= pulses
    assert result["sync_frames_checked"] >= (4 if long else 1)
    assert len(result["sync_pulse_offsets"]) == 1
    assert result["safe_pulses"]["underflow"] > 0 and result["safe_pulses"]["alarm"] == 0
    assert result["cache_safe_answers"] > 0 and result["cache_answer_status"]["ok"] > 0
    assert result["streams"]["downlink"]["compared"] > 0
    assert result["alarm"] == 0


@pytest.mark.cocotb
@pytest.mark.parametrize("simulator", SIMULATORS)
@pytest.mark.parametrize(("fault", "alarm"), [(FAULT_STUCK, 0b01), (FAULT_BIASED, 0b10)],
                         ids=["stuck", "biased"])
def test_health_alarm_turns_the_laser_safe(simulator, fault, alarm):
    """A stuck or biased QRNG from beat 300 on: the sticky alarm at the beat the model
    predicts, every later pulse sent with the safe symbol (counted as alarm-safe) while the
    laser keeps its timebase. Stuck words repeat every sample: the RCT fires on the 11th beat;
    biased words (bits 1 with p = 1/4) make the APT fire within three 512-beat windows."""
    fault_model = QrngFault(fault, from_beat=300)
    result = run_tx_cosim(simulator, 1 << 13, TEST_PARAMS, case="tx_cosim_test",
                          fault=fault_model)
    assert result["mismatches"] == 0 and result["alarm"] == alarm
    assert result["alarm_beat_model"] is not None and result["alarm_beat_model"] >= 300
    assert result["safe_pulses"]["alarm"] > 0
