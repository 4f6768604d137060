"""Synthesis tops of the distillation blocks (``python -m sim.synth NAME``, out of context).

* ``distill_syndrome``: the syndrome encoder (16-bit words) with the one-way codes of a
  100 kbit packet at 1, 2 and 4 % sampled QBER (:data:`SYNTH_QBERS`, the rates
  :func:`rtl.distill.codes.rate_index` picks there), one circulant ROM each;
* ``distill_auth``: the Wegman-Carter engine (8-bit multiplier digits) and the confirmation CRC;
* ``distill_toeplitz``: the flight Toeplitz engine (16 input bits a cycle, 1024 accumulators,
  blocks up to 900 kbit into 450 kbit), its two word ports as the top's ports (the memory behind
  them, block RAM or DRAM, is not part of it).

All are block tops (``BLOCK_TOPS``): they run when named, on the LFE5U-45F of the flight
board.
"""

from collections.abc import Callable

from amaranth.hdl import Module
from amaranth.lib import wiring

from models.postprocess import ec
from rtl.distill.auth import WegmanCarter
from rtl.distill.codes import code_table
from rtl.distill.confirm import ConfirmCrc
from rtl.distill.syndrome import SyndromeEncoder
from rtl.distill.toeplitz import ToeplitzEngine

SYNTH_WIDTH = 16
SYNTH_MS = (11264, 18944, 31744)  # the model's one-way m at 1, 2 and 4 % QBER (8000-bit sample)


def flight_encoder() -> SyndromeEncoder:
    return SyndromeEncoder([code_table(ec.CODEWORD_BITS, m, SYNTH_WIDTH) for m in SYNTH_MS],
                           SYNTH_WIDTH)


class AuthTop(wiring.Component):
    """The Wegman-Carter engine and the confirmation CRC side by side (their ports as theirs)."""

    def __init__(self) -> None:
        self._auth = WegmanCarter()
        self._crc = ConfirmCrc()
        members = {f"auth_{k}": v for k, v in self._auth.signature.members.items()}
        members |= {f"crc_{k}": v for k, v in self._crc.signature.members.items()}
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        m.submodules.auth = self._auth
        m.submodules.crc = self._crc
        for prefix, block in (("auth_", self._auth), ("crc_", self._crc)):
            for name, member in block.signature.members.items():
                inner, outer = getattr(block, name), getattr(self, prefix + name)
                if member.is_signature:
                    if member.flow == wiring.In:
                        wiring.connect(m, wiring.flipped(outer), inner)
                    else:
                        wiring.connect(m, inner, wiring.flipped(outer))
                else:
                    m.d.comb += outer.eq(inner)
        return m


BLOCK_TOPS: dict[str, Callable[[], wiring.Component]] = {
    "distill_syndrome": flight_encoder,
    "distill_auth": AuthTop,
    "distill_toeplitz": ToeplitzEngine,
}
SYNTH_DEVICES: dict[str, str] = dict.fromkeys(BLOCK_TOPS, "LFE5U-45F-8")
