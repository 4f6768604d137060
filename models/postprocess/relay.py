"""Key relay between two ground stations through the satellite, and message encryption with the
relayed key (paper Methods, "key relay"; SPEC 7).

The satellite shares key K_A with station A (one pass) and K_B with station B (another pass).
Bit ranges used (n = relayed length):

* K_B bits 0..255: the Wegman-Carter key of the broadcast's tag (:mod:`models.postprocess.auth`:
  128-bit hash key, 128-bit one-time pad), on the satellite's and on B's copy;
* K_B bits 256..256+n−1: the mask; the satellite broadcasts R = K_A[0:n] ⊕ K_B[256:256+n] with
  its tag, station B checks the tag and computes R ⊕ K_B[256:256+n] = K_A[0:n];
* K_A bits 0..n−1: the relayed key, now held by A and B (and known to the satellite); its bits
  0..127 are the AES-128 key (CTR mode, initial counter block 0: one message per key), its bits
  128.. the one-time pad, one bit per message bit (MSB-first packing, SPEC 7).

n = min(|K_A|, |K_B| − 256) rounded down to a multiple of 128. Given ledgers (``qkdsim relay``
always gives them), :func:`relay_and_encrypt` records every range in them
(:mod:`models.postprocess.ledger`) before any of these bits is used, and a range recorded already
makes the whole relay fail with :class:`~models.postprocess.ledger.KeyReuseError`. A broadcast
whose tag does not verify at B abandons the relay: B derives no key, nothing is encrypted, and
the recorded bits stay used.
"""

import hashlib
import pathlib
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from models.postprocess.aes import aes128_ctr
from models.postprocess.auth import TAG_KEY_BITS, Authenticator, KeyPool
from models.postprocess.errors import PostprocessInputError
from models.postprocess.keyfile import read_key
from models.postprocess.ledger import (
    LEDGER_NAME,
    KeyUse,
    key_digest,
    ledger_uses_as_json,
    record_uses,
)
from models.postprocess.private_file import write_private
from models.postprocess.toeplitz import pack_bits, unpack_bits

AES_KEY_BITS = 128
KEY_QUANTUM = 128
AUTH_KEY_BITS = 2 * TAG_KEY_BITS  # the broadcast's tag: hash key + one-time pad
DEFAULT_MESSAGE_BYTES = 1_000_000  # the paper's AES demonstration: 1 MByte
ZERO_COUNTER = bytes(16)
BROADCAST_MAGIC = b"qkdsim-relay-1\0\0"
TAG_BYTES = 16

# What the classical channel does to the broadcast and its tag on the way to B (tests).
Adversary = Callable[[bytes, int], tuple[bytes, int]]


class RelayInputError(PostprocessInputError):
    """Key files or messages that cannot be relayed or encrypted."""


@dataclass(frozen=True)
class StationKeys:
    """The final keys of one pass, as the satellite and the station hold them.

    ``digest`` names the key in the ledger (SHA-256 of the satellite's copy, packed MSB-first);
    ``label`` says where it came from.
    """

    satellite: np.ndarray
    ground: np.ndarray
    label: str = "key"

    @property
    def digest(self) -> str:
        return key_digest(pack_bits(self.satellite))


