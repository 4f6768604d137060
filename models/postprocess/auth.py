"""Wegman-Carter authentication of the classical messages (SPEC 7, the paper's "signs").

Tag of a message M (bytes) = (P_k(M) + r) mod p with p = 2^127 − 1:

* P_k is the polynomial hash: M is cut into 15-byte blocks b_1..b_L (the last zero-padded) and
  one final block holding the byte length; P_k(M) = Σ b_i k^(L+2−i) mod p (Horner). Two distinct
  messages of at most L blocks collide for at most (L+1) of the p values of k, so the forging
  probability is <= (L+1)/p (< 1e-33 for a 100 kbyte message).
* An :class:`Authenticator` takes k (128 bits, reduced mod p) from its :class:`KeyPool` at its
  first tag and keeps it; r (128 bits, reduced mod p) is taken fresh for every tag. Key
  consumption: 128 bits once + 128 bits per tag, counted in :attr:`KeyPool.consumed_bits`.

The two sides of a link hold identical pools and take keys in the same order, so the receiver's
:meth:`Authenticator.verify` recomputes the tag with the pad the sender used; a replayed message
meets the next pad and fails. What a failed check abandons is the caller's decision: a packet or
a block in :mod:`models.postprocess.pipeline`, the whole relay in :mod:`models.postprocess.relay`.
"""

from dataclasses import dataclass, field

import numpy as np

from models.postprocess.errors import PostprocessInputError

PRIME = (1 << 127) - 1
BLOCK_BYTES = 15
TAG_KEY_BITS = 128


class AuthKeyExhaustedError(PostprocessInputError):
    """The pre-shared authentication key pool is too small for the messages of the run."""


@dataclass
class KeyPool:
    """Pre-shared (or earlier-distilled) key bits, consumed front to back."""

    bits: np.ndarray
    consumed_bits: int = 0

    def take(self, nbits: int) -> int:
        """The next nbits as an integer (MSB first)."""
        if self.consumed_bits + nbits > self.bits.size:
            raise AuthKeyExhaustedError(
                f"authentication key pool of {self.bits.size} bits exhausted (needs "
                f"{self.consumed_bits + nbits}); increase auth_pool_bits")
        chunk = self.bits[self.consumed_bits:self.consumed_bits + nbits]
        self.consumed_bits += nbits
        return int.from_bytes(np.packbits(chunk, bitorder="big").tobytes(), "big") >> (
            (-nbits) % 8)


def poly_hash(key: int, message: bytes) -> int:
    """P_k(M) of the module docstring."""
    acc = 0
    for start in range(0, len(message), BLOCK_BYTES):
        block = int.from_bytes(message[start:start + BLOCK_BYTES].ljust(BLOCK_BYTES, b"\0"),
                               "big")
        acc = (acc + block) * key % PRIME
    return (acc + len(message)) * key % PRIME


@dataclass
class Authenticator:
    """One side's Wegman-Carter state: the hash key and the pool of one-time pads."""

    pool: KeyPool
    _hash_key: int | None = field(default=None, repr=False)

    def _key(self) -> int:
        if self._hash_key is None:
            self._hash_key = self.pool.take(TAG_KEY_BITS) % PRIME
        return self._hash_key

    def tag(self, message: bytes) -> int:
        """Tag of the next message sent (consumes one one-time pad)."""
        key = self._key()
        return (poly_hash(key, message) + self.pool.take(TAG_KEY_BITS)) % PRIME

    def verify(self, message: bytes, tag: int) -> bool:
        """Check the next message received (consumes the same one-time pad as the sender)."""
        return self.tag(message) == tag

    @property
    def consumed_bits(self) -> int:
        return self.pool.consumed_bits
