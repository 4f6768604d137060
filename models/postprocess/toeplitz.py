"""Toeplitz-hash privacy amplification (SPEC 7).

y_i = XOR_j T[i][j]·x_j with T[i][j] = s[i − j + n − 1], 0 ≤ i < m, 0 ≤ j < n; x ∈ {0,1}^n,
seed s ∈ {0,1}^(n+m−1), all numpy uint8 bit arrays, index 0 first.

Two exact implementations behind one API (:class:`ToeplitzHasher`, :func:`toeplitz_hash`):

**"clmul" (default on x86-64 with PCLMULQDQ): bit-packed GF(2) Toeplitz matrix-vector product.**
Bits are packed into uint64 words (bit r of word w = index 64w + r). T is cut into square q×q
Toeplitz blocks, q = 64·W bits with W = 8·2^L words chosen to minimise (row blocks)·(column
blocks)·3^L; x is padded with zeros at its *front* to a whole number of blocks, which leaves the
index formula s[i − j + n − 1] unchanged, so every block's defining vector is a word-aligned slice
of the packed seed. Each block product is the Karatsuba-like Toeplitz split (Winograd; Fan and
Hasan): with T = [[T0, T−1], [T1, T0]] (Toeplitz blocks of half size),

    P0 = T0·(v0 ⊕ v1),  P1 = (T−1 ⊕ T0)·v1,  P2 = (T1 ⊕ T0)·v0;  y = (P0 ⊕ P1, P0 ⊕ P2)

three half-size products instead of four, down to 8-word (512-bit) leaves, where y is the middle of
the carry-less product t·v (words W−1 .. 2W−1 shifted by 63 bits) by product scanning with
``pclmulqdq`` (a numba intrinsic on ``llvm.x86.pclmulqdq``). For 500 kbit → 125 kbit: W = 2048
(4.8 % padding), 4 block products, 4·3^8 leaves of 79 carry-less multiplies (2.1 M), exact by
construction (integer XORs only, no rounding anywhere).

Design measurements (same process, interleaved, CPU time, load average 2 to 7 on the shared 2-core
AMD EPYC znver3, so ±20 %): the leaf size is a compile-time constant so LLVM unrolls the leaf
completely; that, not the multiplier, decided the speed: leaves of 8 or 16 words 4.2 ms, of 32
words 6.2 ms, of 2 or 4 words 9 to 12 ms (recursion overhead), a leaf of run-time size 6.3 ms,
recursion with offsets into flat arrays instead of slices 5.6 ms against 3.5 ms. A
``vpclmulqdq`` ymm intrinsic (two products per instruction) gained nothing (the scalar inserts and
extracts around it bound the loop, ~1 ns a product either way). Giving the 2-leaf node a constant
size too (LLVM then unrolls its XOR loops and inlines its leaves) saved 10 % of the hash but added
2 to 5 s of CPU to the first (cold-cache) JIT compilation, now ~3 s: not kept.

**"fft" (fallback without PCLMULQDQ or with numba's JIT disabled; also selectable):** y_i is the
parity of the integer correlation c[k] = Σ_j x_j s[k − j] at k = i + n − 1, a linear convolution
computed with float64 real FFTs of length L = 2^k ≥ n + m − 1 (no wrap-around reaches
k ∈ [n−1, n+m−2]). The bits are centred to ±1/2: Σ x_j s_(k−j) = Σ x'_j s'_(k−j) + (Σ_j x_j)/2 +
(Σ_(window) s)/2 − n/4 with x' = x − 1/2, and 4·Σ x' s' is an integer; only its value modulo 8
matters (the seed's window sums are needed modulo 4, so their prefix sum wraps in uint8).
**Exactness.** Every correlation value is rounded to the nearest integer, which is exact when
the transform's error is below 1/2. Percival's bound for a radix-2 FFT convolution (Math. Comp.
72 (2003) 387) gives |error| ≤ ‖4x'‖·‖s'‖·((1 + ε)^(3k) (1 + √5 ε)^(3k+1) (1 + β)^(3k) − 1)
with ε = β = 2^−53: 3·10^−8 at 900 kbit into 300 kbit. :func:`fft_error_bound` evaluates it
with a safety factor of 10 (pocketfft runs radix-4 passes and computes its twiddles its own
way) and the hasher refuses sizes where it reaches 1/4; after the transform every value must
also lie within that bound of an integer, otherwise :class:`ToeplitzRoundingError` is raised.
A rounding error therefore either cannot occur or stops the hash; it never yields a wrong key.
(A float32 transform, about 2x faster, is not used: its worst-case bound, ~0.7 at 500 kbit, does
not exclude a wrong parity that a distance-to-integer check would not see.) A hasher keeps
the seed's spectrum, so each further input costs two transforms instead of three.

Alternatives measured: pyFFTW 0.15.1 (works with numpy 2.4.6) does a float32 real FFT of 655,360
in 2.1 ms (FFTW_ESTIMATE) or 1.7 ms (FFTW_MEASURE, 23 s of planning) against pocketfft's 4.7 ms:
a 2-transform hash would still take ~5 ms, slower than clmul and inexact-by-check, so no new
dependency. Seed reuse across blocks is not proposed: with clmul the seed side costs only its
packing (0.3 ms), so one fresh seed per block keeps SPEC 7 as it is.

Speed (500 kbit → 125 kbit, ``pa_toeplitz_500kbit``, CPU time, all on the shared machine at load
average 5.7 to 6.5 on 2 cores): clmul best of 7 to 15 in one process 3.4 to 5.4 ms (92 to 145
Mbit/s; kernel 3.3 ms, seed check and packing 0.4 ms, input packing 0.06 ms); the bench's best of 5
over 8 processes 62 to 125 Mbit/s (median 88); the float64 FFT path takes 62 to 65 ms (8 Mbit/s,
``ToeplitzHasher(seed, n, m, "fft").hash(x)`` in one process), so clmul is ~15x faster. The
kernel's remaining overhead is in the internal nodes (array views and their reference counts:
numba's private ``_nrt=False`` saved 8 %, not used).
Re-run on an idle machine: ``farm-bench -n 5 -- sh
-c 'exec .venv/bin/python -c "import sim.bench_postprocess as b; print(b.bench_toeplitz())"
>> /tmp/pa_bench.txt'`` and read the figures in /tmp/pa_bench.txt. The first call in a process
JIT-compiles the kernel (~3 s of CPU, cached in ``__pycache__`` afterwards).
"""

