"""Key distillation of a whole pass, paper steps 3 to 6 (SPEC 7), on both sides.

Input: the sifted-key packets of both sides (identical boundaries and tags, SPEC 5) with the
sampled (basis, intensity) detection and error counters of each packet. Output: the final keys of
satellite and ground and the per-packet / per-block report of SPEC 8.

Message sequence (every message authenticated, :mod:`models.postprocess.auth`)::

    per packet   sat -> ground  SYNDROME: error probability per intensity (from the sample),
                                codeword plans (n, m, padding d, step), syndromes of key (+
                                secret padding in interactive mode), verification-hash key
                                (128 bits), hash (64 bits)
      interactive mode only, 0..10 rounds:
                 ground -> sat  EC_MORE: codewords that failed to decode
                 sat -> ground  EC_REVEAL: next padding bits of each of them
                 ground -> sat  EC_RESULT: status, error counts per (basis, intensity)
    per block    sat -> ground  PA_SEED: final key length ℓ, Toeplitz seed (n + ℓ + 31 bits)
                 sat -> ground  CONFIRM: CRC-32 of the satellite's ℓ + 32 hash output bits
                 ground -> sat  CONFIRM: CRC-32 of the ground's ℓ + 32 hash output bits

EC mode (``DistillConfig.reconciliation.mode``): "one-way" (default, SPEC 7 and the paper: no
padding, one decoding, no reveal rounds) or "interactive". A packet whose decoding fails, whose
verification hash differs, or whose messages fail the authentication check is dropped on both
sides. Successful packets fill privacy-amplification blocks of ``pa_block_bits`` in order; a
last, shorter block (whole packets) is distilled as well. Privacy amplification outputs ℓ + 32
bits, both sides publish the CRC-32 of all of them and keep the first ℓ as the final key (the
finite-key length already paid for the 32, :data:`models.postprocess.finitekey.CONFIRM_CRC_BITS`);
a block whose CRCs differ or whose messages fail authentication is abandoned on both sides.
leak_EC of a packet = Σ_codewords (m − d + revealed padding bits) + 64 verification-hash bits
(one-way: d = 0, so every syndrome bit sent; interactive: see
:meth:`models.postprocess.ec.Plan.leak` for why punctured padding bits reduce the syndrome's
leak), attributed to the bases pro rata by bit count (SPEC 7).
"""

import concurrent.futures
import math
import struct
import zlib
from collections.abc import Callable, Generator, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from models.postprocess import ec
from models.postprocess.auth import Authenticator, KeyPool, poly_hash
from models.postprocess.ec import VERIFY_HASH_BITS, EcConfig
from models.postprocess.errors import PostprocessInputError
from models.postprocess.finitekey import (
    BASES,
    CONFIRM_CRC_BITS,
    INTENSITY_KEYS,
    METHODS,
    KeyRateInput,
    binary_entropy,
    key_length,
)
from models.postprocess.rand import (
    STREAM_AUTH_POOL,
    STREAM_EC_PAD,
    STREAM_PA_SEED,
    STREAM_VERIFY,
    random_bits,
)
from models.postprocess.toeplitz import pack_bits, toeplitz_hash
from models.sifting.packets import Packet

PAPER_INTENSITIES = {"s": 0.8, "d": 0.1, "v": 0.001}
PAPER_PROBABILITIES = {"s": 0.5, "d": 0.25, "v": 0.25}

Adversary = Callable[[str, bytes], bytes]


class DistillConfigError(PostprocessInputError):
    """Distillation parameters that cannot work."""


@dataclass(frozen=True)
class PacketPair:
    """One sifted-key packet as both sides hold it, with its sampled counters.

    ``sampled_detected`` / ``sampled_errors``: int64 [2 bases (Z, X), 3 intensities (s, d, v)],
    counted since the previous packet.
    """

    satellite: Packet
    ground: Packet
    sampled_detected: np.ndarray
    sampled_errors: np.ndarray

    @property
    def sampled_qber(self) -> float:
        n = int(np.sum(self.sampled_detected))
        return float(np.sum(self.sampled_errors)) / n if n else 0.0


