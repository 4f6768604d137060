"""Toeplitz-hash privacy amplification (SPEC 7).

y_i = XOR_j T[i][j]·x_j with T[i][j] = s[i − j + n − 1], 0 ≤ i < m, 0 ≤ j < n; x ∈ {0,1}^n,
seed s ∈ {0,1}^(n+m−1), all numpy uint8 bit arrays, index 0 first.

Fast path: y_i is the parity of the integer correlation c[k] = Σ_j x_j s[k − j] at k = i + n − 1,
a linear convolution computed with one real FFT of length L ≥ n + m − 1 (no wrap-around reaches the
needed indices k ∈ [n−1, n+m−2] because k − j stays in [0, n+m−2]). To run the FFT in float32 the
bits are centred to ±1/2, which shrinks the magnitudes the FFT has to resolve:
Σ x_j s_(k−j) = Σ x'_j s'_(k−j) + (Σ_j x_j)/2 + (Σ_(window) s)/2 − n/4 with x' = x − 1/2; the two
sums are exact integer prefix sums, and 4·Σ x' s' is an integer. The result is accepted only if
every value lies within 0.1 of an integer; otherwise (never observed up to 900 kbit) the same
transform is redone in float64, whose error (~1e-11) is far below 0.5. Cost O(L log L).

Speed (docs/postprocessing.md): the FFT length is the smallest 2^k, 3·2^k or 5·2^k >= n + m − 1
(pocketfft is 1.6x slower on scipy's ``next_fast_len`` choice 625,000 = 2^3·5^7 than on
655,360 = 2^17·5 for a 500 kbit block), and the seed's window sums are only needed modulo 4 (they
enter 4·Σ as 2·window, and only bit 2 of 4·Σ is kept), so the prefix sum runs in wrapping uint8.
About 16 ms of CPU time for a 500 kbit block (three float32 FFTs of ~4.5 ms each); ``workers``
does not help a single 1-D transform in pocketfft.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.fft as sfft

MAX_FLOAT32_ERROR = 0.1


def toeplitz_hash_naive(x: np.ndarray, seed: np.ndarray, m: int) -> np.ndarray:
    """Reference O(n·m) implementation of the SPEC formula (small sizes only, for tests)."""
    x = np.asarray(x, dtype=np.uint8)
    n = x.size
    _check(n, m, seed)
    i = np.arange(m)[:, None]
    j = np.arange(n)[None, :]
    T = np.asarray(seed, dtype=np.uint8)[i - j + n - 1]
    return (T.astype(np.int64) @ x.astype(np.int64) % 2).astype(np.uint8)


def _check(n: int, m: int, seed: np.ndarray) -> None:
    if m < 0 or n < 1:
        raise ValueError(f"Toeplitz hash needs n >= 1 and m >= 0, got n={n}, m={m}")
    if np.asarray(seed).size != n + m - 1 and m > 0:
        raise ValueError(f"Toeplitz seed has {np.asarray(seed).size} bits, needs n+m-1 = "
                         f"{n + m - 1}")


def fft_length(size: int) -> int:
    """Smallest 2^k, 3·2^k or 5·2^k that is >= size (pocketfft's fastest lengths here)."""
    best = 1 << max(size - 1, 0).bit_length()
    for factor in (3, 5):
        k = max(0, math.ceil(math.log2(size / factor)))
        while factor << k < size:
            k += 1
        best = min(best, factor << k)
    return best


def _centred_correlation(x: np.ndarray, seed: np.ndarray, n: int, m: int, dtype: type
                         ) -> np.ndarray:
    """4·Σ_j x'_j s'_(i−j+n−1) for all i < m, as float (x' = x − 1/2, s' = s − 1/2)."""
    length = fft_length(n + m - 1)
    xa = np.zeros(length, dtype=dtype)
    xa[:n] = x
    xa[:n] -= 0.5
    sa = np.zeros(length, dtype=dtype)
    sa[: n + m - 1] = seed
    sa[: n + m - 1] -= 0.5
    spec = sfft.rfft(xa)
    spec *= sfft.rfft(sa)
    return 4.0 * sfft.irfft(spec, n=length)[n - 1 : n + m - 1]


def toeplitz_hash(x: np.ndarray, seed: np.ndarray, m: int) -> np.ndarray:
    """Toeplitz hash y = T·x over GF(2) of SPEC 7, output m bits (uint8)."""
    x = np.asarray(x, dtype=np.uint8)
    seed = np.asarray(seed, dtype=np.uint8)
    n = x.size
    _check(n, m, seed)
    if m == 0:
        return np.zeros(0, dtype=np.uint8)
    c4 = _centred_correlation(x, seed, n, m, np.float32)
    r4 = np.rint(c4)
    if np.max(np.abs(c4 - r4), initial=0.0) > MAX_FLOAT32_ERROR:
        c4 = _centred_correlation(x, seed, n, m, np.float64)
        r4 = np.rint(c4)
    # window sums of the seed: Σ_(j<n) s[i − j + n − 1] = S[i + n] − S[i], S the prefix sum;
    # only needed modulo 4 (they enter as 2·window and only bit 2 of total4 is kept), so the
    # prefix sum wraps in uint8 and the constant is reduced modulo 8
    prefix = np.zeros(n + m, dtype=np.uint8)
    np.cumsum(seed[: n + m - 1], dtype=np.uint8, out=prefix[1:])
    window = (prefix[n : n + m] - prefix[0:m]).astype(np.int64)
    const = (2 * int(x.sum(dtype=np.int64)) - n) % 8
    total4 = r4.astype(np.int64) + 2 * window + const
    # total4 ≡ 4·Σ x_j s_(k−j) (mod 8), a multiple of 4: bit 2 is the parity of the sum
    return ((total4 >> 2) & 1).astype(np.uint8)


def pack_bits(bits: np.ndarray) -> bytes:
    """Bit array to bytes, MSB-first (bit 0 = MSB of byte 0), zero-padded to a whole byte."""
    return np.packbits(np.asarray(bits, dtype=np.uint8), bitorder="big").tobytes()


def unpack_bits(data: bytes, nbits: int | None = None) -> np.ndarray:
    """Inverse of :func:`pack_bits`."""
    bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8), bitorder="big")
    return bits if nbits is None else bits[:nbits]