from __future__ import annotations

import math
from typing import Literal

import numba
import numpy as np
import scipy.fft as sfft
from llvmlite import binding as llvm_binding
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

FFT_BOUND_SAFETY = 10.0  # factor on Percival's radix-2 bound (pocketfft's radix-4 passes)
MAX_FFT_ERROR = 0.25  # sizes whose bound reaches this are refused (never at SPEC's sizes)
LEAF_WORDS = 8  # leaf of the Toeplitz recursion (8 × 64 bits); a compile-time constant
Method = Literal["auto", "clmul", "fft"]
METHOD_DESCRIPTIONS = {
    "clmul": "bit-packed GF(2) Toeplitz product, 3-product split, pclmulqdq leaves (numba), "
             "1 thread",
    "fft": "float64 real FFTs of length 2^k, rounding proven exact and checked "
           "(seed spectrum + 2 per input), 1 thread",
}


class ToeplitzInputError(ValueError):
    """Bad Toeplitz-hash input (sizes, non-bit values); the message names the problem."""


class ToeplitzRoundingError(ArithmeticError):
    """An FFT correlation value lies farther from an integer than the proven error bound
    allows (a numerical fault): the hash is refused instead of a possibly wrong parity."""


def fft_error_bound(n: int, m: int) -> float:
    """Upper bound (safety factor included) of the error of the FFT path's 4·Σ x'_j s'_(k−j)
    for an n-bit input and m output bits (Percival 2003, radix-2, float64)."""
    k = max(fft_length(n + m - 1).bit_length() - 1, 1)
    eps = 2.0**-53
    growth = math.expm1(3 * k * math.log1p(eps) + (3 * k + 1) * math.log1p(math.sqrt(5) * eps)
                        + 3 * k * math.log1p(eps))
    norms = 4.0 * math.sqrt(n / 4.0) * math.sqrt((n + m - 1) / 4.0)  # ‖4x'‖·‖s'‖, x', s' = ±1/2
    return FFT_BOUND_SAFETY * norms * growth