def relayed_length(a_bits: int, b_bits: int) -> int:
    """n of the module docstring (0 if a key is too short)."""
    return KEY_QUANTUM * (max(0, min(a_bits, b_bits - AUTH_KEY_BITS)) // KEY_QUANTUM)


def relay_broadcast(satellite_key_a: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """What the satellite broadcasts: K_A ⊕ mask over the mask's length."""
    return (satellite_key_a[:mask.size] ^ mask).astype(np.uint8)


def broadcast_message(broadcast: np.ndarray) -> bytes:
    """The broadcast as the tagged message: magic, bit length (8 bytes), bits packed."""
    return BROADCAST_MAGIC + struct.pack(">Q", broadcast.size) + pack_bits(broadcast)


def parse_broadcast(message: bytes) -> np.ndarray | None:
    """The bits of a broadcast message, or None if it is not one."""
    head = len(BROADCAST_MAGIC) + 8
    if len(message) < head or not message.startswith(BROADCAST_MAGIC):
        return None
    (nbits,) = struct.unpack(">Q", message[len(BROADCAST_MAGIC):head])
    if len(message) - head != -(-nbits // 8):
        return None
    return unpack_bits(message[head:])[:nbits]


def relay_recover(broadcast: np.ndarray, ground_mask: np.ndarray) -> np.ndarray:
    """Station B's copy of K_A from the broadcast and its own copy of the mask."""
    if ground_mask.size < broadcast.size:
        raise RelayInputError(f"station B holds {ground_mask.size} mask bits, the broadcast "
                              f"has {broadcast.size}")
    return broadcast ^ ground_mask[:broadcast.size]


@dataclass(frozen=True)
class RelayOutcome:
    """Result of one authenticated broadcast: B's key (None if the tag failed) and its cost."""

    message: bytes
    tag: int
    key_at_a: np.ndarray
    key_at_b: np.ndarray | None
    auth_key_consumed_bits: int


def authenticated_relay(a: StationKeys, b: StationKeys, adversary: Adversary | None = None
                        ) -> RelayOutcome:
    """The satellite tags and broadcasts K_A ⊕ mask; station B verifies and unmasks."""
    n = relayed_length(a.satellite.size, b.satellite.size)
    mask = slice(AUTH_KEY_BITS, AUTH_KEY_BITS + n)
    satellite = Authenticator(KeyPool(b.satellite[:AUTH_KEY_BITS].copy()))
    station_b = Authenticator(KeyPool(b.ground[:AUTH_KEY_BITS].copy()))
    message = broadcast_message(relay_broadcast(a.satellite, b.satellite[mask]))
    tag = satellite.tag(message)
    received, received_tag = (message, tag) if adversary is None else adversary(message, tag)
    bits = parse_broadcast(received) if station_b.verify(received, received_tag) else None
    key_at_b = None if bits is None or bits.size != n else relay_recover(bits, b.ground[mask])
    return RelayOutcome(message, tag, a.ground[:n], key_at_b, satellite.consumed_bits)


def otp(message: bytes, key_bits: np.ndarray) -> bytes:
    """One-time-pad encryption (and decryption) of a message with len(message)·8 key bits."""
    need = 8 * len(message)
    if key_bits.size < need:
        raise RelayInputError(f"one-time pad needs {need} key bits, only {key_bits.size} "
                              "available")
    pad = np.frombuffer(pack_bits(key_bits[:need]), dtype=np.uint8)
    return (np.frombuffer(message, dtype=np.uint8) ^ pad).tobytes()


def aes_encrypt(message: bytes, key_bits: np.ndarray) -> bytes:
    """AES-128-CTR with the first 128 key bits (encryption and decryption are the same)."""
    if key_bits.size < AES_KEY_BITS:
        raise RelayInputError(f"AES-128 needs {AES_KEY_BITS} key bits, only {key_bits.size} "
                              "available")
    return aes128_ctr(pack_bits(key_bits[:AES_KEY_BITS]), ZERO_COUNTER, message)


def read_key_file(path: pathlib.Path) -> np.ndarray:
    """A key file of SPEC 8 (raw bytes, MSB-first) as a bit array, checked against its
    integrity record (:mod:`models.postprocess.keyfile`)."""
    return read_key(path)


def read_pass_keys(directory: pathlib.Path) -> StationKeys:
    """``DIR/satellite.key`` and ``DIR/ground.key`` of a ``qkdsim pass`` output directory."""
    if not directory.is_dir():
        raise RelayInputError(f"pass output directory {str(directory)!r} does not exist")
    sat = read_key_file(directory / "satellite.key")
    gnd = read_key_file(directory / "ground.key")
    if sat.size != gnd.size:
        raise RelayInputError(f"{directory}: satellite.key and ground.key differ in length "
                              f"({sat.size} vs {gnd.size} bits)")
    return StationKeys(sat, gnd, str(directory / "satellite.key"))


def default_message(nbytes: int = DEFAULT_MESSAGE_BYTES) -> bytes:
    """A deterministic test message (seeded pseudo-random bytes)."""
    return np.random.default_rng(20230901).integers(0, 256, nbytes, dtype=np.uint8).tobytes()


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


@dataclass(frozen=True)
class Ledgers:
    """Where the uses of K_A (and of the relayed key) and of K_B are recorded."""

    a: pathlib.Path
    b: pathlib.Path


def _texts(message: bytes | None, mode: str, pad_bits: int
           ) -> tuple[bytes | None, bytes | None, dict[str, Any]]:
    """The OTP and AES plaintexts of ``mode`` (None: not encrypted) and report entries."""
    report: dict[str, Any] = {}
    otp_text = aes_text = None
    if mode in ("otp", "both"):
        # without a message: the longest prefix of the test message the pad can cover
        otp_text = default_message(min(DEFAULT_MESSAGE_BYTES, pad_bits // 8)) \
            if message is None else message
        if 8 * len(otp_text) > pad_bits:
            if mode == "otp":
                raise RelayInputError(f"one-time pad needs {8 * len(otp_text)} key bits, only "
                                      f"{pad_bits} available")
            report["otp"] = {"status": "key_too_short", "message_bytes": len(otp_text),
                             "key_bits_available": pad_bits}
            otp_text = None
    if mode in ("aes128", "both"):
        aes_text = default_message() if message is None else message
    return otp_text, aes_text, report


def planned_uses(a: StationKeys, b: StationKeys, n: int, otp_bits: int, aes: bool
                 ) -> tuple[list[KeyUse], list[KeyUse]]:
    """The ledger entries of one relay: (uses of K_A, uses of K_B).

    K_A[0:n] is relayed as a whole; its ranges that serve as the AES key or the one-time pad are
    recorded with that purpose, the rest as ``relay`` (relayed, no message encrypted with it).
    """
    parts = [(0, AES_KEY_BITS, "aes128" if aes else "relay"),
             (AES_KEY_BITS, AES_KEY_BITS + otp_bits, "otp"),
             (AES_KEY_BITS + otp_bits, n, "relay")]
    merged: list[list[Any]] = []
    for start, end, purpose in parts:
        if start == end:
            continue
        if merged and merged[-1][2] == purpose:
            merged[-1][1] = end
        else:
            merged.append([start, end, purpose])
    a_uses = [KeyUse(a.digest, a.label, a.satellite.size, start, end, purpose, b.label)
              for start, end, purpose in merged]
    b_uses = [KeyUse(b.digest, b.label, b.satellite.size, 0, AUTH_KEY_BITS, "auth", a.label),
              KeyUse(b.digest, b.label, b.satellite.size, AUTH_KEY_BITS, AUTH_KEY_BITS + n,
                     "relay_mask", a.label)]
    return a_uses, b_uses


def relay_and_encrypt(a: StationKeys, b: StationKeys, message: bytes | None, mode: str,
                      ledgers: Ledgers | None = None, adversary: Adversary | None = None
                      ) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Relay K_A to station B, encrypt ``message`` at A, decrypt at B; report and artefacts.

    With ``ledgers``, every key range of the relay is recorded before it is used (and the relay
    refused if one is recorded already); without, nothing is checked (tests of the arithmetic).
    """
    n = relayed_length(a.satellite.size, b.satellite.size)
    if n == 0:
        raise RelayInputError(f"no key to relay: K_A has {a.satellite.size} bits, K_B "
                              f"{b.satellite.size} (needs {AUTH_KEY_BITS} for the broadcast's "
                              f"tag + at least {KEY_QUANTUM})")
    otp_text, aes_text, report = _texts(message, mode, n - AES_KEY_BITS)
    otp_bits = 0 if otp_text is None else 8 * len(otp_text)
    a_uses, b_uses = planned_uses(a, b, n, otp_bits, aes_text is not None)
    if ledgers is not None:
        record_uses({ledgers.a: a_uses} | {ledgers.b: b_uses} if ledgers.a != ledgers.b
                    else {ledgers.a: a_uses + b_uses})
        report["ledger"] = {"a": str(ledgers.a), "b": str(ledgers.b),
                            "recorded": ledger_uses_as_json(a_uses + b_uses)}
    outcome = authenticated_relay(a, b, adversary)
    report |= {"key_bits_a": int(a.ground.size), "key_bits_b": int(b.ground.size),
               "auth_key_consumed_bits": outcome.auth_key_consumed_bits}
    if outcome.key_at_b is None:
        report |= {"relay_status": "auth_failed", "relayed_key_bits": 0}
        report.pop("otp", None)
        return report, {}
    key_at_a, key_at_b = outcome.key_at_a, outcome.key_at_b
    report |= {"relay_status": "ok", "relayed_key_bits": n,
               "relayed_keys_match": bool(np.array_equal(key_at_a, key_at_b))}
    files = {"relayed_a.key": pack_bits(key_at_a), "relayed_b.key": pack_bits(key_at_b),
             "broadcast.bin": outcome.message + outcome.tag.to_bytes(TAG_BYTES, "big")}
    for name, text, cipher_of in (
            ("otp", otp_text, lambda t, k: otp(t, k[AES_KEY_BITS:])),
            ("aes128", aes_text, aes_encrypt)):
        if text is None:
            continue
        cipher = cipher_of(text, key_at_a)
        files[f"message_{name}.bin"] = cipher
        report[name] = {"status": "ok" if cipher_of(cipher, key_at_b) == text
                        else "decrypt_mismatch", "message_bytes": len(text),
                        "key_bits_used": otp_bits if name == "otp" else AES_KEY_BITS,
                        "plaintext_sha256_16": _digest(text)}
    return report, files


def run_relay_cli(a_dir: pathlib.Path, b_dir: pathlib.Path, message: pathlib.Path | None,
                  out: pathlib.Path | None, mode: str = "both",
                  ledger: pathlib.Path | None = None) -> dict[str, Any]:
    """``qkdsim relay``: read both passes' keys, relay, encrypt, optionally write artefacts.

    The ledgers are ``A_DIR/ledger.json`` and ``B_DIR/ledger.json``, or ``ledger`` for both.
    """
    text = None
    if message is not None:
        try:
            text = message.read_bytes()
        except OSError as exc:
            raise RelayInputError(f"cannot read message {str(message)!r}: {exc.strerror}"
                                  ) from None
    ledgers = (Ledgers(ledger, ledger) if ledger is not None
               else Ledgers(a_dir / LEDGER_NAME, b_dir / LEDGER_NAME))
    if out is not None:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RelayInputError(f"cannot write to {str(out)!r}: {exc.strerror}") from None
    report, files = relay_and_encrypt(read_pass_keys(a_dir), read_pass_keys(b_dir), text, mode,
                                      ledgers)
    if out is not None:
        try:
            for name, data in files.items():
                write_private(out / name, data)
        except OSError as exc:
            raise RelayInputError(f"cannot write to {str(out)!r}: {exc.strerror}") from None
        report["out"] = str(out)
    return report
