"""Whole-pass distillation: EC, verification, PA, confirmation and authentication together."""

import dataclasses
import json
import zlib

import numpy as np
import pytest

from models.postprocess import ec, pipeline
from models.postprocess.auth import AuthKeyExhaustedError
from models.postprocess.ec import INTERACTIVE
from models.postprocess.finitekey import KeyRateInput, KeyRateInputError, key_length
from models.postprocess.pipeline import (
    DistillConfig,
    DistillConfigError,
    PacketPair,
    distill,
)
from models.postprocess.synthetic import synthetic_packets
from models.sifting.packets import Packet
from sim.cli import main

SMALL = 20_000  # small packets (one codeword) keep the protocol tests fast


def small_config(**kw):
    return DistillConfig(pa_block_bits=kw.pop("pa_block_bits", 2 * SMALL), **kw)


@pytest.fixture(scope="module")
def full_blocks():
    """7 packets of 100 kbit at 1 to 2 % QBER: one 500 kbit block and one 200 kbit block."""
    pairs = synthetic_packets(7, [0.01, 0.012, 0.015, 0.02, 0.011, 0.01, 0.013], seed=3)
    return pairs, distill(pairs, DistillConfig(), seed=11)


def test_full_blocks_give_identical_final_keys(full_blocks):
    pairs, result = full_blocks
    assert [e["status"] for e in result.ec] == ["ok"] * 7
    assert [b["status"] for b in result.pa_blocks] == ["ok", "ok"]
    assert [b["packets"] for b in result.pa_blocks] == [[0, 1, 2, 3, 4], [5, 6]]
    assert result.keys_match
    assert result.final_key_bits == sum(b["key_bits"] for b in result.pa_blocks)
    assert result.final_key_bits % 128 == 0
    assert 50_000 < result.pa_blocks[0]["key_bits"] < 200_000
    assert not np.array_equal(result.satellite_key[:1000], pairs[0].satellite.bit[:1000])


def test_block_counts_are_the_key_bit_tags_and_corrected_errors(full_blocks):
    pairs, result = full_blocks
    block = result.pa_blocks[0]
    counts = KeyRateInput.from_json(block["counts"])  # a valid SPEC 8 COUNTS object
    first = pairs[:5]
    for b, basis in (("Z", 0), ("X", 1)):
        for k, inten in (("s", 0), ("d", 1), ("v", 2)):
            det = sum(int(np.sum((p.satellite.basis == basis) & (p.satellite.intensity == inten)))
                      for p in first)
            err = sum(int(np.sum((p.satellite.basis == basis) & (p.satellite.intensity == inten)
                                 & (p.satellite.bit != p.ground.bit))) for p in first)
            assert counts.detected[b][k] == det
            assert counts.errors[b][k] == err
    leak = sum(e["leak_bits"] for e in result.ec[:5])
    assert sum(counts.leak_ec_bits.values()) == pytest.approx(leak)


def test_block_key_length_reproducible_with_keyrate(full_blocks, tmp_path, capsys):
    """The COUNTS object of a block, fed to `qkdsim keyrate`, gives the block's key length."""
    _, result = full_blocks
    for block in result.pa_blocks:
        path = tmp_path / f"block{block['block']}.json"
        path.write_text(json.dumps(block["counts"]))
        assert main(["keyrate", str(path)]) == 0
        assert json.loads(capsys.readouterr().out)["key_bits"] == block["key_bits"]


def test_progress_called_once_per_packet():
    pairs = synthetic_packets(3, 0.02, seed=1, packet_bits=SMALL)
    calls = []
    distill(pairs, small_config(), seed=5, progress=calls.append)
    assert calls == [1, 1, 1]


