"""Test oracle: AES-128 (FIPS-197) in CTR mode (SP 800-38A) written out in numpy.

Not used by the models (they call :mod:`models.postprocess.aes`, i.e. the ``cryptography``
package): it is the independent implementation the tests compare the library with. The state of
every block is one row of an (N, 16) uint8 array in FIPS byte order (byte r + 4c is row r,
column c), so SubBytes is a table lookup, ShiftRows a fixed permutation of the 16 columns and
MixColumns four xtime-table expressions; the ten rounds run over all N counter blocks at once.
"""

import numpy as np

from models.postprocess.aes import BLOCK_BYTES, KEY_BYTES, AesInputError

ROUNDS = 10


def _xtime(a: int) -> int:
    a <<= 1
    return (a ^ 0x11B) if a & 0x100 else a


def _sbox() -> np.ndarray:
    exp, log = [0] * 255, [0] * 256
    x = 1
    for i in range(255):
        exp[i], log[x] = x, i
        x ^= _xtime(x)  # multiply by the generator 3
    box = np.zeros(256, dtype=np.uint8)
    for a in range(256):
        inv = exp[(255 - log[a]) % 255] if a else 0
        b = inv
        for shift in range(1, 5):
            b ^= ((inv << shift) | (inv >> (8 - shift))) & 0xFF
        box[a] = b ^ 0x63
    return box


SBOX = _sbox()
XTIME = np.array([_xtime(a) for a in range(256)], dtype=np.uint8)
# ShiftRows: new state byte r + 4c comes from old byte r + 4((c + r) mod 4)
SHIFT_ROWS = np.array([r + 4 * ((c + r) % 4) for c in range(4) for r in range(4)])
RCON = (0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x1B, 0x36)


def expand_key(key: bytes) -> np.ndarray:
    """The 11 round keys, shape (11, 16), FIPS byte order."""
    if len(key) != KEY_BYTES:
        raise AesInputError(f"AES-128 key must be {KEY_BYTES} bytes, got {len(key)}")
    words = [list(key[4 * i:4 * i + 4]) for i in range(4)]
    for i in range(4, 4 * (ROUNDS + 1)):
        temp = list(words[i - 1])
        if i % 4 == 0:
            temp = [int(SBOX[b]) for b in temp[1:] + temp[:1]]
            temp[0] ^= RCON[i // 4 - 1]
        words.append([a ^ b for a, b in zip(words[i - 4], temp, strict=True)])
    return np.array(words, dtype=np.uint8).reshape(ROUNDS + 1, 16)


def _mix_columns(s: np.ndarray) -> np.ndarray:
    a = s.reshape(-1, 4, 4)  # [block, column, row]
    a0, a1, a2, a3 = a[..., 0], a[..., 1], a[..., 2], a[..., 3]
    x0, x1, x2, x3 = XTIME[a0], XTIME[a1], XTIME[a2], XTIME[a3]
    out = np.empty_like(a)
    out[..., 0] = x0 ^ x1 ^ a1 ^ a2 ^ a3
    out[..., 1] = a0 ^ x1 ^ x2 ^ a2 ^ a3
    out[..., 2] = a0 ^ a1 ^ x2 ^ x3 ^ a3
    out[..., 3] = x0 ^ a0 ^ a1 ^ a2 ^ x3
    return out.reshape(-1, 16)


def encrypt_blocks(key: bytes, blocks: np.ndarray) -> np.ndarray:
    """AES-128 encryption of an (N, 16) uint8 array of blocks."""
    rk = expand_key(key)
    s = np.asarray(blocks, dtype=np.uint8) ^ rk[0]
    for r in range(1, ROUNDS + 1):
        s = SBOX[s][:, SHIFT_ROWS]
        if r != ROUNDS:
            s = _mix_columns(s)
        s ^= rk[r]
    return s


def counter_blocks(initial: bytes, count: int) -> np.ndarray:
    """SP 800-38A counter blocks T_i = initial + i (mod 2^128), big-endian, shape (count, 16)."""
    if len(initial) != BLOCK_BYTES:
        raise AesInputError(f"initial counter block must be {BLOCK_BYTES} bytes")
    start = int.from_bytes(initial, "big")
    hi, lo = start >> 64, start & ((1 << 64) - 1)
    i = np.arange(count, dtype=np.uint64)
    low = np.uint64(lo) + i  # wraps modulo 2^64
    carry = (low < np.uint64(lo)).astype(np.uint64)
    high = np.uint64(hi) + carry
    words = np.stack([high, low], axis=1).astype(">u8")
    return words.view(np.uint8).reshape(count, 16)


def aes128_ctr(key: bytes, initial_counter: bytes, data: bytes) -> bytes:
    """Encrypt or decrypt ``data`` (CTR mode is its own inverse)."""
    count = -(-len(data) // BLOCK_BYTES)
    stream = encrypt_blocks(key, counter_blocks(initial_counter, count)).reshape(-1)
    return (np.frombuffer(data, dtype=np.uint8) ^ stream[:len(data)]).tobytes()