def clmul_available() -> bool:
    """True when the compiled carry-less path can run (numba JIT on, PCLMULQDQ in the target)."""
    if numba.config.DISABLE_JIT:
        return False
    if numba.config.CPU_NAME not in (None, "host"):
        return "+pclmul" in (numba.config.CPU_FEATURES or "")
    return bool(llvm_binding.get_host_cpu_features().get("pclmul", False))


@intrinsic
def _clmul(typingctx, a, b):
    """64×64 → 128-bit carry-less product (low word, high word) through ``pclmulqdq``."""
    sig = types.UniTuple(types.uint64, 2)(types.uint64, types.uint64)

    def codegen(context, builder, signature, args):
        i32 = ir.IntType(32)
        vec = ir.VectorType(ir.IntType(64), 2)
        fnty = ir.FunctionType(vec, [vec, vec, ir.IntType(8)])
        fn = builder.module.declare_intrinsic("llvm.x86.pclmulqdq", fnty=fnty)
        zero = ir.Constant(i32, 0)
        va = builder.insert_element(ir.Constant(vec, ir.Undefined), args[0], zero)
        vb = builder.insert_element(ir.Constant(vec, ir.Undefined), args[1], zero)
        prod = builder.call(fn, [va, vb, ir.Constant(ir.IntType(8), 0)])
        one = ir.Constant(i32, 1)
        words = (builder.extract_element(prod, zero), builder.extract_element(prod, one))
        return context.make_tuple(builder, signature.return_type, words)

    return sig, codegen


@numba.njit(cache=True, nogil=True, inline="always")
def _leaf(t: np.ndarray, v: np.ndarray, y: np.ndarray) -> None:
    """y = T·v for one LEAF_WORDS-word Toeplitz block (t: 2·LEAF_WORDS words, last bit unused).

    y bit i is bit i + N − 1 of the carry-less product t·v (N = 64·LEAF_WORDS), so y word k takes
    bit 63 of product word W−1+k and bits 0..62 of word W+k; product words W−2 .. 2W−1 are formed
    by product scanning (the high halves of word w−1's partial products carry into word w).
    """
    prev_hi = np.uint64(0)
    prev_word = np.uint64(0)
    for w in range(LEAF_WORDS - 2, 2 * LEAF_WORDS):
        acc_lo = np.uint64(0)
        acc_hi = np.uint64(0)
        for b in range(max(0, w - 2 * LEAF_WORDS + 1), min(LEAF_WORDS, w + 1)):
            lo, hi = _clmul(t[w - b], v[b])
            acc_lo ^= lo
            acc_hi ^= hi
        word = acc_lo ^ prev_hi
        if w >= LEAF_WORDS:
            y[w - LEAF_WORDS] = (prev_word >> np.uint64(63)) | (word << np.uint64(1))
        prev_word = word
        prev_hi = acc_hi


@numba.njit(cache=True, nogil=True)
def _tmvp(t: np.ndarray, v: np.ndarray, y: np.ndarray, words: int, ws: np.ndarray) -> None:
    """y = T·v, T the words·64-square Toeplitz matrix of t (2·words words), by the 3-product split.

    ``ws`` is scratch of at least 4·words words; the defining vector of the half-size block at
    block offset d ∈ {−1, 0, 1} is t[(d+1)·H : (d+3)·H].
    """
    if words == LEAF_WORDS:
        _leaf(t, v, y)
        return
    half = words // 2
    tt = ws[: 2 * half]
    vs = ws[2 * half : 3 * half]
    p0 = ws[3 * half : 4 * half]
    rest = ws[4 * half :]
    for k in range(2 * half):
        tt[k] = t[k] ^ t[half + k]
    _tmvp(tt, v[half:words], y[:half], half, rest)  # P1 = (T−1 ⊕ T0)·v1
    for k in range(2 * half):
        tt[k] = t[2 * half + k] ^ t[half + k]
    _tmvp(tt, v[:half], y[half:words], half, rest)  # P2 = (T1 ⊕ T0)·v0
    for k in range(half):
        vs[k] = v[k] ^ v[half + k]
    _tmvp(t[half : 3 * half], vs, p0, half, rest)  # P0 = T0·(v0 ⊕ v1)
    for k in range(half):
        y[k] ^= p0[k]
        y[half + k] ^= p0[k]


