r"""Counter-based QRNG source (SPEC 3.1), simulation only: the RTL twin of :mod:`models.qrng`.

A real-time source: the beat of cycle ``c`` after reset holds the words of pulses
``lanes * c + k`` (lane ``k``), the low half of ``splitmix64(seed + n * GOLDEN_GAMMA)``,
bit-identical to :func:`models.qrng.qrng_words`, and the words of a cycle in which the source
is idle are lost, as a physical QRNG's samples are when nobody takes them. The transmitter sends
the beat of cycle ``c`` as its beat ``c`` (:mod:`models.transmitter`), so pulse ``n``'s symbol
stays a pure function of ``(seed, n)``. From beat ``fault_from`` on, the ``fault`` input
switches the words to a stuck value or to a biased source (:func:`models.qrng.source_words`),
which is how tests drive the health alarms.

Stream contract: ``o.valid`` depends on the cycle only (not on ``o.ready``, which the
transmitter always asserts); with ``idle_per_1024`` the source is idle in that fraction of
cycles (seeded xorshift, :func:`models.qrng.qrng_offered`), otherwise it offers a beat every
cycle. Throughput: ``lanes`` words per cycle.
"""

from amaranth.hdl import Cat, Module, Mux, Signal, Value
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from models.constants import LANES
from models.qrng import (
    FAULT_BIASED,
    FAULT_STUCK,
    GOLDEN_GAMMA,
    MASK64,
    MIX1,
    MIX2,
    SOURCE_IDLE_SEED_XOR,
    STUCK_WORD,
)
from rtl.satellite.layouts import qrng_beat
from rtl.simonly.xorshift import Xorshift32, happens, validate_rate


def mul_low64(x: Value, constant: int) -> Value:
    """Low 64 bits of ``x * constant`` from 32x32-bit partial products.

    Same value as ``(x * constant)[:64]``, but no intermediate is wider than 64 bits, so Verilator
    uses native 64-bit arithmetic instead of its multi-word routines (5x faster simulation).
    """
    a_lo, a_hi = x[:32], x[32:64]
    c_lo, c_hi = constant & 0xFFFF_FFFF, (constant >> 32) & 0xFFFF_FFFF
    low = a_lo * c_lo
    cross = (a_hi * c_lo)[:32] + (a_lo * c_hi)[:32]
    return Cat(low[:32], (low[32:] + cross)[:32])


def add_low64(x: Value, constant: int) -> Value:
    """``(x + constant) mod 2**64``, carried between two 32-bit halves (no 65-bit intermediate)."""
    low = x[:32] + (constant & 0xFFFF_FFFF)
    high = (x[32:64] + ((constant >> 32) & 0xFFFF_FFFF) + low[32])[:32]
    return Cat(low[:32], high)


def splitmix64(x: Value) -> Value:
    """splitmix64 finaliser of a 64-bit value, wrapping like :func:`models.qrng.splitmix64`."""
    z = x ^ x.shift_right(30)
    z = mul_low64(z, MIX1)
    z = z ^ z.shift_right(27)
    z = mul_low64(z, MIX2)
    return z ^ z.shift_right(31)


class CounterQrngSource(wiring.Component):
    """Counter-based QRNG source, bit-identical to :func:`models.qrng.qrng_words`.

    Throughput ``lanes`` words per cycle (none in ``idle_per_1024`` of cycles); ``o.valid``
    independent of ``o.ready``.

    Members
    -------
    o : Out(stream.Signature(qrng_beat(lanes)))
        QRNG beats, lane k of cycle c holding pulse ``lanes * c + k``'s word.
    fault : In(2), fault_from : In(32)
        Stuck or biased words instead, from beat ``fault_from`` on (drives the health alarms).
    """

    def __init__(self, seed: int, lanes: int = LANES, idle_per_1024: int = 0) -> None:
        self._seed = seed & MASK64
        self._lanes = lanes
        self._idle = idle_per_1024
        self.random = Xorshift32(seed ^ SOURCE_IDLE_SEED_XOR)
        validate_rate("idle_per_1024", idle_per_1024)
        super().__init__({
            "o": Out(stream.Signature(qrng_beat(lanes))),
            "fault": In(2),
            "fault_from": In(32),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.random = self.random
        # Lane k's splitmix state seed + n * GOLDEN_GAMMA advances by lanes * GOLDEN_GAMMA per
        # cycle, taken or not (a real-time source).
        step = (self._lanes * GOLDEN_GAMMA) & MASK64
        beat = Signal(32)
        m.d.sync += beat.eq(beat + 1)
        fault = Mux(beat >= self.fault_from, self.fault, 0)
        for lane in range(self._lanes):
            first = (self._seed + lane * GOLDEN_GAMMA) & MASK64
            state = Signal(64, name=f"state{lane}", init=first)
            m.d.sync += state.eq(add_low64(state, step))
            h = Signal(64, name=f"hash{lane}")
            m.d.comb += h.eq(splitmix64(state))
            word = Mux(fault == FAULT_STUCK, STUCK_WORD,
                       Mux(fault == FAULT_BIASED, h[:32] & h[32:], h[:32]))
            m.d.comb += self.o.payload[lane].eq(word)
        m.d.comb += self.o.valid.eq(~happens(self.random.value, self._idle))
        return m
