"""Payloads of the distillation engines (:mod:`rtl.distill.syndrome`, :mod:`rtl.distill.auth`,
:mod:`rtl.distill.crc`).

Bit words carry bit ``k`` of a packet, syndrome or key at bit ``k % width`` of word
``k // width`` (index 0 first, as the numpy bit arrays of :mod:`models.postprocess`).
Message bytes and one-time-pad key words are big-endian, as the model's ``bytes`` and
:meth:`models.postprocess.auth.KeyPool.take` (pool bit 0 is the MSB of key word 0).
"""

from amaranth.lib import data, enum

from models.postprocess.auth import TAG_KEY_BITS


def bit_word(width: int) -> data.StructLayout:
    """``width`` bits of a packet (or syndrome, or key) and its last word flag."""
    return data.StructLayout({"data": width, "last": 1})


class SyndromeStatus(enum.Enum, shape=2):
    """Outcome of one packet: a syndrome (``OK``) or why it was abandoned without one."""

    OK = 0
    BAD_RATE = 1  # the rate register named no code of the encoder
    LENGTH = 2  # ``last`` came at another word than the code's n / width - 1


def syndrome_status(rate_bits: int) -> data.StructLayout:
    """One beat per packet, after its syndrome words (none when abandoned)."""
    return data.StructLayout({"status": SyndromeStatus, "rate": rate_bits})


MessageByte = data.StructLayout({"data": 8, "last": 1})
"""One byte of an authenticated message (big-endian, as the model's ``bytes``), ``last`` on
its final byte."""

KeyWord = data.StructLayout({"data": 32, "last": 1})
"""32 bits of the authentication key pool, MSB first; ``last`` on the pool's final word."""

TAG_BITS = 127  # tags are residues mod 2^127 - 1
AuthCommand = data.StructLayout({"verify": 1, "tag": TAG_BITS})
"""Per message: sign it (``verify`` low) or check it against ``tag``."""


class AuthStatus(enum.Enum, shape=2):
    OK = 0  # tag computed (sign) or matched (verify)
    MISMATCH = 1  # verify: the received tag differs
    KEY_EXHAUSTED = 2  # the key pool ended before the 128-bit hash key or pad was complete


AuthResult = data.StructLayout({"status": AuthStatus, "tag": TAG_BITS})
"""Per message: the tag (sign mode, ``OK``; zero otherwise) and the outcome."""

PAD_WORDS = TAG_KEY_BITS // 32

CrcResult = data.StructLayout({"crc": 32, "words": 24})
"""Per key: zlib's CRC-32 of its bits (packed MSB first into bytes) and its length in words."""
