"""Key relay between two ground stations through the satellite, and message encryption with it
(paper Methods, "key relay"; SPEC 7).

The satellite shares key K_A with station A (one pass) and K_B with station B (a later pass). It
broadcasts R = K_A ⊕ K_B (publicly, authenticated); station B computes R ⊕ K_B = K_A, so A and B
now share K_A while the satellite is trusted (it knows both keys). The relayed length is the
shorter key, rounded down to a multiple of 128 bits.

Use of the relayed key (key bits are never reused):

* bits 0..127: the AES-128 key; the initial CTR counter block is 0 (a key is used for one
  message only, so the counter never repeats);
* bits 128..: the one-time pad, one key bit per message bit (MSB-first packing, SPEC 7).
"""

import hashlib
import os
import pathlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from models.postprocess.aes import aes128_ctr
from models.postprocess.errors import PostprocessInputError
from models.postprocess.keyfile import read_key
from models.postprocess.toeplitz import pack_bits

AES_KEY_BITS = 128
KEY_QUANTUM = 128
DEFAULT_MESSAGE_BYTES = 1_000_000  # the paper's AES demonstration: 1 MByte
ZERO_COUNTER = bytes(16)


class RelayInputError(PostprocessInputError):
    """Key files or messages that cannot be relayed or encrypted."""


def relay_broadcast(satellite_key_a: np.ndarray, satellite_key_b: np.ndarray) -> np.ndarray:
    """What the satellite broadcasts: K_A ⊕ K_B over the common length (multiple of 128)."""
    n = KEY_QUANTUM * (min(satellite_key_a.size, satellite_key_b.size) // KEY_QUANTUM)
    return (satellite_key_a[:n] ^ satellite_key_b[:n]).astype(np.uint8)


def relay_recover(broadcast: np.ndarray, ground_key_b: np.ndarray) -> np.ndarray:
    """Station B's copy of K_A from the broadcast and its own key K_B."""
    if ground_key_b.size < broadcast.size:
        raise RelayInputError(f"station B holds {ground_key_b.size} key bits, the broadcast "
                              f"has {broadcast.size}")
    return broadcast ^ ground_key_b[:broadcast.size]


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


@dataclass(frozen=True)
class StationKeys:
    """The final keys of one pass, as the satellite and the station hold them."""

    satellite: np.ndarray
    ground: np.ndarray


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
    return StationKeys(sat, gnd)


def default_message(nbytes: int = DEFAULT_MESSAGE_BYTES) -> bytes:
    """A deterministic test message (seeded pseudo-random bytes)."""
    return np.random.default_rng(20230901).integers(0, 256, nbytes, dtype=np.uint8).tobytes()


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def relay_and_encrypt(a: StationKeys, b: StationKeys, message: bytes | None, mode: str
                      ) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Relay K_A to station B, encrypt ``message`` at A, decrypt at B; report and artefacts."""
    broadcast = relay_broadcast(a.satellite, b.satellite)
    key_at_a = a.ground[:broadcast.size]
    key_at_b = relay_recover(broadcast, b.ground)
    report: dict[str, Any] = {
        "key_bits_a": int(a.ground.size), "key_bits_b": int(b.ground.size),
        "relayed_key_bits": int(broadcast.size),
        "relayed_keys_match": bool(np.array_equal(key_at_a, key_at_b)),
    }
    if broadcast.size == 0:
        raise RelayInputError("no key to relay: one of the passes produced no final key")
    files: dict[str, bytes] = {"relayed_a.key": pack_bits(key_at_a),
                               "relayed_b.key": pack_bits(key_at_b),
                               "broadcast.bin": pack_bits(broadcast)}
    pad_a, pad_b = key_at_a[AES_KEY_BITS:], key_at_b[AES_KEY_BITS:]
    if mode in ("otp", "both"):
        text = message
        if text is None:  # the longest prefix of the test message the pad can cover
            text = default_message(min(DEFAULT_MESSAGE_BYTES, pad_a.size // 8))
        if 8 * len(text) > pad_a.size and mode == "both":
            report["otp"] = {"status": "key_too_short", "message_bytes": len(text),
                             "key_bits_available": int(pad_a.size)}
        else:
            cipher = otp(text, pad_a)
            plain = otp(cipher, pad_b)
            files["message_otp.bin"] = cipher
            report["otp"] = {"status": "ok" if plain == text else "decrypt_mismatch",
                             "message_bytes": len(text), "key_bits_used": 8 * len(text),
                             "plaintext_sha256_16": _digest(text)}
    if mode in ("aes128", "both"):
        text = default_message() if message is None else message
        cipher = aes_encrypt(text, key_at_a)
        plain = aes_encrypt(cipher, key_at_b)
        files["message_aes128.bin"] = cipher
        report["aes128"] = {"status": "ok" if plain == text else "decrypt_mismatch",
                            "message_bytes": len(text), "key_bits_used": AES_KEY_BITS,
                            "plaintext_sha256_16": _digest(text)}
    return report, files


def _write_private(path: pathlib.Path, data: bytes) -> None:
    """Write a file readable by its owner only (mode 0600 from creation on: keys, ciphertext)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    path.chmod(0o600)  # an existing file keeps its old mode through O_TRUNC


def run_relay_cli(a_dir: pathlib.Path, b_dir: pathlib.Path, message: pathlib.Path | None,
                  out: pathlib.Path | None, mode: str = "both") -> dict[str, Any]:
    """``qkdsim relay``: read both passes' keys, relay, encrypt, optionally write artefacts."""
    text = None
    if message is not None:
        try:
            text = message.read_bytes()
        except OSError as exc:
            raise RelayInputError(f"cannot read message {str(message)!r}: {exc.strerror}"
                                  ) from None
    report, files = relay_and_encrypt(read_pass_keys(a_dir), read_pass_keys(b_dir), text, mode)
    if out is not None:
        try:
            out.mkdir(parents=True, exist_ok=True)
            for name, data in files.items():
                _write_private(out / name, data)
        except OSError as exc:
            raise RelayInputError(f"cannot write to {str(out)!r}: {exc.strerror}") from None
        report["out"] = str(out)
    return report
