"""models.postprocess.auth: a tag is the polynomial hash plus the one-time pad, mod p (the
module docstring's formula), checked with a pool whose key and pads are known."""

import numpy as np

from models.postprocess.auth import PRIME, TAG_KEY_BITS, Authenticator, KeyPool, poly_hash


def bits_of(value: int) -> np.ndarray:
    return np.array([(value >> (TAG_KEY_BITS - 1 - i)) & 1 for i in range(TAG_KEY_BITS)],
                    dtype=np.uint8)


def test_tag_is_hash_plus_pad_mod_p():
    """Key k = 2**100 + 7, then pads r1 = p - 1 and r2 = 2**127 + 5 (reduced: 6): each tag is
    (P_k(M) + r) mod p, the first wrapping past p."""
    key, pads = (1 << 100) + 7, [PRIME - 1, (1 << 127) + 5]
    pool = KeyPool(np.concatenate([bits_of(key)] + [bits_of(r) for r in pads]))
    auth = Authenticator(pool)
    msg = b"sifting report 17"
    h = poly_hash(key, msg)
    assert [auth.tag(msg), auth.tag(msg)] == [(h + r) % PRIME for r in pads]
    assert auth.consumed_bits == 3 * TAG_KEY_BITS