@dataclass(frozen=True)
class DistillConfig:
    """Protocol parameters of the distillation (defaults: the paper's)."""

    intensities: Mapping[str, float] = field(default_factory=lambda: dict(PAPER_INTENSITIES))
    probabilities: Mapping[str, float] = field(
        default_factory=lambda: dict(PAPER_PROBABILITIES))
    epsilon_sec: float = 1e-10
    epsilon_cor: float = 1e-15
    pa_block_bits: int = 500_000
    method: str = "chernoff"
    auth_pool_bits: int = 1 << 18  # reveal rounds: up to 2 + 2·max_rounds messages a packet
    reconciliation: EcConfig = field(default_factory=EcConfig)
    ec_workers: int = 2  # packets decoded at once (threads); they share one lagged prior

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise DistillConfigError(f"unknown finite-key method {self.method!r} "
                                     "(use chernoff or lim2014)")
        if self.pa_block_bits < 1:
            raise DistillConfigError(f"pa_block_bits={self.pa_block_bits} must be positive")
        if self.auth_pool_bits < 0:
            raise DistillConfigError(f"auth_pool_bits={self.auth_pool_bits} must be >= 0")
        if self.ec_workers < 1:
            raise DistillConfigError(f"ec_workers={self.ec_workers} must be >= 1")
        self.counts(np.zeros((2, 3)), np.zeros((2, 3)), {"Z": 0.0, "X": 0.0})  # validates

    def counts(self, detected: np.ndarray, errors: np.ndarray, leak: Mapping[str, float]
               ) -> KeyRateInput:
        """The SPEC 8 COUNTS object of a block (raises KeyRateInputError on bad parameters)."""
        try:
            intensities = {k: float(self.intensities[k]) for k in INTENSITY_KEYS}
            probabilities = {k: float(self.probabilities[k]) for k in INTENSITY_KEYS}
        except (KeyError, TypeError, ValueError) as exc:
            raise DistillConfigError(f"intensities/probabilities need numeric s, d, v: {exc}"
                                     ) from None
        return KeyRateInput(
            intensities=intensities, probabilities=probabilities,
            detected={b: {k: int(detected[i, j]) for j, k in enumerate(INTENSITY_KEYS)}
                      for i, b in enumerate(BASES)},
            errors={b: {k: int(errors[i, j]) for j, k in enumerate(INTENSITY_KEYS)}
                    for i, b in enumerate(BASES)},
            leak_ec_bits={b: float(leak[b]) for b in BASES},
            epsilon_sec=self.epsilon_sec, epsilon_cor=self.epsilon_cor)


@dataclass
class DistillResult:
    """Everything the pass report needs (SPEC 8)."""

    qber_per_packet: list[float]
    ec: list[dict[str, Any]]
    pa_blocks: list[dict[str, Any]]
    satellite_key: np.ndarray
    ground_key: np.ndarray
    auth_key_consumed_bits: int
    method: str
    ec_mode: str = "one-way"

    @property
    def keys_match(self) -> bool:
        return bool(np.array_equal(self.satellite_key, self.ground_key))

    @property
    def final_key_bits(self) -> int:
        return int(self.satellite_key.size)

    def ec_summary(self) -> dict[str, Any]:
        ok = [p for p in self.ec if p["status"] == "ok"]
        fs = [p["f"] for p in ok if p["f"] is not None]
        return {
            "packets_ok": len(ok),
            "packets_dropped": len(self.ec) - len(ok),
            "leak_bits": int(sum(p["leak_bits"] for p in ok)),
            "f_mean": float(np.mean(fs)) if fs else None,
            "f_max": float(np.max(fs)) if fs else None,
        }

    def to_report(self) -> dict[str, Any]:
        return {
            "qber_per_packet": self.qber_per_packet,
            "ec_per_packet": self.ec,
            "ec_summary": self.ec_summary(),
            "pa_blocks": self.pa_blocks,
            "final_key_bits": self.final_key_bits,
            "keys_match": self.keys_match,
            "auth_key_consumed_bits": self.auth_key_consumed_bits,
            "net_key_bits": self.final_key_bits - self.auth_key_consumed_bits,
            "finite_key_method": self.method,
            "ec_mode": self.ec_mode,
        }


