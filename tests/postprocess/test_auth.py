"""Wegman-Carter authentication: tags verify, any tampering is rejected, key consumption."""

import numpy as np
import pytest

from models.postprocess.auth import (
    PRIME,
    TAG_KEY_BITS,
    Authenticator,
    AuthKeyExhaustedError,
    KeyPool,
    poly_hash,
)


def pair(bits=4096, seed=1):
    pool = np.random.default_rng(seed).integers(0, 2, bits, dtype=np.uint8)
    return Authenticator(KeyPool(pool.copy())), Authenticator(KeyPool(pool.copy()))


def test_poly_hash_by_hand():
    # one block b1 = 1 and the length block 15: ((0 + 1)·k + 15)·k (mod p)
    k = 12345
    assert poly_hash(k, b"\x00" * 14 + b"\x01") == ((1 * k) + 15) * k % PRIME
    # zero padding is disambiguated by the length block
    assert poly_hash(k, b"\x01") != poly_hash(k, b"\x01\x00")
    big = (1 << 126) + 7
    assert poly_hash(big, b"\xff" * 15) == (((1 << 120) - 1) * big + 15) * big % PRIME


def test_key_pool_takes_msb_first_and_counts():
    pool = KeyPool(np.array([1, 0, 1, 1, 0, 0, 0, 0, 1, 1], dtype=np.uint8))
    assert pool.take(4) == 0b1011
    assert pool.take(6) == 0b000011
    assert pool.consumed_bits == 10
    with pytest.raises(AuthKeyExhaustedError, match="exhausted"):
        pool.take(1)


def test_genuine_messages_verify_in_sequence():
    alice, bob = pair()
    for msg in (b"syndrome", b"", b"x" * 1000, b"syndrome"):
        assert bob.verify(msg, alice.tag(msg))
    # hash key once + one pad per message, identical on both sides
    assert alice.consumed_bits == bob.consumed_bits == TAG_KEY_BITS * 5


def test_same_message_gets_fresh_tags():
    alice, _ = pair()
    assert alice.tag(b"same") != alice.tag(b"same")


@pytest.mark.parametrize("seed", range(3))
def test_every_tampering_rejected(seed):
    rng = np.random.default_rng(seed)
    msg = rng.integers(0, 256, 200, dtype=np.uint8).tobytes()
    tampered = []
    for bit in rng.choice(len(msg) * 8, 20, replace=False):
        b = bytearray(msg)
        b[bit // 8] ^= 0x80 >> (bit % 8)
        tampered.append(bytes(b))
    tampered += [msg[:-1], msg + b"\x00", b"\x00" + msg, msg[1:], msg[:100] + msg[101:], b""]
    for forged in tampered:
        alice, bob = pair(seed=seed)
        tag = alice.tag(msg)
        assert not bob.verify(forged, tag)
    alice, bob = pair(seed=seed)
    assert not bob.verify(msg, (alice.tag(msg) + 1) % PRIME)  # tampered tag


def test_replayed_tag_rejected():
    alice, bob = pair()
    tag = alice.tag(b"first")
    assert bob.verify(b"first", tag)
    alice.tag(b"second")
    assert not bob.verify(b"first", tag)  # the next pad differs: a replay fails
