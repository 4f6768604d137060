"""Seeded xorshift32 generator for sim-only idle and backpressure patterns."""

from amaranth.hdl import Module, Signal, Value
from amaranth.lib import wiring
from amaranth.lib.wiring import Out

from models.patterns import xorshift32_seed

PROBABILITY_BITS = 10  # rates are given in units of 1/1024


def validate_rate(name: str, per_1024: int) -> None:
    """Reject a rate outside 0..1024 (units of 1/1024) with a message naming the parameter."""
    if not 0 <= per_1024 <= 1 << PROBABILITY_BITS:
        raise ValueError(f"{name}={per_1024} must be within 0..1024 (units of 1/1024)")


class Xorshift32(wiring.Component):
    """Marsaglia's xorshift32 (13, 17, 5): a new 32-bit ``value`` every cycle.

    ``value`` is the state itself, so two instances with different seeds give independent-enough
    patterns for stream idle and stall decisions (not for cryptography). Latency none: ``value``
    is the register. Golden model: :func:`models.patterns.xorshift32`.

    Members
    -------
    value : Out(32)
        The generator state.
    """

    value: Out(32)

    def __init__(self, seed: int) -> None:
        self._seed = xorshift32_seed(seed)
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        state = Signal(32, init=self._seed)
        a = Signal(32)
        b = Signal(32)
        m.d.comb += [
            a.eq(state ^ state.shift_left(13)[:32]),
            b.eq(a ^ a.shift_right(17)),
            self.value.eq(state),
        ]
        m.d.sync += state.eq(b ^ b.shift_left(5)[:32])
        return m


def happens(random_value: Value, per_1024: int, name: str = "rate") -> Value:
    """True in a fraction ``per_1024``/1024 of cycles, decided from the low bits of a xorshift."""
    validate_rate(name, per_1024)
    return random_value[:PROBABILITY_BITS] < per_1024
