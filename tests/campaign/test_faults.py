"""Fault injection: each fault does what it says, and the chain under test catches it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models.postprocess.keyfile import KeyFileError, read_key, write_key
from models.postprocess.pipeline import DistillConfig, distill
from models.postprocess.synthetic import synthetic_packets
from models.sifting.classical_link import (
    Link,
    LinkConfig,
    SiftConfig,
    SiftingConfigError,
    qrng_symbols,
    run_sifting,
)
from sim.campaign.faults import (
    MESSAGE_FAULTS,
    FaultLimits,
    MessageFaults,
    draw_link_faults,
    flip_cached_symbol,
    flip_stored_bit,
    link_pair,
)


def test_message_faults_change_every_message_they_touch() -> None:
    mix = MessageFaults(1.0, np.random.default_rng(2))
    sent = [bytes([0, 0, 0, i]) + bytes(range(i, i + 20)) for i in range(30)]
    got = [mix("syndrome", m) for m in sent]
    kinds = {fault for *_, fault in mix.altered}
    assert kinds == set(MESSAGE_FAULTS)
    assert len(mix.altered) == 30
    for _, scope, number, fault in mix.altered:
        message, out = sent[number], got[number]
        assert scope == "packet" and out != message
        if fault == "truncate":
            assert len(out) < len(message) and message.startswith(out)
        elif fault == "replay":
            assert out in sent[:number]
    assert [number for *_, number, _ in mix.altered] == sorted({n for *_, n, _ in mix.altered})
    block = MessageFaults(1.0, np.random.default_rng(0))
    block("confirm", b"\0\0\0\7abcdefgh")
    assert block.altered[0][1:3] == ("block", 7)


def test_every_altered_message_is_refused_by_the_pipeline() -> None:
    """All messages altered: nothing authenticates, so no packet or block survives."""
    packets = synthetic_packets(4, 0.02, 5, packet_bits=20_000)
    mix = MessageFaults(1.0, np.random.default_rng(1))
    result = distill(packets, DistillConfig(pa_block_bits=40_000, ec_workers=1), 5,
                     adversary=mix)
    assert mix.altered and {e["status"] for e in result.ec} == {"auth_failed"}
    assert result.final_key_bits == 0 and not result.pa_blocks


def test_a_few_altered_messages_cost_their_packets_only() -> None:
    packets = synthetic_packets(6, 0.02, 6, packet_bits=20_000)
    clean = distill(packets, DistillConfig(pa_block_bits=60_000), 6)
    mix = MessageFaults(0.15, np.random.default_rng(4))
    hit = distill(packets, DistillConfig(pa_block_bits=60_000), 6, adversary=mix)
    assert mix.altered and hit.keys_match
    touched = {n for _, scope, n, _ in mix.altered if scope == "packet"}
    for entry in hit.ec:
        assert (entry["status"] == "auth_failed") == (entry["packet"] in touched)
    assert sum(e["status"] == "ok" for e in hit.ec) < sum(e["status"] == "ok" for e in clean.ec)


def test_link_truncation_and_reordering() -> None:
    words = np.arange(40, dtype=np.uint32)
    link = Link(LinkConfig(truncate=1.0, reorder_s=0.01, latency_s=0.0), 3, 1.0)
    arrivals = [link.send(words, 1e-4 * i)[0] for i in range(200)]
    assert link.stats.truncated == 200
    assert all(0 < len(c) < len(words) and np.array_equal(c, words[:len(c)])
               for _, c in arrivals)
    times = [t for t, _ in arrivals]
    assert times != sorted(times)  # later copies overtook earlier ones
    with pytest.raises(SiftingConfigError, match="truncate"):
        LinkConfig(truncate=1.5)
    with pytest.raises(SiftingConfigError, match="reorder_s"):
        LinkConfig(reorder_s=-1.0)


def test_sifting_agrees_through_every_link_fault_at_once() -> None:
    """Loss, bursts, bit errors, duplicates, truncation and reordering in both directions:
    the ground's packets are still the satellite's, tag for tag (a prefix)."""
    rng = np.random.default_rng(8)
    pulses = 1 << 28
    pulse = np.sort(rng.choice(pulses, 120_000, replace=False)).astype(np.uint64)
    up, down = link_pair(LinkConfig(loss=0.3, burst_rate_hz=2.0, burst_s=0.05, ber=1e-5,
                                    duplicate=0.2, truncate=0.1, reorder_s=0.02))
    run = run_sifting(pulse, rng.integers(0, 2, pulse.size, dtype=np.uint8),
                      rng.integers(0, 2, pulse.size, dtype=np.uint8), qrng_symbols(4),
                      sift=SiftConfig(frame_pulses=1 << 22, packet_bits=2000,
                                      cache_pulses=1 << 24),
                      uplink=up, downlink=down, seed=5, pulses=pulses)
    assert run.uplink.truncated and run.downlink.lost and run.downlink.duplicated
    assert run.agreed >= 3
    for sat, gnd in zip(run.satellite_packets, run.ground_packets, strict=False):
        assert sat.same_as(gnd)


def test_drawn_mixes_stay_within_limits_and_vary() -> None:
    limits = FaultLimits()
    mixes = [draw_link_faults(np.random.default_rng([1, i]), limits, 1e-3) for i in range(200)]
    assert max(m.loss for m in mixes) <= limits.loss
    assert sum(m.loss == 0 for m in mixes) > 20 and sum(m.loss > 0.2 for m in mixes) > 20
    assert all(m.burst_s == 0 for m in mixes if m.burst_rate_hz == 0)


@pytest.mark.parametrize("bit", range(4))
def test_cache_flip_changes_one_field_of_one_pulse(bit: int) -> None:
    symbols = qrng_symbols(7)
    pulses = np.arange(1000, 1100, dtype=np.uint64)
    clean = symbols(pulses)
    flipped = flip_cached_symbol(symbols, 1042, bit)(pulses)
    diff = clean.packed() ^ flipped.packed()
    assert np.flatnonzero(diff).tolist() == [42] and diff[42] == 1 << bit
    assert np.array_equal(flip_cached_symbol(symbols, 5, bit)(pulses).packed(), clean.packed())


def test_a_flipped_stored_bit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ground.key"
    write_key(path, np.ones(256, dtype=np.uint8))
    assert flip_stored_bit(path, np.random.default_rng(0)) is not None
    with pytest.raises(KeyFileError, match="fails its integrity check"):
        read_key(path)
    write_key(path, np.zeros(0, dtype=np.uint8))
    assert flip_stored_bit(path, np.random.default_rng(0)) is None