@numba.njit(cache=True, nogil=True)
def _hash_words(seed_words: np.ndarray, x_words: np.ndarray, block: int, row_blocks: int,
                col_blocks: int) -> np.ndarray:
    """Packed y of all row blocks: y_a = XOR_b T_(a,b)·x_b, T_(a,b) at seed word (a+nb−b−1)·W."""
    out = np.zeros(row_blocks * block, dtype=np.uint64)
    part = np.empty(block, dtype=np.uint64)
    ws = np.empty(4 * block, dtype=np.uint64)
    for a in range(row_blocks):
        for b in range(col_blocks):
            off = (a + col_blocks - b - 1) * block
            _tmvp(seed_words[off : off + 2 * block], x_words[b * block : (b + 1) * block], part,
                  block, ws)
            for k in range(block):
                out[a * block + k] ^= part[k]
    return out


def _block_words(n: int, m: int) -> int:
    """Block size W = LEAF_WORDS·2^L minimising (row blocks)·(column blocks)·3^L."""
    nw, mw = -(-n // 64), -(-m // 64)
    best, best_cost = LEAF_WORDS, math.inf
    level = 0
    while True:
        words = LEAF_WORDS << level
        cost = -(-nw // words) * -(-mw // words) * 3**level
        if cost < best_cost:
            best, best_cost = words, cost
        if words >= max(nw, mw):
            return best
        level += 1


def _pack_words(bits: np.ndarray, front: int, words: int) -> np.ndarray:
    """Bits into `words` little-endian uint64 words after `front` zero bits, zero-padded."""
    buf = np.zeros(64 * words, dtype=np.uint8)
    buf[front : front + bits.size] = bits
    return np.packbits(buf, bitorder="little").view("<u8")


def fft_length(size: int) -> int:
    """Smallest power of two >= size (the radix-2 length of the exactness bound)."""
    return 1 << max(size - 1, 0).bit_length()


def _checked_seed(seed: np.ndarray, n: int, m: int) -> np.ndarray:
    if m < 0 or n < 1:
        raise ToeplitzInputError(f"Toeplitz hash needs n >= 1 and m >= 0, got n={n}, m={m}")
    seed = _bit_array("seed", seed)
    if m > 0 and seed.size != n + m - 1:
        raise ToeplitzInputError(f"Toeplitz seed has {seed.size} bits, needs n+m-1 = {n + m - 1}")
    return seed


def _bit_array(name: str, bits: np.ndarray) -> np.ndarray:
    arr = np.asarray(bits)
    if arr.ndim != 1:
        raise ToeplitzInputError(f"Toeplitz {name} must be a 1-D bit array, got shape {arr.shape}")
    arr = arr.astype(np.uint8, copy=False)
    if arr.size and int(arr.max()) > 1:
        raise ToeplitzInputError(f"Toeplitz {name} must hold bits 0/1, found {int(arr.max())}")
    return arr


class ToeplitzHasher:
    """The SPEC 7 Toeplitz hash for one seed, input length n and output length m.

    Prepares the seed once (packed words, or its spectrum for "fft"); :meth:`hash` may then be
    called on any number of n-bit inputs. ``method``: "auto" (clmul where available, else fft),
    "clmul" or "fft". Raises :class:`ToeplitzInputError` on bad sizes or non-bit values.
    """

    def __init__(self, seed: np.ndarray, n: int, m: int, method: Method = "auto") -> None:
        seed = _checked_seed(seed, n, m)
        if method == "auto":
            method = "clmul" if clmul_available() else "fft"
        if method == "clmul" and not clmul_available():
            raise ToeplitzInputError("Toeplitz method 'clmul' needs numba's JIT and an x86-64 CPU "
                                     "with PCLMULQDQ; use method='fft'")
        if method not in ("clmul", "fft"):
            raise ToeplitzInputError(f"unknown Toeplitz method {method!r} (auto, clmul, fft)")
        self.n, self.m, self.method = n, m, method
        if m == 0:
            return
        if method == "clmul":
            self._block = _block_words(n, m)
            q = 64 * self._block
            self._col_blocks, self._row_blocks = -(-n // q), -(-m // q)
            self._seed_words = _pack_words(seed, 0, (self._row_blocks + self._col_blocks)
                                           * self._block)
        else:
            self._length = fft_length(n + m - 1)
            self._bound = fft_error_bound(n, m)
            if self._bound >= MAX_FFT_ERROR:
                raise ToeplitzInputError(f"Toeplitz FFT path cannot guarantee exact rounding for "
                                         f"n={n}, m={m}; use method='clmul'")
            self._seed = seed
            self._seed_spectrum: np.ndarray | None = None
            # window sums Σ_(j<n) s[i − j + n − 1] = S[i + n] − S[i] (S the prefix sum), needed
            # modulo 4 only: the prefix sum wraps in uint8
            prefix = np.zeros(n + m, dtype=np.uint8)
            np.cumsum(seed, dtype=np.uint8, out=prefix[1:])
            self._window2 = 2 * (prefix[n : n + m] - prefix[0:m]).astype(np.int64)

    def hash(self, x: np.ndarray) -> np.ndarray:
        """y = T·x over GF(2): m bits (uint8) of an n-bit input."""
        x = _bit_array("input", x)
        if x.size != self.n:
            raise ToeplitzInputError(f"Toeplitz input has {x.size} bits, the hasher expects "
                                     f"n = {self.n}")
        if self.m == 0:
            return np.zeros(0, dtype=np.uint8)
        if self.method == "clmul":
            q = 64 * self._block
            x_words = _pack_words(x, self._col_blocks * q - self.n, self._col_blocks * self._block)
            out = _hash_words(self._seed_words, x_words, self._block, self._row_blocks,
                              self._col_blocks)
            return np.unpackbits(out.view(np.uint8), bitorder="little")[: self.m]
        return self._hash_fft(x)

    def _centred(self, bits: np.ndarray) -> np.ndarray:
        buf = np.zeros(self._length, dtype=np.float64)
        buf[: bits.size] = bits
        buf[: bits.size] -= 0.5
        return sfft.rfft(buf)

    def _centred_correlation(self, x: np.ndarray) -> np.ndarray:
        """4·Σ_j x'_j s'_(i−j+n−1) for all i < m, as float64 (x' = x − 1/2, s' = s − 1/2)."""
        if self._seed_spectrum is None:
            self._seed_spectrum = self._centred(self._seed)
        spec = self._centred(x)
        spec *= self._seed_spectrum
        n, m = self.n, self.m
        return 4.0 * sfft.irfft(spec, n=self._length)[n - 1 : n + m - 1]

    def _hash_fft(self, x: np.ndarray) -> np.ndarray:
        c4 = self._centred_correlation(x)
        r4 = np.rint(c4)
        worst = float(np.max(np.abs(c4 - r4), initial=0.0))
        if not worst <= self._bound:  # also catches NaN
            raise ToeplitzRoundingError(
                f"Toeplitz FFT correlation off an integer by {worst:.3g}, above the proven "
                f"bound {self._bound:.3g}: refusing a possibly wrong parity")
        const = (2 * int(x.sum(dtype=np.int64)) - self.n) % 8
        total4 = r4.astype(np.int64) + self._window2 + const
        # total4 ≡ 4·Σ x_j s_(k−j) (mod 8), a multiple of 4: bit 2 is the parity of the sum
        return ((total4 >> 2) & 1).astype(np.uint8)


def toeplitz_hash(x: np.ndarray, seed: np.ndarray, m: int, method: Method = "auto"
                  ) -> np.ndarray:
    """Toeplitz hash y = T·x over GF(2) of SPEC 7, output m bits (uint8)."""
    return ToeplitzHasher(seed, np.asarray(x).size, m, method).hash(x)


def toeplitz_hash_naive(x: np.ndarray, seed: np.ndarray, m: int) -> np.ndarray:
    """Reference O(n·m) implementation of the SPEC formula (small sizes only, for tests)."""
    x = _bit_array("input", x)
    n = x.size
    seed = _checked_seed(seed, n, m)
    i = np.arange(m)[:, None]
    j = np.arange(n)[None, :]
    T = seed[i - j + n - 1]
    return (T.astype(np.int64) @ x.astype(np.int64) % 2).astype(np.uint8)


def pack_bits(bits: np.ndarray) -> bytes:
    """Bit array to bytes, MSB-first (bit 0 = MSB of byte 0), zero-padded to a whole byte."""
    return np.packbits(np.asarray(bits, dtype=np.uint8), bitorder="big").tobytes()


def unpack_bits(data: bytes, nbits: int | None = None) -> np.ndarray:
    """Inverse of :func:`pack_bits`."""
    bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8), bitorder="big")
    return bits if nbits is None else bits[:nbits]
