r"""Wegman-Carter tag generator and checker of the post-processing messages (SPEC 7,
``models.postprocess.auth``).

Overview
--------
:class:`WegmanCarter` computes, for each message M (bytes), the model's tag
``(P_k(M) + r) mod p``, p = 2^127 − 1: P_k the polynomial hash over GF(p) of the message's
15-byte big-endian blocks (the last zero-padded) and a final block holding the byte length,
evaluated by Horner's rule (``acc = (acc + block) · k``); k the hash key, the first 128 bits
of the key pool, taken at the first message and kept; r the one-time pad, the next 128 bits of
the pool for every message. Key consumption is the model's: 128 bits once, 128 per tag, counted
in ``consumed`` as :attr:`models.postprocess.auth.KeyPool.consumed_bits`.

Arithmetic: the multiplier takes the key ``digit`` bits per cycle, most significant first:
``t ← fold(t · 2^digit + a · k_i)`` with ``fold(x) = (x mod 2^127) + (x div 2^127)``
(2^127 ≡ 1 mod p). Operands stay below 2^128, congruent mod p to the model's residues, and
only the tag is fully reduced (one fold and one conditional subtraction of p), so neither k
nor r needs a reduction of its own.

Latency, throughput
-------------------
Per 15-byte block: 15 byte cycles (one byte per cycle on ``msg``), up to 14 alignment cycles
for a final short block, then 128/digit multiply cycles (``msg.ready`` low meanwhile); per
message one more multiplication (the length block), 2 cycles for the tag, 1 for the result,
plus 4 key-word cycles per tag (8 at the first): 15 bytes per 33 cycles at ``digit`` = 8.

Stream contract
---------------
Per message, one ``cmd`` beat (sign, or verify against ``tag``), then the message's bytes on
``msg`` (at least one, ``last`` on the final byte), and one ``o`` beat: the tag (sign, ``OK``)
or the check's outcome (``OK`` / ``MISMATCH``, tag zero). ``key`` delivers the pool, 32 bits
a word, ``last`` on its final word. A pool that ends before a hash key or pad is complete
makes this and every later message ``KEY_EXHAUSTED`` (the model raises
:class:`models.postprocess.auth.AuthKeyExhaustedError`): the message is consumed, no tag.
"""

from amaranth.hdl import Cat, Module, Mux, Signal, Value
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from models.postprocess.auth import BLOCK_BYTES, PRIME, TAG_KEY_BITS
from rtl.distill.layouts import (
    PAD_WORDS,
    TAG_BITS,
    AuthCommand,
    AuthResult,
    AuthStatus,
    KeyWord,
    MessageByte,
)

WIDE = TAG_KEY_BITS  # operands are kept below 2^128


def fold(x: Value) -> Value:
    """x mod 2^127 plus x div 2^127: congruent to x mod 2^127 − 1."""
    return x[:TAG_BITS] + x[TAG_BITS:]