class _Link:
    """Authenticated classical channel between the two sides (optionally with an adversary)."""

    def __init__(self, pool_bits: np.ndarray, adversary: Adversary | None) -> None:
        self.satellite = Authenticator(KeyPool(pool_bits.copy()))
        self.ground = Authenticator(KeyPool(pool_bits.copy()))
        self.adversary = adversary
        self.messages = 0

    def send(self, kind: str, payload: bytes, from_satellite: bool = True) -> bytes | None:
        """Deliver payload; returns what the receiver accepts, or None if the tag check fails."""
        sender, receiver = ((self.satellite, self.ground) if from_satellite
                            else (self.ground, self.satellite))
        tag = sender.tag(payload)
        received = payload if self.adversary is None else self.adversary(kind, payload)
        self.messages += 1
        return received if receiver.verify(received, tag) else None


def _verify_hash(key: int, bits: np.ndarray) -> int:
    return poly_hash(key, pack_bits(bits)) & ((1 << VERIFY_HASH_BITS) - 1)


_SYN_HEAD = ">I3dI"
_PLAN_FIELDS = 4  # n, m, d, step per codeword


def _pack_syndrome_message(index: int, q: np.ndarray, syn: ec.Syndromes, vkey: int,
                           vhash: int) -> bytes:
    head = struct.pack(_SYN_HEAD, index, *map(float, q), len(syn.plans))
    plans = np.asarray([(p.n, p.m, p.d, p.step) for p in syn.plans], dtype=">u4").tobytes()
    return (head + plans + vkey.to_bytes(16, "big") + vhash.to_bytes(8, "big")
            + pack_bits(syn.bits))


def unpack_syndrome_message(msg: bytes) -> tuple[np.ndarray, ec.Syndromes, int, int]:
    """The satellite's syndrome message as (the head's three q fields, syndromes,
    verification key, verification hash): the inverse of ``_pack_syndrome_message``."""
    _, q0, q1, q2, count = struct.unpack_from(_SYN_HEAD, msg)
    pos = struct.calcsize(_SYN_HEAD)
    fields = np.frombuffer(msg, dtype=">u4", count=_PLAN_FIELDS * count, offset=pos).reshape(
        count, _PLAN_FIELDS)
    pos += 4 * _PLAN_FIELDS * count
    vkey = int.from_bytes(msg[pos:pos + 16], "big")
    vhash = int.from_bytes(msg[pos + 16:pos + 24], "big")
    total = int(fields[:, 1].sum())
    bits = np.unpackbits(np.frombuffer(msg[pos + 24:], dtype=np.uint8), bitorder="big")[:total]
    plans = tuple(ec.Plan(*map(int, row)) for row in fields.tolist())
    return np.array([q0, q1, q2]), ec.Syndromes(plans, bits), vkey, vhash


def _pack_reveal(index: int, disclosed: dict[int, np.ndarray]) -> bytes:
    out = struct.pack(">II", index, len(disclosed))
    for cw, bits in sorted(disclosed.items()):
        out += struct.pack(">II", cw, bits.size) + pack_bits(bits)
    return out


def _unpack_reveal(msg: bytes) -> dict[int, np.ndarray]:
    _, count = struct.unpack_from(">II", msg)
    pos, out = 8, {}
    for _ in range(count):
        cw, size = struct.unpack_from(">II", msg, pos)
        pos += 8
        nbytes = (size + 7) // 8
        out[cw] = np.unpackbits(np.frombuffer(msg[pos:pos + nbytes], dtype=np.uint8),
                                bitorder="big")[:size]
        pos += nbytes
    return out


