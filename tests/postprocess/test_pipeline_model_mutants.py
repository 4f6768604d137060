"""models.postprocess.pipeline: the EC thread count (documented default 2, at least 1), and the
stream positions of the EC padding and the privacy-amplification seeds."""

import itertools
import re
import struct
from pathlib import Path

import pytest

from models.postprocess import pipeline
from models.postprocess.ec import INTERACTIVE
from models.postprocess.pipeline import DistillConfig, DistillConfigError, distill
from models.postprocess.rand import STREAM_EC_PAD, STREAM_PA_SEED
from models.postprocess.synthetic import synthetic_packets
from tests.postprocess.test_pipeline import PAIRS_FOR_SPOIL, SMALL, small_config, tamper


def test_ec_workers_default_is_the_documented_one_and_one_is_allowed():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "postprocessing.md").read_text()
    documented = re.search(r"`DistillConfig.ec_workers`, default (\d+)", doc)
    assert documented and DistillConfig().ec_workers == int(documented.group(1))
    assert DistillConfig(ec_workers=1).ec_workers == 1
    with pytest.raises(DistillConfigError, match="ec_workers=0 must be >= 1"):
        DistillConfig(ec_workers=0)


def test_streams_give_each_packet_and_block_its_own_bits(monkeypatch):
    """The EC padding of packet i starts at bit i * n of its stream, and each privacy-
    amplification seed starts where the previous block's n + m - 1 bits end."""
    calls = []
    draw = pipeline.random_bits

    def recording(seed, stream, start, nbits):
        calls.append((stream, start, nbits))
        return draw(seed, stream, start, nbits)

    monkeypatch.setattr(pipeline, "random_bits", recording)
    pairs = PAIRS_FOR_SPOIL[:3]
    result = distill(pairs, small_config(epsilon_sec=1e-3, epsilon_cor=1e-3,
                                         reconciliation=INTERACTIVE), seed=5)
    n = SMALL
    pads = [start for stream, start, _ in calls if stream == STREAM_EC_PAD]
    assert pads == [int(p.satellite.index) * n for p in pairs]
    seeds = [(start, nbits) for stream, start, nbits in calls if stream == STREAM_PA_SEED]
    assert len(seeds) == len(result.pa_blocks) >= 2
    for (start, nbits), (nxt, _) in itertools.pairwise(seeds):
        assert nxt == start + nbits
    for block in result.pa_blocks:
        assert block["pa_output_bits"] == block["key_bits"] + 32


def test_ec_result_of_a_dropped_packet_carries_zero_counts_per_basis_and_intensity():
    """EC_RESULT is index, 8-byte status and 2 x 3 error counts (basis, intensity), also for a
    packet whose syndrome failed authentication (then all counts are zero)."""
    results = []
    hit = tamper("syndrome", 1)

    def adversary(kind, payload):
        if kind == "ec_result":
            results.append(payload)
        return hit(kind, payload)

    pairs = synthetic_packets(3, 0.02, seed=2, packet_bits=SMALL)
    result = distill(pairs, small_config(ec_workers=1), seed=5, adversary=adversary)
    assert [e["status"] for e in result.ec] == ["ok", "auth_failed", "ok"]
    assert len(results) == 3
    for payload in results:
        assert len(payload) == 4 + 8 + 2 * 3 * 8
    index, status = struct.unpack_from(">I8s", results[1])
    assert (index, status) == (1, b"auth_fai")
    assert not any(results[1][12:])
    assert any(any(p[12:]) for p in (results[0], results[2]))