class WegmanCarter(wiring.Component):
    """Wegman-Carter signer and checker (module docstring: latency, throughput, contract).

    Members
    -------
    cmd : In(stream.Signature(AuthCommand))
        One per message: sign or verify.
    msg : In(stream.Signature(MessageByte))
        Message bytes.
    key : In(stream.Signature(KeyWord))
        The key pool, MSB first.
    o : Out(stream.Signature(AuthResult))
        One per message.
    consumed : Out(32)
        Key pool bits taken (hash key and pads), as the model counts them.
    """

    cmd: In(stream.Signature(AuthCommand))
    msg: In(stream.Signature(MessageByte))
    key: In(stream.Signature(KeyWord))
    o: Out(stream.Signature(AuthResult))
    consumed: Out(32)

    def __init__(self, digit: int = 8) -> None:
        if digit < 1 or WIDE % digit:
            raise ValueError(f"multiplier digit {digit} must divide {WIDE}")
        self.digit = digit
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        d = self.digit
        digits = WIDE // d
        verify = Signal()
        expected = Signal(TAG_BITS)
        hash_key = Signal(WIDE)
        have_key = Signal()
        pad = Signal(WIDE)
        key_words = Signal(range(PAD_WORDS))
        pool_ended = Signal()  # the pool's last word was taken
        dead = Signal()  # the pool ran out: no more tags
        block = Signal(8 * BLOCK_BYTES)
        in_block = Signal(range(BLOCK_BYTES + 1))
        length = Signal(32)
        closing = Signal()  # the message's last byte is in
        length_pass = Signal()  # multiplying the length block
        acc = Signal(WIDE)
        a = Signal(WIDE)
        t = Signal(WIDE)
        step = Signal(range(digits))
        key_digits = Signal(WIDE)  # the hash key, shifted up one digit per cycle
        y = Signal(WIDE)
        status = Signal(AuthStatus)

        m.d.comb += [self.o.payload.status.eq(status),
                     self.o.payload.tag.eq(y)]
        key_word = self.key.payload.data

        def take_key(target: Signal, done_state: str) -> None:
            """Shift pool words into ``target``; 128 bits complete go to ``done_state``."""
            with m.If(pool_ended):
                m.d.sync += [dead.eq(1), status.eq(AuthStatus.KEY_EXHAUSTED)]
                m.next = "DRAIN"
            with m.Else():
                m.d.comb += self.key.ready.eq(1)
                with m.If(self.key.valid):
                    m.d.sync += [target.eq(Cat(key_word, target[:WIDE - 32])),
                                 key_words.eq(key_words + 1),
                                 pool_ended.eq(self.key.payload.last)]
                    with m.If(key_words == PAD_WORDS - 1):
                        m.d.sync += [key_words.eq(0), self.consumed.eq(self.consumed + WIDE)]
                        m.next = done_state

        def multiply(operand: Value) -> list:
            return [a.eq(operand), t.eq(0), step.eq(0), key_digits.eq(hash_key)]

        with m.FSM():
            with m.State("IDLE"):
                m.d.comb += self.cmd.ready.eq(1)
                with m.If(self.cmd.valid):
                    m.d.sync += [verify.eq(self.cmd.payload.verify),
                                 expected.eq(self.cmd.payload.tag), acc.eq(0), length.eq(0),
                                 block.eq(0), in_block.eq(0), closing.eq(0),
                                 length_pass.eq(0), key_words.eq(0)]
                    with m.If(dead):
                        m.d.sync += status.eq(AuthStatus.KEY_EXHAUSTED)
                        m.next = "DRAIN"
                    with m.Elif(have_key):
                        m.next = "PAD"
                    with m.Else():
                        m.next = "HASH_KEY"
            with m.State("HASH_KEY"):
                take_key(hash_key, "KEY_DONE")
            with m.State("KEY_DONE"):
                m.d.sync += have_key.eq(1)
                m.next = "PAD"
            with m.State("PAD"):
                take_key(pad, "MESSAGE")
            with m.State("MESSAGE"):
                m.d.comb += self.msg.ready.eq(1)
                with m.If(self.msg.valid):
                    m.d.sync += [block.eq(Cat(self.msg.payload.data, block[:-8])),
                                 in_block.eq(in_block + 1), length.eq(length + 1),
                                 closing.eq(self.msg.payload.last)]
                    with m.If(self.msg.payload.last | (in_block == BLOCK_BYTES - 1)):
                        m.next = "ALIGN"
            with m.State("ALIGN"):  # a short final block is zero-padded at its end
                with m.If(in_block == BLOCK_BYTES):
                    m.d.sync += [*multiply(acc + block), in_block.eq(0), block.eq(0)]
                    m.next = "MULTIPLY"
                with m.Else():
                    m.d.sync += [block.eq(block << 8), in_block.eq(in_block + 1)]
            with m.State("MULTIPLY"):
                m.d.sync += [t.eq(fold((t << d) + a * key_digits[WIDE - d:])),
                             key_digits.eq(key_digits << d), step.eq(step + 1)]
                with m.If(step == digits - 1):
                    m.next = "PRODUCT"
            with m.State("PRODUCT"):
                m.d.sync += acc.eq(t)
                with m.If(length_pass):
                    m.next = "TAG"
                with m.Elif(closing):
                    m.d.sync += [*multiply(t + length), length_pass.eq(1)]
                    m.next = "MULTIPLY"
                with m.Else():
                    m.next = "MESSAGE"
            with m.State("TAG"):
                m.d.sync += y.eq(fold(acc + pad))
                m.next = "REDUCE"
            with m.State("REDUCE"):
                tag = Mux(y >= PRIME, y - PRIME, y)[:TAG_BITS]
                with m.If(verify):
                    m.d.sync += [y.eq(0), status.eq(Mux(tag == expected, AuthStatus.OK,
                                                        AuthStatus.MISMATCH))]
                with m.Else():
                    m.d.sync += [y.eq(tag), status.eq(AuthStatus.OK)]
                m.next = "RESULT"
            with m.State("DRAIN"):  # no key: consume the message, answer without a tag
                m.d.comb += self.msg.ready.eq(1)
                m.d.sync += y.eq(0)
                with m.If(self.msg.valid & self.msg.payload.last):
                    m.next = "RESULT"
            with m.State("RESULT"):
                m.d.comb += self.o.valid.eq(1)
                with m.If(self.o.ready):
                    m.next = "IDLE"
        return m