def _reveal_exchange(link: "_Link", index: int, pad: ec.SatellitePad
                     ) -> Callable[[list[int]], dict[int, np.ndarray] | None]:
    """One reveal round: the ground names its failed codewords, the satellite discloses the
    next padding bits of each (both messages authenticated)."""

    def exchange(failed: list[int]) -> dict[int, np.ndarray] | None:
        request = link.send("ec_more", struct.pack(f">I{len(failed)}I", index, *failed),
                            from_satellite=False)
        if request is None:
            return None
        wanted = list(struct.unpack_from(f">{len(request) // 4 - 1}I", request, 4))
        reply = link.send("ec_reveal", _pack_reveal(index, pad.disclose(wanted)))
        return None if reply is None else _unpack_reveal(reply)

    return exchange


def tag_counts(packet: Packet, mask: np.ndarray | None = None) -> np.ndarray:
    """int64 [basis, intensity] counts of the packet's bits (restricted to mask)."""
    sel = slice(None) if mask is None else mask.astype(bool)
    out = np.zeros((2, 3), dtype=np.int64)
    np.add.at(out, (packet.basis[sel].astype(np.int64), packet.intensity[sel].astype(np.int64)),
              1)
    return out


@dataclass
class _Accepted:
    """A packet both sides kept after EC: corrected ground bits, counts and leakage."""

    satellite_bits: np.ndarray
    ground_bits: np.ndarray
    detected: np.ndarray
    errors: np.ndarray
    leak: dict[str, float]
    index: int


def _reconcile(pair: PacketPair, link: _Link, seed: int, cfg: DistillConfig,
               prior: tuple[np.ndarray, np.ndarray] | None = None
               ) -> Generator[ec.GroundDecoder, list[int],
                              tuple[dict[str, Any], _Accepted | None]]:
    """One packet's EC exchange as a generator of decoding attempts (see ``ec.run_steps``)."""
    sat, gnd = pair.satellite, pair.ground
    n = int(sat.bit.size)
    entry: dict[str, Any] = {"packet": int(sat.index), "bits": n,
                             "qber_sampled": pair.sampled_qber}
    if sat.bit.size != gnd.bit.size or not sat.same_as(gnd):
        return entry | {"status": "boundary_mismatch", "leak_bits": 0, "f": None}, None
    rec = cfg.reconciliation
    estimate = ec.estimate_channel(pair.sampled_detected, pair.sampled_errors, rec, prior)
    if ec.syndrome_fraction(estimate, sat.intensity, rec) > rec.max_syndrome_fraction:
        return entry | {"status": "qber_too_high", "leak_bits": 0, "f": None}, None
    # satellite: syndromes of key + secret padding, verification hash (keys from its QRNG)
    plans = ec.plan_codewords(sat.intensity, estimate, rec)
    pad = ec.SatellitePad(plans, random_bits(seed, STREAM_EC_PAD, int(sat.index) * n,
                                             ec.pad_bits_needed(plans)))
    syn = ec.encode(sat.bit, plans, np.concatenate([np.zeros(0, np.uint8), *pad.pads]), rec)
    vkey = int.from_bytes(pack_bits(random_bits(seed, STREAM_VERIFY, 128 * int(sat.index), 128)),
                          "big")
    msg = link.send("syndrome", _pack_syndrome_message(
        int(sat.index), estimate.q, syn, vkey, _verify_hash(vkey, sat.bit)))
    rounds: int | None = 0
    if msg is None:
        status, result = "auth_failed", None
    else:
        # ground: decode (asking for padding bits while codewords fail), check the hash
        q_rx, syn_rx, vkey_rx, vhash_rx = unpack_syndrome_message(msg)
        session = ec.GroundDecoder(gnd.bit, gnd.intensity, syn_rx, q_rx, rec)
        rounds = yield from ec.round_steps(session, _reveal_exchange(link, int(sat.index), pad))
        result = session.result()
        entry["iterations"] = result.iterations
        if rounds is None:
            status = "auth_failed"
        elif not result.converged:
            status = "decode_failed"
        elif _verify_hash(vkey_rx, result.corrected) != vhash_rx:
            status = "verify_failed"
        else:
            status = "ok"
    leak = pad.leak_bits + VERIFY_HASH_BITS
    entry |= {"syndrome_bits": int(syn.bits.size), "padding_bits": sum(p.d for p in plans),
              "revealed_bits": pad.revealed_bits, "reveal_rounds": rounds or 0,
              "hash_bits": VERIFY_HASH_BITS, "leak_bits": leak,
              "rate": 1.0 - (leak - VERIFY_HASH_BITS) / n, "codewords": len(plans)}
    errors = (tag_counts(gnd, result.error_mask) if result is not None
              else np.zeros((2, 3), dtype=np.int64))
    answer = struct.pack(">I8s", int(sat.index), status.encode()[:8]) + errors.astype(
        ">i8").tobytes()
    if link.send("ec_result", answer, from_satellite=False) is None:
        status = "auth_failed"
    entry["status"] = status
    if status != "ok" or result is None:
        return entry | {"f": None}, None
    q_true = float(errors.sum()) / n
    entry["qber_corrected"] = q_true
    entry["f"] = efficiency(leak, n, q_true) if q_true > 0 else None
    detected = tag_counts(sat)
    per_basis = detected.sum(axis=1)
    share = {b: leak * float(per_basis[i]) / n for i, b in enumerate(BASES)}
    return entry, _Accepted(sat.bit, result.corrected, detected, errors, share, int(sat.index))


