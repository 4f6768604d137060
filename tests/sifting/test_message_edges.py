"""Sifting message and parameter limits at their edges (``models.sifting.messages``,
``entries``, ``classical_link``; SPEC 4.4, 5): report and entry counts up to 2**24 - 1, the
report offset width up to 29 bits and the offset up to 2**width - 1, message lengths one word
short or long, frame periods 2 .. 2**29, the sampling threshold 0 .. 65536 and exactly at a
pulse's hash value (golden model and ``GroundReport`` RTL in the Amaranth simulator: the
threshold is an elaboration constant, each value its own Verilog, so no cocotb build per value;
the compare's Verilog is covered by the cocotb sifting tests)."""

import numpy as np
import pytest

from models.constants import SAMPLE_SEED
from models.sifting import messages
from models.sifting.classical_link import SiftConfig, SiftingConfigError
from models.sifting.entries import sample_flags, sample_hash
from rtl.sifting.ground_report import GroundReport
from tb.dual import run_body
from tb.sifting import bodies
from tb.sifting.stimulus import record_values


def test_count_limits_of_uplink_frames_and_sift_messages():
    assert messages.MAX_COUNT == (1 << 24) - 1
    too_many = np.broadcast_to(np.uint32(0), (messages.MAX_COUNT + 1,))  # no memory behind it
    error = messages.MessageError
    with pytest.raises(error, match=f"uplink frame 3: {messages.MAX_COUNT + 1} reports exceed"):
        messages.encode_uplink(3, 0, too_many, too_many, too_many, too_many, 8)
    with pytest.raises(error, match=f"sift message 4: {messages.MAX_COUNT + 1} entries exceed"):
        messages.encode_sift(4, too_many)


def test_offset_width_and_largest_offset():
    one = np.ones(1, dtype=np.uint8)
    for bits in (1, messages.MAX_OFFSET_BITS):
        top = np.array([(1 << bits) - 1], dtype=np.uint64)
        frame = messages.decode_uplink(messages.encode_uplink(0, 0, top, one, one, one, bits))
        assert frame is not None and frame.offset.tolist() == [(1 << bits) - 1]
        with pytest.raises(messages.MessageError, match=f"report offset beyond 2\\*\\*{bits}"):
            messages.encode_uplink(0, 0, top + np.uint64(1), one, one, one, bits)
    for bits in (0, messages.MAX_OFFSET_BITS + 1):
        with pytest.raises(messages.MessageError, match=f"offset width {bits} is outside 1..29"):
            none = np.zeros(0, dtype=np.uint64)
            messages.encode_uplink(0, 0, none, one[:0], one[:0], one[:0], bits)


def _resealed(words: np.ndarray) -> np.ndarray:
    words = words.copy()
    words[-1] = messages.crc32_words(words[:-1])
    return words


@pytest.mark.parametrize("count", [0, 7, 8, 9])
def test_sift_message_length_must_match_its_count(count):
    words = messages.encode_sift(1, np.arange(count, dtype=np.uint8) % 8)
    assert len(words) == 3 + -(-count // 8)
    assert messages.decode_sift(words).code.tolist() == (np.arange(count) % 8).tolist()
    longer = _resealed(np.insert(words, 2, np.uint32(0)))
    assert messages.decode_sift(longer) is None
    if count:
        assert messages.decode_sift(_resealed(np.delete(words, 2))) is None


def test_uplink_frame_length_must_match_its_count():
    one = np.ones(2, dtype=np.uint8)
    words = messages.encode_uplink(5, 1, np.array([0, 1], dtype=np.uint64), one, one, one, 6)
    assert messages.decode_uplink(words).seq == 5
    assert messages.decode_uplink(_resealed(np.delete(words, 3))) is None
    assert messages.decode_uplink(_resealed(np.insert(words, 3, np.uint32(8)))) is None


@pytest.mark.parametrize(("pulses", "ok"), [(1, False), (2, True), (3, False), (1 << 29, True),
                                            (1 << 30, False)])
def test_frame_period_limits(pulses, ok):
    if ok:
        assert SiftConfig(frame_pulses=pulses).frame_pulses == pulses
    else:
        with pytest.raises(SiftingConfigError, match=f"frame_pulses={pulses} must be a power"):
            SiftConfig(frame_pulses=pulses)


# Top 16 bits of the sampling hash of pulses 0..7 under SAMPLE_SEED.
TOPS = [39777, 18043, 64186, 2340, 44388, 52338, 24755, 62516]


def test_sampling_hash_tops_are_the_stated_ones():
    tops = sample_hash(SAMPLE_SEED, np.arange(8, dtype=np.uint64)) >> np.uint64(48)
    assert tops.tolist() == TOPS


@pytest.mark.parametrize("below", [0, 2340, 2341, 18042, 18043, 18044, 64186, 64187, 65536])
def test_sampled_exactly_when_hash_top_is_below_the_threshold(below):
    """Pulse 1's top is 18043: threshold 18043 leaves it unsampled, 18044 samples it."""
    want = [int(t < below) for t in TOPS]
    pulse = np.arange(8, dtype=np.uint64)
    zeros = np.zeros(8, dtype=np.uint8)
    run_body("pysim", GroundReport(SAMPLE_SEED, sample_below=below), bodies.ground_report_edges,
             case="ground_report_edges",
             params={"records": record_values(pulse, zeros, zeros), "sample_seed": SAMPLE_SEED,
                     "sample_below": below, "sampled": want, "seed": 1, "idle": 0.3,
                     "stall": 0.3})


@pytest.mark.parametrize("below", [-1, 65537])
def test_sampling_threshold_outside_0_to_65536_is_refused(below):
    with pytest.raises(ValueError, match=f"sample_below={below} is outside 0..65536"):
        sample_flags(SAMPLE_SEED, np.zeros(1, dtype=np.uint64), below)
    with pytest.raises(ValueError, match=f"sample_below={below} is outside 0..65536"):
        GroundReport(SAMPLE_SEED, sample_below=below)