def test_report_fields_and_efficiency(full_blocks):
    pairs, result = full_blocks
    report = result.to_report()
    for key in ("qber_per_packet", "pa_blocks", "final_key_bits", "keys_match",
                "auth_key_consumed_bits", "ec_per_packet"):
        assert key in report
    assert report["qber_per_packet"] == [p.sampled_qber for p in pairs]
    # 7 packets · (syndrome + answer + 2 per reveal round) + 2 blocks · (seed + 2
    # confirmations) + the hash key
    rounds = sum(e["reveal_rounds"] for e in result.ec)
    assert report["auth_key_consumed_bits"] == 128 * (7 * 2 + 2 * rounds + 2 * 3 + 1)
    for e, p in zip(result.ec, pairs, strict=True):
        true_q = float(np.mean(p.satellite.bit != p.ground.bit))
        assert e["qber_corrected"] == pytest.approx(true_q)
        assert e["leak_bits"] == (e["syndrome_bits"] - e["padding_bits"] + e["revealed_bits"]
                                  + 64)
        assert 1.0 < e["f"] < 2.5


def test_reveal_rounds_through_the_authenticated_link():
    """With an optimistic first syndrome every packet needs reveal rounds; each round costs
    two authenticated messages, every disclosed padding bit counts as leak, keys agree."""
    pairs = synthetic_packets(2, 0.02, seed=12, packet_bits=SMALL)
    cfg = small_config(reconciliation=dataclasses.replace(INTERACTIVE, f_start=((0.01, 0.9),),
                                                          f_step=0.15))
    result = distill(pairs, cfg, seed=5)
    assert [e["status"] for e in result.ec] == ["ok", "ok"] and result.keys_match
    rounds = sum(e["reveal_rounds"] for e in result.ec)
    assert rounds >= 2
    for e in result.ec:
        assert e["revealed_bits"] > 0
        assert e["leak_bits"] == e["syndrome_bits"] - e["padding_bits"] + e["revealed_bits"] + 64
    blocks = sum(b["status"] != "no_key" for b in result.pa_blocks)  # no_key sends nothing
    assert result.auth_key_consumed_bits == 128 * (2 * 2 + 2 * rounds + 3 * blocks + 1)
    tampered = distill(pairs, cfg, seed=5, adversary=tamper("ec_reveal"))
    assert tampered.ec[0]["status"] == "auth_failed" and tampered.keys_match


def test_parallel_decoding_is_deterministic():
    """Two packets decoded at once (threads) share the prior of the packet before them; the
    result does not depend on thread timing, and a group's first packet sees the same prior
    as in sequential decoding (interactive mode: the one that pools a prior)."""
    pairs = synthetic_packets(4, 0.02, seed=7, packet_bits=SMALL)
    runs = [distill(pairs, small_config(ec_workers=2, reconciliation=INTERACTIVE), seed=5)
            for _ in range(2)]
    assert runs[0].to_report() == runs[1].to_report() and runs[0].keys_match
    serial = distill(pairs, small_config(ec_workers=1, reconciliation=INTERACTIVE), seed=5)
    assert [e["status"] for e in serial.ec] == [e["status"] for e in runs[0].ec] == ["ok"] * 4
    for i in (0, 2):
        assert serial.ec[i] == runs[0].ec[i]


def test_deterministic_in_seed():
    pairs = synthetic_packets(2, 0.02, seed=1, packet_bits=SMALL)
    a = distill(pairs, small_config(), seed=5)
    b = distill(pairs, small_config(), seed=5)
    assert a.to_report() == b.to_report()


