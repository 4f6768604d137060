r"""CRC-32 of the privacy-amplification output (SPEC 7 "Confirmation").

Overview
--------
Both sides publish ``zlib.crc32`` of the m = ℓ + 32 output bits packed MSB first into bytes
(bit 0 = MSB of byte 0; ``models.postprocess.pipeline``) and keep the block only if the two
agree. zlib's CRC-32 is the reflected form of CRC-32/BZIP2 (the same generator 0x04C11DB7,
init and final XOR 0xFFFFFFFF): it feeds each byte least significant bit first and its
register is the bit reversal of the MSB-first register fed the same bits. Key bit k sits at bit
k % 32 of word k // 32 (:data:`rtl.distill.layouts.bit_word`), and the bits in zlib's order
7 … 0, 15 … 8, 23 … 16, 31 … 24 are the word with its bytes swapped, MSB first, so
:func:`rtl.sifting.crc_append.crc_update` (one XOR network per word) runs on the byte-swapped
word and the result is the register reversed, XORed with 0xFFFFFFFF.

Latency, throughput
-------------------
One word per cycle; the result one cycle after the key's last word (``i.ready`` low only while
a result waits for ``o.ready``).

Stream contract
---------------
``i``: the key's m / 32 words (m is a multiple of 32: ℓ is a multiple of 128), ``last`` on the
final one; ``o``: one :data:`rtl.distill.layouts.CrcResult` per key (its CRC and word count).
"""

from amaranth.hdl import Cat, Module, Signal, Value
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from models.sifting.messages import CRC_INIT, CRC_XOROUT
from rtl.common.streams import output_register
from rtl.distill.layouts import CrcResult, bit_word
from rtl.sifting.crc_append import crc_update

WORD = 32


def byte_swap(word: Value) -> Value:
    return Cat(*(word.word_select(3 - k, 8) for k in range(4)))


def reverse(value: Value) -> Value:
    return Cat(*(value[len(value) - 1 - k] for k in range(len(value))))


class ConfirmCrc(wiring.Component):
    """zlib CRC-32 of each key on ``i`` (module docstring: latency, contract).

    Members
    -------
    i : In(stream.Signature(bit_word(32)))
        Key words, ``last`` on each key's final word.
    o : Out(stream.Signature(CrcResult))
        One result per key.
    """

    i: In(stream.Signature(bit_word(WORD)))
    o: Out(stream.Signature(CrcResult))

    def elaborate(self, platform):
        m = Module()
        crc = Signal(WORD, init=CRC_INIT)
        words = Signal(24)
        can_load = output_register(m, self.o)
        m.d.comb += self.i.ready.eq(can_load)
        state = Signal(WORD)  # a signal, so that its bit reversal reads one net per bit
        m.d.comb += state.eq(crc_update(byte_swap(self.i.payload.data), crc))
        with m.If(self.i.valid & can_load):
            with m.If(self.i.payload.last):
                m.d.sync += [
                    self.o.valid.eq(1),
                    self.o.payload.crc.eq(reverse(state) ^ CRC_XOROUT),
                    self.o.payload.words.eq(words + 1),
                    crc.eq(CRC_INIT),
                    words.eq(0),
                ]
            with m.Else():
                m.d.sync += [crc.eq(state), words.eq(words + 1)]
        return m
