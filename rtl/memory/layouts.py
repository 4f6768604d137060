"""Payloads of LiteDRAM's native user port (:mod:`rtl.memory.litedram`), as Amaranth layouts.

A native port moves 128-bit user words (16-bit DDR3, 1:2 clock ratio, burst of 8): one command
per word, ``addr`` in words. Write data follows its command in command order (``we`` is one
byte enable per byte); read data comes back in command order and cannot be held back (LiteDRAM's
``rdata.ready`` is ignored), so a user reserves room for each read before issuing it.
"""

from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

#: Bits of one user word.
WORD_BITS = 128


def dram_cmd(addr_bits: int) -> data.StructLayout:
    """A command: ``we`` (write) and the word address."""
    return data.StructLayout({"we": 1, "addr": addr_bits})


DramWData = data.StructLayout({"data": WORD_BITS, "we": WORD_BITS // 8})
DramRData = data.StructLayout({"data": WORD_BITS})


def dram_port(addr_bits: int) -> wiring.Signature:
    """A native port seen from its user: commands and write data out, read data in."""
    return wiring.Signature({
        "cmd": Out(stream.Signature(dram_cmd(addr_bits))),
        "wdata": Out(stream.Signature(DramWData)),
        "rdata": In(stream.Signature(DramRData)),
    })
