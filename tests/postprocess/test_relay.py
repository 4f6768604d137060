"""Key relay through the satellite: authenticated broadcast, key ledger, OTP and AES-128.

AES-128-CTR comes from the ``cryptography`` package; the numpy implementation in
``aes_oracle.py`` checks it on the FIPS-197 and SP 800-38A vectors and on random data.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from models.postprocess import ledger, private_file
from models.postprocess.aes import AesInputError, aes128_ctr
from models.postprocess.auth import PRIME
from models.postprocess.ledger import KeyReuseError, KeyUse, LedgerError, record_uses
from models.postprocess.relay import (
    AUTH_KEY_BITS,
    Ledgers,
    RelayInputError,
    StationKeys,
    aes_encrypt,
    authenticated_relay,
    otp,
    planned_uses,
    relay_and_encrypt,
    relay_broadcast,
    relay_recover,
    relayed_length,
)
from tests.postprocess.aes_oracle import aes128_ctr as oracle_ctr
from tests.postprocess.aes_oracle import encrypt_blocks, expand_key

SP800_KEY = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c")
SP800_CTR = bytes.fromhex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff")
SP800_PLAIN = bytes.fromhex(
    "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
    "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710")
SP800_CIPHER = bytes.fromhex(
    "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff"
    "5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1792170a0f3009cee")


def test_fips197_vector_library_and_oracle():
    key = bytes(range(16))
    plain = bytes.fromhex("00112233445566778899aabbccddeeff")
    expected = "69c4e0d86a7b0430d8cdb78070b4c55a"
    block = np.frombuffer(plain, dtype=np.uint8).reshape(1, 16)
    assert encrypt_blocks(key, block).tobytes().hex() == expected
    # CTR with the plaintext as counter block and a zero message gives E_K(counter)
    assert aes128_ctr(key, plain, bytes(16)).hex() == expected


def test_fips197_key_expansion_last_round_key():
    rk = expand_key(SP800_KEY)
    assert rk[10].tobytes().hex() == "d014f9a8c9ee2589e13f0cc8b6630ca6"


@pytest.mark.parametrize("ctr", [oracle_ctr, aes128_ctr], ids=["oracle", "cryptography"])
def test_sp800_38a_ctr_vector(ctr):
    assert ctr(SP800_KEY, SP800_CTR, SP800_PLAIN) == SP800_CIPHER
    assert ctr(SP800_KEY, SP800_CTR, SP800_CIPHER) == SP800_PLAIN
    assert ctr(SP800_KEY, SP800_CTR, SP800_PLAIN[:5]) == SP800_CIPHER[:5]  # partial last block


@pytest.mark.parametrize("start", [bytes(16), bytes(8) + b"\xff" * 8, b"\xff" * 16],
                         ids=["zero", "64-bit-carry", "128-bit-wrap"])
def test_library_equals_oracle_on_random_data(start):
    rng = np.random.default_rng(11)
    key = rng.integers(0, 256, 16, dtype=np.uint8).tobytes()
    data = rng.integers(0, 256, 1000, dtype=np.uint8).tobytes()
    assert aes128_ctr(key, start, data) == oracle_ctr(key, start, data)


def test_bad_aes_sizes():
    with pytest.raises(AesInputError, match="16 bytes"):
        aes128_ctr(b"short", bytes(16), b"x")
    with pytest.raises(AesInputError, match="counter block"):
        aes128_ctr(bytes(16), bytes(8), b"x")
    with pytest.raises(AesInputError, match="16 bytes"):
        expand_key(b"short")


def keys(n, seed):
    return np.random.default_rng(seed).integers(0, 2, n, dtype=np.uint8)


def station(n, seed, label):
    k = keys(n, seed)
    return StationKeys(k, k.copy(), label)


def test_relay_gives_station_b_the_key_of_station_a():
    ka, kb = keys(1000, 1), keys(700 + AUTH_KEY_BITS, 2)
    assert relayed_length(ka.size, kb.size) == 640  # common length, rounded down to 128
    mask = kb[AUTH_KEY_BITS:AUTH_KEY_BITS + 640]
    broadcast = relay_broadcast(ka, mask)
    assert np.array_equal(relay_recover(broadcast, mask), ka[:640])
    # the broadcast alone says nothing about K_A: it is K_A masked by the uniform K_B
    assert not np.array_equal(broadcast, ka[:640])


def test_broadcast_is_authenticated_and_costs_256_bits():
    a, b = station(1024, 1, "A"), station(1024, 2, "B")
    out = authenticated_relay(a, b)
    assert np.array_equal(out.key_at_b, a.ground[:768])
    assert out.auth_key_consumed_bits == AUTH_KEY_BITS == 256


def flip(bit):
    def adversary(message, tag):
        m = bytearray(message)
        m[bit // 8] ^= 0x80 >> (bit % 8)
        return bytes(m), tag
    return adversary


@pytest.mark.parametrize("adversary", [
    flip(8 * 16 + 63),  # the length field
    flip(8 * 24),  # the first broadcast bit
    flip(8 * 24 + 767),  # the last broadcast bit
    lambda m, t: (m[:-1], t),  # truncated
    lambda m, t: (m, (t + 1) % PRIME),  # tag changed
], ids=["length", "first-bit", "last-bit", "truncated", "tag"])
def test_tampered_broadcast_abandons_the_relay(tmp_path, adversary):
    a, b = station(1024, 1, "A"), station(1024, 2, "B")
    ledgers = Ledgers(tmp_path / "a.json", tmp_path / "b.json")
    report, files = relay_and_encrypt(a, b, b"hello", "both", ledgers, adversary)
    assert report["relay_status"] == "auth_failed" and report["relayed_key_bits"] == 0
    assert files == {} and "otp" not in report and "aes128" not in report
    assert report["auth_key_consumed_bits"] == 256
    # the bits stay used: the broadcast went out
    with pytest.raises(KeyReuseError):
        relay_and_encrypt(a, station(1024, 3, "C"), b"hello", "both", ledgers)


def test_replayed_broadcast_rejected():
    a1, a2 = station(1024, 1, "A1"), station(1024, 3, "A2")
    b1, b2 = station(1024, 2, "B1"), station(1024, 4, "B2")
    old = authenticated_relay(a1, b1)
    assert old.key_at_b is not None
    replay = authenticated_relay(a2, b2, lambda m, t: (old.message, old.tag))
    assert replay.key_at_b is None


def test_otp_round_trip_and_key_size():
    k = keys(8 * 20, 3)
    msg = b"Jinan-1 to Nanshan!!"
    cipher = otp(msg, k)
    assert cipher != msg and otp(cipher, k) == msg
    with pytest.raises(RelayInputError, match="needs 168 key bits"):
        otp(msg + b"x", k)


def test_aes_with_relayed_key_needs_128_bits():
    with pytest.raises(RelayInputError, match="128 key bits"):
        aes_encrypt(b"x", keys(100, 1))


def test_relay_and_encrypt_report(tmp_path):
    a, b = station(4096, 5, "A"), station(3000 + AUTH_KEY_BITS, 6, "B")
    report, files = relay_and_encrypt(a, b, b"secret message", "both",
                                      Ledgers(tmp_path / "a.json", tmp_path / "b.json"))
    assert report["relay_status"] == "ok" and report["relayed_key_bits"] == 2944
    assert report["relayed_keys_match"] and report["auth_key_consumed_bits"] == 256
    assert report["otp"]["status"] == "ok" and report["otp"]["key_bits_used"] == 8 * 14
    assert report["aes128"]["status"] == "ok"
    assert otp(files["message_otp.bin"], a.ground[128:]) == b"secret message"
    assert aes128_ctr(np.packbits(a.ground[:128]).tobytes(), bytes(16),
                      files["message_aes128.bin"]) == b"secret message"
    recorded = [(u["key"], u["purpose"], u["start"], u["end"])
                for u in report["ledger"]["recorded"]]
    ka, kb = a.digest[:16], b.digest[:16]
    assert recorded == [(ka, "aes128", 0, 128), (ka, "otp", 128, 240), (ka, "relay", 240, 2944),
                        (kb, "auth", 0, 256), (kb, "relay_mask", 256, 256 + 2944)]


def test_relay_detects_mismatched_station_key():
    a = station(1024, 7, "A")
    gb = keys(1024, 8)
    bad = gb.copy()
    bad[AUTH_KEY_BITS + 130] ^= 1  # inside the one-time pad (relayed bits 128..)
    report, _ = relay_and_encrypt(a, StationKeys(gb, bad, "B"), b"hi", "otp")
    assert not report["relayed_keys_match"]
    assert report["otp"]["status"] == "decrypt_mismatch"


def test_message_too_long_for_otp():
    a, b = station(256, 1, "A"), station(512, 2, "B")
    report, _ = relay_and_encrypt(a, b, b"x" * 100, "both")
    assert report["otp"]["status"] == "key_too_short"
    assert report["aes128"]["status"] == "ok"
    with pytest.raises(RelayInputError, match="one-time pad needs"):
        relay_and_encrypt(a, b, b"x" * 100, "otp")


def test_no_key_to_relay():
    empty = np.zeros(0, dtype=np.uint8)
    with pytest.raises(RelayInputError, match="no key to relay"):
        relay_and_encrypt(StationKeys(empty, empty), station(512, 1, "B"), None, "both")
    with pytest.raises(RelayInputError, match="no key to relay"):  # B too short for the tag
        relay_and_encrypt(station(512, 1, "A"), station(300, 2, "B"), None, "both")


# ---- ledger ----------------------------------------------------------------------------------


def test_second_relay_of_the_same_keys_refused(tmp_path):
    a, b, c = station(1024, 1, "A"), station(1024, 2, "B"), station(2048, 3, "C")
    ledgers = Ledgers(tmp_path / "a.json", tmp_path / "b.json")
    relay_and_encrypt(a, b, None, "aes128", ledgers)
    before = {p: p.read_bytes() for p in (ledgers.a, ledgers.b)}
    with pytest.raises(KeyReuseError, match=r"bits 0\.\.127 .* for aes128 with B"):
        relay_and_encrypt(a, c, None, "aes128", Ledgers(ledgers.a, tmp_path / "c.json"))
    with pytest.raises(KeyReuseError, match=r"of B .* used for auth with A"):  # K_B as K_A
        relay_and_encrypt(b, c, None, "aes128", Ledgers(ledgers.b, tmp_path / "c.json"))
    # a refused relay changes no ledger
    assert {p: p.read_bytes() for p in (ledgers.a, ledgers.b)} == before
    assert not (tmp_path / "c.json").exists()


def test_same_key_as_both_stations_refused(tmp_path):
    a = station(1024, 1, "A")
    with pytest.raises(KeyReuseError, match="in the same request"):
        relay_and_encrypt(a, a, None, "aes128", Ledgers(tmp_path / "l.json", tmp_path / "l.json"))


@pytest.mark.parametrize("purpose", ["aes128", "otp"])
def test_second_use_of_relayed_aes_or_pad_bits_refused(tmp_path, purpose):
    a, b = station(1024, 1, "A"), station(1024, 2, "B")
    path = tmp_path / "ledger.json"
    relay_and_encrypt(a, b, b"twelve bytes", "both", Ledgers(path, path))
    a_uses, _ = planned_uses(a, b, 768, 8 * 12, aes=True)
    used = next(u for u in a_uses if u.purpose == purpose)
    one_bit = KeyUse(used.key, used.label, used.bits, used.end - 1, used.end, "otp", "C")
    with pytest.raises(KeyReuseError, match=f"already used for {purpose} with B"):
        record_uses({path: [one_bit]})
    # bits past the relayed range are still free
    rest = KeyUse(used.key, used.label, used.bits, 768, 1024, "otp", "C")
    record_uses({path: [rest]})
    assert len(ledger.load(path)) == 6


def test_ledger_file_format_and_mode(tmp_path):
    a, b = station(1024, 1, "A"), station(1024, 2, "B")
    path = tmp_path / "ledger.json"
    relay_and_encrypt(a, b, None, "aes128", Ledgers(path, path))
    assert path.stat().st_mode & 0o777 == 0o600
    doc = json.loads(path.read_text())
    assert doc["format"] == "qkdsim-key-ledger" and doc["version"] == 1
    entry = doc["keys"][a.digest]
    assert entry["bits"] == 1024 and entry["label"] == "A"
    assert [(u["start"], u["end"], u["purpose"], u["peer"]) for u in entry["uses"]] == [
        (0, 128, "aes128", "B"), (128, 768, "relay", "B")]
    assert entry["uses"][0]["utc"].endswith("Z")


@pytest.mark.parametrize("content", ["{", "[]", '{"format": "other"}',
                                     '{"format": "qkdsim-key-ledger", "version": 1, "keys": '
                                     '{"ab": {"label": "x", "bits": 10, "uses": [{"start": 5, '
                                     '"end": 20, "purpose": "otp", "peer": "p"}]}}}'],
                         ids=["json", "list", "format", "range"])
def test_malformed_ledger_is_an_error_not_empty(tmp_path, content):
    path = tmp_path / "ledger.json"
    path.write_text(content)
    with pytest.raises(LedgerError, match="malformed"):
        relay_and_encrypt(station(1024, 1, "A"), station(1024, 2, "B"), None, "aes128",
                          Ledgers(path, path))
    assert path.read_text() == content


def test_ledger_write_error_leaves_the_old_ledger(tmp_path, monkeypatch):
    path = tmp_path / "ledger.json"
    a, b = station(1024, 1, "A"), station(1024, 2, "B")
    relay_and_encrypt(a, b, None, "aes128", Ledgers(path, path))
    before = path.read_bytes()

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(private_file.os, "fsync", full_disk)
    with pytest.raises(LedgerError, match="No space left"):
        relay_and_encrypt(station(1024, 3, "C"), station(1024, 4, "D"), None, "aes128",
                          Ledgers(path, path))
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger.json"]  # no temporary file


CRASH = """
import os, pathlib, sys
from models.postprocess import ledger, private_file
from models.postprocess.ledger import KeyUse, record_uses
def crash(tmp, dst):  # the process dies after the new content is on disk, before the rename
    os._exit(9)
private_file.os.replace = crash
record_uses({pathlib.Path(sys.argv[1]): [KeyUse("cd" * 32, "D", 512, 0, 256, "otp", "E")]})
"""


def test_ledger_survives_a_crash_mid_write(tmp_path):
    path = tmp_path / "ledger.json"
    record_uses({path: [KeyUse("ab" * 32, "K", 1024, 0, 128, "aes128", "B")]})
    before = path.read_bytes()
    proc = subprocess.run([sys.executable, "-c", CRASH, str(path)], cwd=os.getcwd(),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 9, proc.stderr
    assert path.read_bytes() == before
    assert [u.purpose for u in ledger.load(path)] == ["aes128"]
    # the crash left a temporary file beside it; the ledger keeps working
    assert any(p.name.endswith(".tmp") for p in tmp_path.iterdir())
    record_uses({path: [KeyUse("ab" * 32, "K", 1024, 128, 256, "otp", "B")]})
    assert len(ledger.load(path)) == 2