def tamper(kind_to_hit, nth=0):
    seen = {"n": 0}

    def adversary(kind, payload):
        if kind != kind_to_hit:
            return payload
        seen["n"] += 1
        if seen["n"] - 1 != nth:
            return payload
        b = bytearray(payload)
        b[len(b) // 2] ^= 0x10
        return bytes(b)
    return adversary


@pytest.mark.parametrize(("kind", "nth"), [("syndrome", 1), ("ec_result", 2)])
def test_tampered_packet_message_drops_the_packet(kind, nth):
    pairs = synthetic_packets(4, 0.02, seed=2, packet_bits=SMALL)
    # one packet at a time: the nth message of a kind is then packet nth's (with two packets
    # at once a group's second packet may finish, and answer, first)
    result = distill(pairs, small_config(ec_workers=1), seed=5, adversary=tamper(kind, nth))
    assert [e["status"] for e in result.ec] == ["ok"] * nth + ["auth_failed"] + ["ok"] * (3 - nth)
    assert [b["packets"] for b in result.pa_blocks] == [
        [i for i in range(4) if i != nth][:2], [i for i in range(4) if i != nth][2:]]
    assert result.keys_match


@pytest.mark.parametrize("kind", ["pa_seed", "confirm"])
def test_tampered_block_message_abandons_the_block(kind):
    pairs = synthetic_packets(4, 0.01, seed=4, packet_bits=SMALL)
    cfg = small_config(pa_block_bits=4 * SMALL, epsilon_sec=1e-2, epsilon_cor=1e-2)
    clean = distill(pairs, cfg, seed=5)
    assert clean.pa_blocks[0]["status"] == "ok" and clean.final_key_bits > 0
    result = distill(pairs, cfg, seed=5, adversary=tamper(kind))
    assert result.pa_blocks[0]["status"] == "auth_failed"
    assert result.final_key_bits == 0 and result.keys_match


def test_undetected_excess_errors_are_dropped_on_both_sides():
    """A packet whose real QBER far exceeds its sample fails decoding and is dropped."""
    pairs = synthetic_packets(3, 0.01, seed=6, packet_bits=SMALL)
    bad = synthetic_packets(1, 0.08, seed=7, packet_bits=SMALL)[0]
    pairs[1] = PacketPair(bad.satellite, bad.ground, pairs[1].sampled_detected,
                          pairs[1].sampled_errors)
    result = distill(pairs, small_config(), seed=5)
    assert result.ec[1]["status"] in ("decode_failed", "verify_failed")
    assert [e["status"] for e in result.ec[::2]] == ["ok", "ok"]
    assert result.pa_blocks[0]["packets"] == [0, 2]
    assert result.keys_match


def test_boundary_mismatch_and_high_qber_dropped():
    pairs = synthetic_packets(2, 0.01, seed=8, packet_bits=SMALL)
    p = pairs[0]
    shifted = Packet(p.ground.index, p.ground.bit, p.ground.basis ^ 1, p.ground.intensity)
    pairs[0] = PacketPair(p.satellite, shifted, p.sampled_detected, p.sampled_errors)
    hot = synthetic_packets(1, 0.2, seed=9, packet_bits=SMALL)[0]
    result = distill([*pairs, hot], small_config(), seed=5)
    assert [e["status"] for e in result.ec] == ["boundary_mismatch", "ok", "qber_too_high"]


def test_empty_pass():
    result = distill([], DistillConfig(), seed=1)
    assert result.final_key_bits == 0 and result.keys_match and result.pa_blocks == []


@pytest.mark.parametrize(
    ("kw", "error", "message"),
    [
        ({"method": "bogus"}, DistillConfigError, "unknown finite-key method"),
        ({"pa_block_bits": 0}, DistillConfigError, "pa_block_bits"),
        ({"ec_workers": 0}, DistillConfigError, "ec_workers=0"),
        ({"probabilities": {"s": 0.5, "d": 0.5, "v": 0.5}}, KeyRateInputError, "sum to"),
        ({"intensities": {"s": 0.8, "d": -0.1, "v": 0.0}}, KeyRateInputError, "intensity d"),
        ({"intensities": {"s": 0.8}}, DistillConfigError, "numeric s, d, v"),
    ],
)
def test_bad_config(kw, error, message):
    with pytest.raises(error, match=message):
        DistillConfig(**kw)


def test_block_size_must_be_whole_packets_and_pool_must_suffice():
    pairs = synthetic_packets(2, 0.01, seed=1, packet_bits=SMALL)
    with pytest.raises(DistillConfigError, match="not a multiple"):
        distill(pairs, small_config(pa_block_bits=SMALL + 1), seed=1)
    with pytest.raises(AuthKeyExhaustedError, match="auth_pool_bits"):
        distill(pairs, small_config(auth_pool_bits=300), seed=1)


class Wiretap:
    """Records every classical message (kind, payload as delivered) without altering it."""

    def __init__(self):
        self.messages = []

    def __call__(self, kind, payload):
        self.messages.append((kind, payload))
        return payload


def wire_disclosure(messages):
    """Per packet index: (syndrome bits, verification-hash bits, revealed padding bits, padding
    slots declared) as carried by the SYNDROME and EC_REVEAL messages on the link."""
    out = {}
    for kind, payload in messages:
        if kind == "syndrome":
            index = int.from_bytes(payload[:4], "big")
            _, syn, _, _ = pipeline.unpack_syndrome_message(payload)
            out[index] = [int(syn.bits.size), 8 * 8, 0, sum(p.d for p in syn.plans)]
        elif kind == "ec_reveal":
            index = int.from_bytes(payload[:4], "big")
            out[index][2] += sum(int(b.size) for b in pipeline._unpack_reveal(payload).values())
    return out


@pytest.mark.parametrize("mode", ec.EC_MODES)
def test_leak_is_what_the_link_carried(mode):
    """The leak each block's key length subtracts equals the bits the syndrome, reveal and
    verification messages of its packets carried: one-way every one of them; interactive
    minus the secret padding slots (Plan.leak; the premise, padding columns of full rank, is
    checked in test_ec.test_padding_positions_and_leak). An optimistic start forces reveal
    rounds in the interactive case."""
    pairs = synthetic_packets(4, [0.01, 0.02, 0.015, 0.01], seed=21, packet_bits=SMALL)
    rec = (ec.ec_config(mode) if mode == "one-way"
           else dataclasses.replace(INTERACTIVE, f_start=((0.01, 0.95),), f_step=0.1))
    tap = Wiretap()
    result = distill(pairs, small_config(reconciliation=rec, pa_block_bits=4 * SMALL,
                                         epsilon_sec=1e-3, epsilon_cor=1e-3),
                     seed=5, adversary=tap)
    wire = wire_disclosure(tap.messages)
    assert sorted(wire) == [0, 1, 2, 3] and result.ec_mode == mode
    assert [e["status"] for e in result.ec] == ["ok"] * 4
    kinds = {k for k, _ in tap.messages}
    if mode == "one-way":
        assert not kinds & {"ec_more", "ec_reveal"}
        assert all(padding == 0 and revealed == 0 for _, _, revealed, padding in wire.values())
    else:
        assert sum(revealed for _, _, revealed, _ in wire.values()) > 0
    for block in result.pa_blocks:
        counts = KeyRateInput.from_json(block["counts"])
        carried = sum(wire[i][0] + wire[i][1] + wire[i][2] - wire[i][3]
                      for i in block["packets"])
        assert sum(counts.leak_ec_bits.values()) == pytest.approx(carried, abs=1e-6)
        # and the key length subtracts exactly that leak from each basis
        rate = key_length(counts)
        free = key_length(dataclasses.replace(counts, leak_ec_bits={"Z": 0.0, "X": 0.0}))
        assert rate.key_bits == block["key_bits"]
        for b in ("Z", "X"):
            assert rate.per_basis[b].key_bits > 0
            assert free.per_basis[b].key_bits - rate.per_basis[b].key_bits == pytest.approx(
                counts.leak_ec_bits[b], abs=1)
    assert sum(b["key_bits"] for b in result.pa_blocks) > 0 and result.keys_match


def _spoil_ground_word(monkeypatch, ground_bits):
    """Make the ground's corrected word of the packet holding ``ground_bits`` differ in one
    bit from the satellite's (a decoder converging to a wrong codeword)."""
    original = ec.GroundDecoder.result

    def result(self):
        out = original(self)
        if self.y is ground_bits:
            out.corrected[17] ^= 1
        return out

    monkeypatch.setattr(ec.GroundDecoder, "result", result)


PAIRS_FOR_SPOIL = synthetic_packets(4, 0.01, seed=31, packet_bits=SMALL)


def test_failed_verification_drops_the_packet_on_both_sides(monkeypatch):
    _spoil_ground_word(monkeypatch, PAIRS_FOR_SPOIL[1].ground.bit)
    result = distill(PAIRS_FOR_SPOIL, small_config(epsilon_sec=1e-3, epsilon_cor=1e-3), seed=5)
    assert [e["status"] for e in result.ec] == ["ok", "verify_failed", "ok", "ok"]
    assert result.ec[1]["f"] is None
    assert [b["packets"] for b in result.pa_blocks] == [[0, 2], [3]]
    assert result.keys_match and result.final_key_bits > 0


def test_crc_mismatch_abandons_the_block_on_both_sides(monkeypatch):
    """A wrong ground word that the verification hash misses (forced here) reaches privacy
    amplification; the CRC-32 confirmation catches it and both sides drop the block."""
    _spoil_ground_word(monkeypatch, PAIRS_FOR_SPOIL[2].ground.bit)
    monkeypatch.setattr(pipeline, "_verify_hash", lambda key, bits: 0)
    result = distill(PAIRS_FOR_SPOIL, small_config(epsilon_sec=1e-3, epsilon_cor=1e-3), seed=5)
    assert [e["status"] for e in result.ec] == ["ok"] * 4
    assert [b["status"] for b in result.pa_blocks] == ["ok", "crc_mismatch"]
    assert result.pa_blocks[1]["key_bits"] == 0
    assert result.keys_match and result.final_key_bits == result.pa_blocks[0]["key_bits"] > 0


def test_confirmation_crc_covers_32_bits_beyond_the_final_key(monkeypatch):
    """PA outputs ℓ + 32 bits (seed n + ℓ + 31), the published CRC-32 is that of all of them,
    the final key is the first ℓ."""
    outputs = []
    hash_ = pipeline.toeplitz_hash

    def recording(x, seed, m):
        outputs.append((x.size, seed.size, m, hash_(x, seed, m)))
        return outputs[-1][3]

    monkeypatch.setattr(pipeline, "toeplitz_hash", recording)
    result = distill(PAIRS_FOR_SPOIL[:2], small_config(epsilon_sec=1e-3, epsilon_cor=1e-3),
                     seed=5)
    block = result.pa_blocks[0]
    ell = block["key_bits"]
    assert ell > 0 and block["pa_output_bits"] == ell + 32
    (n, seed_bits, m, k_sat), (_, _, _, k_gnd) = outputs
    assert (n, seed_bits, m) == (2 * SMALL, 2 * SMALL + ell + 31, ell + 32)
    assert block["crc32"] == zlib.crc32(np.packbits(k_sat).tobytes())
    assert np.array_equal(result.satellite_key, k_sat[:ell])
    assert np.array_equal(result.ground_key, k_gnd[:ell])


def test_crc_is_a_bijection_of_the_32_discarded_bits():
    """Given the final key (the first ℓ bits) the published CRC-32 is a bijection of the last
    32 PA output bits, so it says nothing about the key: b -> crc(a|b) ^ crc(a|0) is linear
    over GF(2), and its 32 columns have full rank."""
    rng = np.random.default_rng(4)
    prefix = rng.integers(0, 2, 256, dtype=np.uint8)

    def crc(tail):
        return zlib.crc32(np.packbits(np.concatenate([prefix, tail])).tobytes())

    zero = crc(np.zeros(32, dtype=np.uint8))
    rows = []
    for i in range(32):
        unit = np.zeros(32, dtype=np.uint8)
        unit[i] = 1
        rows.append(crc(unit) ^ zero)
    pair = rng.integers(0, 2, (2, 32), dtype=np.uint8)
    assert crc(pair[0] ^ pair[1]) ^ zero == crc(pair[0]) ^ crc(pair[1])  # linear in the tail
    rank = 0
    for bit in range(31, -1, -1):  # Gaussian elimination over GF(2) on 32-bit integers
        at = next((i for i, r in enumerate(rows) if r >> bit & 1), None)
        if at is None:
            continue
        pivot = rows.pop(at)
        rows = [r ^ pivot if r >> bit & 1 else r for r in rows]
        rank += 1
    assert rank == 32
