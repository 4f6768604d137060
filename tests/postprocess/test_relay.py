"""Key relay through the satellite, OTP and AES-128 (FIPS-197 / SP 800-38A vectors)."""

import numpy as np
import pytest

from models.postprocess.aes import AesInputError, aes128_ctr, encrypt_blocks, expand_key
from models.postprocess.relay import (
    RelayInputError,
    StationKeys,
    aes_encrypt,
    otp,
    relay_and_encrypt,
    relay_broadcast,
    relay_recover,
)


def test_fips197_vector():
    key = bytes(range(16))
    block = np.frombuffer(bytes.fromhex("00112233445566778899aabbccddeeff"), dtype=np.uint8)
    out = encrypt_blocks(key, block.reshape(1, 16)).tobytes()
    assert out.hex() == "69c4e0d86a7b0430d8cdb78070b4c55a"


def test_fips197_key_expansion_last_round_key():
    rk = expand_key(bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c"))
    assert rk[10].tobytes().hex() == "d014f9a8c9ee2589e13f0cc8b6630ca6"


def test_sp800_38a_ctr_vector():
    key = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c")
    ctr = bytes.fromhex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff")
    plain = bytes.fromhex(
        "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
        "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710")
    cipher = aes128_ctr(key, ctr, plain)
    assert cipher.hex() == (
        "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff"
        "5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1792170a0f3009cee")
    assert aes128_ctr(key, ctr, cipher) == plain
    assert aes128_ctr(key, ctr, plain[:5]) == cipher[:5]  # partial last block


def test_counter_wraps_across_64_bit_boundary():
    key = bytes(16)
    start = bytes(8) + b"\xff" * 8
    stream = aes128_ctr(key, start, bytes(32))
    second = aes128_ctr(key, bytes(7) + b"\x01" + bytes(8), bytes(16))
    assert stream[16:] == second


def test_bad_aes_key():
    with pytest.raises(AesInputError, match="16 bytes"):
        expand_key(b"short")


def keys(n, seed):
    return np.random.default_rng(seed).integers(0, 2, n, dtype=np.uint8)


def test_relay_gives_station_b_the_key_of_station_a():
    ka, kb = keys(1000, 1), keys(700, 2)
    broadcast = relay_broadcast(ka, kb)
    assert broadcast.size == 640  # common length, rounded down to 128
    assert np.array_equal(relay_recover(broadcast, kb), ka[:640])
    # the broadcast alone says nothing about K_A: it is K_A masked by the uniform K_B
    assert not np.array_equal(broadcast, ka[:640])


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


def test_relay_and_encrypt_report():
    a_key = keys(4096, 5)
    a = StationKeys(a_key, a_key.copy())
    b_key = keys(3000, 6)
    b = StationKeys(b_key, b_key.copy())
    report, files = relay_and_encrypt(a, b, b"secret message", "both")
    assert report["relayed_key_bits"] == 2944
    assert report["relayed_keys_match"]
    assert report["otp"]["status"] == "ok" and report["otp"]["key_bits_used"] == 8 * 14
    assert report["aes128"]["status"] == "ok"
    assert otp(files["message_otp.bin"], a.ground[128:]) == b"secret message"


def test_relay_detects_mismatched_station_key():
    a = StationKeys(keys(1024, 7), keys(1024, 7))
    gb = keys(1024, 8)
    bad = gb.copy()
    bad[130] ^= 1  # inside the one-time pad (bits 128..)
    report, _ = relay_and_encrypt(a, StationKeys(gb, bad), b"hi", "otp")
    assert not report["relayed_keys_match"]
    assert report["otp"]["status"] == "decrypt_mismatch"


def test_message_too_long_for_otp():
    a = StationKeys(keys(256, 1), keys(256, 1))
    report, _ = relay_and_encrypt(a, a, b"x" * 100, "both")
    assert report["otp"]["status"] == "key_too_short"
    assert report["aes128"]["status"] == "ok"
    with pytest.raises(RelayInputError, match="one-time pad needs"):
        relay_and_encrypt(a, a, b"x" * 100, "otp")


def test_no_key_to_relay():
    empty = np.zeros(0, dtype=np.uint8)
    with pytest.raises(RelayInputError, match="no key to relay"):
        relay_and_encrypt(StationKeys(empty, empty), StationKeys(keys(256, 1), keys(256, 1)),
                          None, "both")
