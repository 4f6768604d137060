"""Golden models of sifting: messages, link, and the never-disagree property under link faults."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.sifting.classical_link import (
    LinkConfig,
    SiftConfig,
    SiftingConfigError,
    SiftingRun,
    _Satellite,
    downlink_config,
    missing_deadline,
    qrng_symbols,
    run_sifting,
)
from models.sifting.entries import SiftCode, make_reports, sample_flags, satellite_sift
from models.sifting.messages import (
    MessageError,
    crc32_words,
    decode_sift,
    decode_uplink,
    encode_sift,
    encode_uplink,
)
from models.sifting.packets import Packetizer, key_beats

SAT_SEED = 77
SYMBOLS = qrng_symbols(SAT_SEED)
# Small frames and packets so that short runs cross many boundaries; 64 Ki pulses = 105 us.
SMALL = SiftConfig(frame_pulses=1 << 16, packet_bits=48, cache_pulses=1 << 22, drain_s=0.02)


def detections(seed: int, count: int, span: int, qber: float = 0.0):
    """Ascending unique detections; the ground's bit equals the satellite's in a matching basis
    (flipped with probability ``qber``), random otherwise."""
    rng = np.random.default_rng(seed)
    pulse = np.sort(rng.choice(span, size=min(count, span), replace=False)).astype(np.uint64)
    sym = SYMBOLS(pulse)
    basis = rng.integers(0, 2, len(pulse)).astype(np.uint8)
    bit = np.where(basis == sym.basis, sym.bit ^ (rng.random(len(pulse)) < qber),
                   rng.integers(0, 2, len(pulse))).astype(np.uint8)
    return pulse, basis, bit


def assert_agree(run: SiftingRun) -> None:
    """Identical boundaries, tags and pulses in every packet both sides closed."""
    assert len(run.ground_packets) <= len(run.satellite_packets)
    for sat, gnd in zip(run.satellite_packets, run.ground_packets, strict=False):
        assert sat.same_as(gnd), f"packet {sat.index} differs"
        assert len(gnd.bit) == SMALL.packet_bits


def test_sampling_is_ten_percent_and_a_function_of_n():
    pulse = np.arange(0, 4_000_000, 37, dtype=np.uint64)
    flags = sample_flags(5, pulse)
    assert abs(flags.mean() - 0.1) < 0.003
    assert np.array_equal(sample_flags(5, pulse[::7]), flags[::7])
    assert not np.array_equal(sample_flags(6, pulse), flags)


def test_reports_reject_unsorted_pulses():
    with pytest.raises(ValueError, match="ascending"):
        make_reports(np.array([5, 3]), np.zeros(2), np.zeros(2), 1)


def test_satellite_sift_rules():
    pulse = np.arange(6, dtype=np.uint64)
    reports = make_reports(pulse, np.array([0, 1, 0, 1, 0, 0]), np.array([1, 0, 1, 1, 0, 1]), 3,
                           sample_below=0)
    status = np.array([0, 0, 1, 0, 0, 2])  # one expired, one pending lookup
    res = satellite_sift(reports, status, np.array([0, 1, 2, 2, 1, 0]),
                         np.array([0, 0, 0, 1, 0, 0]), np.array([1, 1, 0, 0, 0, 1]))
    assert res.code.tolist() == [4, 1, SiftCode.DROPPED, 6, 5, SiftCode.DROPPED]
    assert res.key.tolist() == [0, 3, 4]
    assert res.key_intensity.tolist() == [0, 2, 1] and res.key_basis.tolist() == [0, 1, 0]
    assert res.dropped == 2 and res.detected.sum() == 0


def test_messages_round_trip_and_reject_corruption():
    rng = np.random.default_rng(1)
    offset = np.sort(rng.choice(1 << 20, 50, replace=False)).astype(np.uint64)
    basis, sampled, bit = (rng.integers(0, 2, 50).astype(np.uint8) for _ in range(3))
    words = encode_uplink(7, 3, offset, basis, sampled, bit, 20)
    frame = decode_uplink(words)
    assert frame is not None and (frame.seq, frame.ack) == (7, 3)
    assert np.array_equal(frame.offset, offset) and np.array_equal(frame.bit, bit)
    code = rng.integers(0, 8, 13).astype(np.uint8)
    msg = decode_sift(encode_sift(9, code))
    assert msg is not None and msg.seq == 9 and np.array_equal(msg.code, code)
    missing = decode_sift(encode_sift(4, None))
    assert missing is not None and missing.code is None
    for i in range(len(words)):
        bad = words.copy()
        bad[i] ^= np.uint32(1 << (i % 32))
        assert decode_uplink(bad) is None
    assert decode_uplink(words[:-2]) is None
    with pytest.raises(MessageError, match="offset beyond"):
        encode_uplink(0, 0, np.array([1 << 20]), [0], [0], [0], 20)


def test_key_beats_mark_packet_ends():
    beats = key_beats(np.array([1, 0, 1]), np.array([0, 1, 1]), np.array([2, 0, 1]), 2, first=1)
    assert beats.tolist() == [1 | 0 | 8 | 16, 0 | 2 | 0, 1 | 2 | 4 | 16]


def test_packetizer_splits_across_pushes():
    p = Packetizer(4)
    closed = p.push(np.ones(3), np.zeros(3), np.zeros(3)) + p.push(np.ones(6), np.ones(6),
                                                                    np.zeros(6))
    assert [len(c.bit) for c in closed] == [4, 4] and p.partial_bits == 1
    assert closed[0].basis.tolist() == [0, 0, 0, 1]


def test_bad_configuration_is_a_clear_error():
    with pytest.raises(SiftingConfigError, match="loss"):
        LinkConfig(loss=1.5)
    with pytest.raises(SiftingConfigError, match="power of two"):
        SiftConfig(frame_pulses=1000)


def test_lossless_link_sifts_every_detection():
    pulse, basis, bit = detections(1, 3000, 40 << 16)
    run = run_sifting(pulse, basis, bit, SYMBOLS, sift=SMALL, uplink=LinkConfig(latency_s=3e-4),
                      downlink=downlink_config(latency_s=3e-4))
    assert_agree(run)
    assert run.unsifted == 0 and run.missing_frames == 0 and run.satellite.dropped == 0
    sym = SYMBOLS(pulse)
    sampled = make_reports(pulse, basis, bit, SMALL.ground_seed).sampled
    want = int(np.count_nonzero((sym.basis == basis) & (sampled == 0)))
    assert run.satellite.sifted_bits == run.ground.sifted_bits == want
    assert run.agreed == want // SMALL.packet_bits and run.ground_partial_bits == want % 48
    for sat, gnd in zip(run.satellite_packets, run.ground_packets, strict=True):
        assert np.array_equal(sat.bit, gnd.bit)  # no channel errors: identical keys
    assert run.satellite.errors.sum() == 0 and run.satellite.detected.sum() > 0
    assert np.array_equal(run.satellite.detected, run.ground.detected)


def test_short_cache_expires_lookups_on_both_sides():
    pulse, basis, bit = detections(2, 2000, 20 << 16)
    run = run_sifting(pulse, basis, bit, SYMBOLS,
                      sift=SiftConfig(frame_pulses=1 << 16, packet_bits=48,
                                      cache_pulses=1 << 17, drain_s=0.01),
                      uplink=LinkConfig(latency_s=1e-4), downlink=downlink_config(latency_s=1e-4))
    assert_agree(run)
    assert 0 < run.satellite.dropped == run.ground.dropped < len(pulse)


def uplink_copy(seq: int, count: int = 3, ack: int = 0) -> np.ndarray:
    offset = np.arange(count, dtype=np.uint64) * np.uint64(5)
    zeros = np.zeros(count, dtype=np.uint8)
    return encode_uplink(seq, ack, offset, zeros, zeros, zeros, 16)


def test_satellite_declares_an_expired_frame_missing_on_its_own_clock():
    """Frame k is declared missing once the cache head reaches (k+1) P + cache life, with no
    uplink frame arriving; a copy of it arriving later is stale; a gap still declares the rest."""
    cfg = SiftConfig(frame_pulses=1 << 16, cache_pulses=1 << 17, pulse_rate_hz=1.0)
    deadline = missing_deadline(0, cfg.frame_pulses, cfg.cache_pulses)
    assert deadline == 3 << 16
    sat = _Satellite(cfg, SYMBOLS)
    sat.advance(deadline - 1)
    assert sat.log == [] and sat.messages == []
    sat.advance(deadline)
    assert sat.log == [(0, -1)] and sat.timeouts == sat.missing_frames == 1
    assert decode_sift(sat.messages[0]).code is None  # a "missing" sift message
    sat.receive(float(deadline), uplink_copy(0, ack=4))
    assert sat.stale == 1 and sat.ack == 4 and len(sat.log) == 1  # stale, its ack still counts
    # Frame 2 arrives before frame 1's deadline: the gap declares frame 1 missing.
    sat.receive(float(deadline + 5), uplink_copy(2))
    assert sat.log == [(0, -1), (1, -1), (2, deadline + 5)]
    assert sat.timeouts == 1 and sat.missing_frames == 2
    sat.receive(float(deadline + 6), uplink_copy(2))
    assert sat.stale == 1  # a repeat of an accepted frame is a duplicate, not stale
    # A copy arriving past several deadlines: those frames first, then the copy (stale here).
    sat.receive(float(missing_deadline(5, cfg.frame_pulses, cfg.cache_pulses)), uplink_copy(4))
    assert sat.log[3:] == [(3, -1), (4, -1), (5, -1)] and sat.stale == 2 and sat.timeouts == 4
    # The head stops at the end of the pass: the last frames wait for a gap or the drain.
    short = _Satellite(cfg, SYMBOLS, pulses=2 << 16)
    short.advance(short.head_at(10 << 16))
    assert short.log == []


def test_uplink_outage_longer_than_the_cache_life_resolves_on_the_satellite_clock():
    """A 1.5 ms uplink outage (23 frames, the cache lives 4): the satellite declares the frames
    missing as they expire, the ground's small record store overflows and drops reports before
    framing them (counted), and both sides still agree on every packet and sift every frame."""
    pulse, basis, bit = detections(3, 4000, 40 << 16)
    sift = SiftConfig(frame_pulses=1 << 16, packet_bits=48, cache_pulses=1 << 18, drain_s=0.02,
                      store_depth=600)
    run = run_sifting(pulse, basis, bit, SYMBOLS, sift=sift,
                      uplink=LinkConfig(latency_s=2e-4, bursts=((0.5e-3, 1.5e-3),)),
                      downlink=downlink_config(latency_s=2e-4))
    assert_agree(run)
    assert run.timeout_frames > 10 and run.missing_frames >= run.timeout_frames
    assert run.ground_frames == run.frames and run.unsifted == 0
    assert 0 < run.store_dropped < len(pulse) // 4 and run.store_peak == sift.store_depth
    g = run.ground
    assert g.sifted_bits + g.detected.sum() <= len(pulse) - g.dropped - g.missing \
        - run.store_dropped
    # Without the store limit nothing is dropped by the ground.
    free = run_sifting(pulse, basis, bit, SYMBOLS, sift=SiftConfig(**{**sift.__dict__,
                                                                     "store_depth": None}),
                       uplink=LinkConfig(latency_s=2e-4, bursts=((0.5e-3, 1.5e-3),)),
                       downlink=downlink_config(latency_s=2e-4))
    assert free.store_dropped == 0 and free.timeout_frames == run.timeout_frames


def test_store_and_cache_parameters_are_checked():
    with pytest.raises(SiftingConfigError, match="store_depth"):
        SiftConfig(store_depth=0)
    with pytest.raises(SiftingConfigError, match="cache_pulses"):
        SiftConfig(cache_pulses=0)


link_faults = st.builds(
    LinkConfig,
    latency_s=st.floats(5e-5, 1e-3),
    loss=st.sampled_from([0.0, 0.1, 0.3, 0.6]),
    ber=st.sampled_from([0.0, 1e-5, 1e-3]),
    duplicate=st.sampled_from([0.0, 0.2]),
    burst_rate_hz=st.sampled_from([0.0, 300.0]),
    burst_s=st.floats(1e-4, 1e-3),
    bursts=st.lists(st.tuples(st.floats(0, 3e-3), st.floats(1e-4, 1e-3)), max_size=2).map(tuple),
)


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**16), count=st.integers(0, 1500), up=link_faults, down=link_faults,
       store=st.sampled_from([None, 40, 200]), cache=st.sampled_from([1 << 17, 1 << 22]))
def test_never_disagree_on_a_packet(seed, count, up, down, store, cache):
    pulse, basis, bit = detections(seed, count, 30 << 16, qber=0.03)
    down = LinkConfig(**{**down.__dict__, "payload_fraction": downlink_config().payload_fraction})
    sift = SiftConfig(**{**SMALL.__dict__, "store_depth": store, "cache_pulses": cache})
    run = run_sifting(pulse, basis, bit, SYMBOLS, sift=sift, uplink=up, downlink=down, seed=seed)
    assert_agree(run)
    # Every detection is sifted, dropped (expired / frame missing / store full) or left unsifted.
    g = run.ground
    assert g.sifted_bits + g.detected.sum() <= len(pulse) - g.dropped - g.missing \
        - run.store_dropped


def test_thirty_percent_loss_bursts_errors_and_duplicates():
    """The issue's robustness case at full scale: 0.4 s of a pass at 250 k detections/s."""
    pulses = int(0.4 * 625e6)
    pulse, basis, bit = detections(9, 100_000, pulses, qber=0.02)
    faults = {"loss": 0.3, "burst_rate_hz": 5.0, "burst_s": 0.05, "ber": 1e-6,
              "duplicate": 0.05, "bursts": ((0.1, 0.05),), "latency_s": 3e-3}
    run = run_sifting(pulse, basis, bit, SYMBOLS,
                      sift=SiftConfig(packet_bits=4000, drain_s=0.3),
                      uplink=LinkConfig(**faults), downlink=downlink_config(**faults), seed=3,
                      pulses=pulses)
    assert run.agreed >= 5 and run.missing_frames > 0
    assert run.uplink.lost > 0 and run.uplink.corrupted > 0 and run.downlink.duplicated > 0
    for sat, gnd in zip(run.satellite_packets, run.ground_packets, strict=False):
        assert sat.same_as(gnd)


def test_message_crc_is_crc32_bzip2():
    data = np.array([0x31323334, 0x35363738], dtype=np.uint32)  # "12345678"
    c = 0xFFFF_FFFF
    for byte in b"12345678":  # bitwise reference, MSB first
        c ^= byte << 24
        for _ in range(8):
            c = ((c << 1) ^ 0x04C11DB7 if c & 1 << 31 else c << 1) & 0xFFFF_FFFF
    assert crc32_words(data) == c ^ 0xFFFF_FFFF
