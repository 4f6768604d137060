"""AES-128 in CTR mode (FIPS-197, NIST SP 800-38A) for messages encrypted with a relayed key.

The cipher is the ``cryptography`` package's (OpenSSL), not an implementation of this project;
this module only checks the sizes and turns a wrong size into a one-line input error.
``tests/postprocess/aes_oracle.py`` holds an independent numpy AES that the tests compare this
one with on the FIPS-197 and SP 800-38A vectors.
"""

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from models.postprocess.errors import PostprocessInputError

BLOCK_BYTES = 16
KEY_BYTES = 16


class AesInputError(PostprocessInputError):
    """A key or counter block of the wrong size."""


def aes128_ctr(key: bytes, initial_counter: bytes, data: bytes) -> bytes:
    """Encrypt or decrypt ``data`` with AES-128-CTR (the mode is its own inverse).

    ``initial_counter`` is the first 128-bit counter block; later blocks add 1 to it modulo
    2^128, big-endian (SP 800-38A's standard incrementing function).
    """
    if len(key) != KEY_BYTES:
        raise AesInputError(f"AES-128 key must be {KEY_BYTES} bytes, got {len(key)}")
    if len(initial_counter) != BLOCK_BYTES:
        raise AesInputError(f"initial counter block must be {BLOCK_BYTES} bytes, got "
                            f"{len(initial_counter)}")
    ctx = Cipher(algorithms.AES128(key), modes.CTR(initial_counter)).encryptor()
    return ctx.update(data) + ctx.finalize()
