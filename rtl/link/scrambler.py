"""The ``x^58 + x^39 + 1`` self-synchronous scrambler, one 32-bit block body per cycle.

Both functions give ``(output body, next history)`` as expressions for the caller to register;
the history is the 58 scrambled bits before the body, bit 0 the oldest
(:mod:`models.link.line_code`). The taps of a whole body fall inside the history (39 > 32),
so a body is a layer of 3-input XORs: no bit of the body depends on another.
"""

from amaranth.hdl import Cat, Value

from models.link.line_code import BODY_BITS, HISTORY_BITS, SCRAMBLER_TAPS

_NEAR = HISTORY_BITS - SCRAMBLER_TAPS[0]


def _taps(history: Value) -> Value:
    return history[_NEAR:_NEAR + BODY_BITS] ^ history[:BODY_BITS]


def scramble(body: Value, history: Value) -> tuple[Value, Value]:
    """Scrambled ``body`` and the history after it."""
    s = body ^ _taps(history)
    return s, Cat(history[BODY_BITS:], s)


def descramble(scrambled: Value, history: Value) -> tuple[Value, Value]:
    """Descrambled ``scrambled`` and the history after it."""
    return scrambled ^ _taps(history), Cat(history[BODY_BITS:], scrambled)