def _distill_block(block: list[_Accepted], number: int, link: _Link, seed: int,
                   cfg: DistillConfig, pa_offset: int) -> tuple[dict[str, Any], np.ndarray,
                                                                np.ndarray, int]:
    detected = sum((a.detected for a in block), np.zeros((2, 3), dtype=np.int64))
    errors = sum((a.errors for a in block), np.zeros((2, 3), dtype=np.int64))
    leak = {b: sum(a.leak[b] for a in block) for b in BASES}
    counts = cfg.counts(detected, errors, leak)
    rate = key_length(counts, cfg.method)
    x_sat = np.concatenate([a.satellite_bits for a in block])
    x_gnd = np.concatenate([a.ground_bits for a in block])
    n, ell = int(x_sat.size), rate.key_bits
    info: dict[str, Any] = {
        "block": number, "packets": [a.index for a in block], "input_bits": n,
        "counts": counts.to_json(), "key_bits": ell,
        "phi": {b: rate.per_basis[b].phi for b in BASES},
    }
    empty = np.zeros(0, dtype=np.uint8)
    if ell == 0:
        return info | {"status": "no_key"}, empty, empty, pa_offset
    m = ell + CONFIRM_CRC_BITS  # the CRC covers all m bits; the final key is the first ℓ
    info["pa_output_bits"] = m
    seed_bits = random_bits(seed, STREAM_PA_SEED, pa_offset, n + m - 1)
    pa_offset += n + m - 1
    msg = link.send("pa_seed", struct.pack(">II", number, ell) + pack_bits(seed_bits))
    if msg is None:
        return info | {"status": "auth_failed", "key_bits": 0}, empty, empty, pa_offset
    m_rx = struct.unpack_from(">II", msg)[1] + CONFIRM_CRC_BITS
    seed_rx = np.unpackbits(np.frombuffer(msg[8:], dtype=np.uint8), bitorder="big")[
        :n + m_rx - 1]
    k_sat = toeplitz_hash(x_sat, seed_bits, m)
    k_gnd = toeplitz_hash(x_gnd, seed_rx, m_rx)
    crc_sat = zlib.crc32(pack_bits(k_sat))
    crc_gnd = zlib.crc32(pack_bits(k_gnd))
    got_sat = link.send("confirm", struct.pack(">II", number, crc_sat))
    got_gnd = link.send("confirm", struct.pack(">II", number, crc_gnd), from_satellite=False)
    info["crc32"] = crc_sat
    if got_sat is None or got_gnd is None:
        return info | {"status": "auth_failed", "key_bits": 0}, empty, empty, pa_offset
    if struct.unpack(">II", got_sat)[1] != crc_gnd or struct.unpack(">II", got_gnd)[1] != crc_sat:
        return info | {"status": "crc_mismatch", "key_bits": 0}, empty, empty, pa_offset
    return info | {"status": "ok"}, k_sat[:ell], k_gnd[:ell], pa_offset


def distill(packets: Sequence[PacketPair], config: DistillConfig, seed: int,
            progress: Callable[[int], None] | None = None, *,
            adversary: Adversary | None = None) -> DistillResult:
    """Error correction, verification, privacy amplification and confirmation of a pass.

    ``progress(1)`` is called after each packet; ``adversary(kind, payload)`` (tests) may alter
    any classical message in flight, which the authentication must catch.
    """
    if packets:
        packet_bits = int(packets[0].satellite.bit.size)
        if config.pa_block_bits % packet_bits:
            raise DistillConfigError(f"pa_block_bits={config.pa_block_bits} is not a multiple "
                                     f"of the packet length {packet_bits}")
        per_block = config.pa_block_bits // packet_bits
    else:
        per_block = 1
    link = _Link(random_bits(seed, STREAM_AUTH_POOL, 0, config.auth_pool_bits), adversary)
    ec_entries: list[dict[str, Any]] = []
    blocks: list[dict[str, Any]] = []
    keys_sat: list[np.ndarray] = []
    keys_gnd: list[np.ndarray] = []
    pending: list[_Accepted] = []
    pa_offset = 0
    prior: tuple[np.ndarray, np.ndarray] | None = None  # last reconciled packet's counts

    def flush() -> None:
        nonlocal pa_offset, pending
        info, k_sat, k_gnd, pa_offset = _distill_block(pending, len(blocks), link, seed, config,
                                                       pa_offset)
        blocks.append(info)
        keys_sat.append(k_sat)
        keys_gnd.append(k_gnd)
        pending = []

    workers = config.ec_workers
    with concurrent.futures.ThreadPoolExecutor(workers) if workers > 1 else nullcontext(
            ) as pool:
        for start in range(0, len(packets), workers):
            # the packets of a group share the prior of the last packet before the group
            group = [_reconcile(pair, link, seed, config, prior)
                     for pair in packets[start:start + workers]]
            for entry, accepted in ec.run_steps(group, pool):
                ec_entries.append(entry)
                if accepted is not None:
                    prior = (accepted.detected, accepted.errors)
                    pending.append(accepted)
                    if len(pending) == per_block:
                        flush()
                if progress is not None:
                    progress(1)
    if pending:
        flush()
    empty = np.zeros(0, dtype=np.uint8)
    return DistillResult(
        qber_per_packet=[p.sampled_qber for p in packets],
        ec=ec_entries, pa_blocks=blocks,
        satellite_key=np.concatenate(keys_sat) if keys_sat else empty,
        ground_key=np.concatenate(keys_gnd) if keys_gnd else empty,
        auth_key_consumed_bits=link.satellite.consumed_bits,
        method=config.method, ec_mode=config.reconciliation.mode)


def efficiency(leak_bits: int, n: int, qber: float) -> float:
    """f = leak_EC / (n · h(QBER)) (SPEC 7); inf where h(QBER) = 0."""
    h = binary_entropy(qber)
    return leak_bits / (n * h) if h > 0 else math.inf
