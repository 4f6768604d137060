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

from collections.abc import Callable, Sequence

from amaranth.hdl import Module
from amaranth.lib import wiring

from models.postprocess import ec
from rtl.common.forward import forward_member
from rtl.distill.auth import WegmanCarter
from rtl.distill.codes import CodeTable, code_table
from rtl.distill.confirm import ConfirmCrc
from rtl.distill.syndrome import SyndromeEncoder
from rtl.distill.toeplitz import ToeplitzEngine, ToeplitzOnChip

SYNTH_WIDTH = 16
SYNTH_MS = (11264, 18944, 31744)  # the model's one-way m at 1, 2 and 4 % QBER (8000-bit sample)


def flight_encoder() -> SyndromeEncoder:
    return SyndromeEncoder([code_table(ec.CODEWORD_BITS, m, SYNTH_WIDTH) for m in SYNTH_MS],
                           SYNTH_WIDTH)


class SideBySide(wiring.Component):
    """Independent blocks in one top, member ``x`` of block ``name`` as ``<name>_x`` (no logic
    between them: the controller, or the testbench, connects them)."""

    def __init__(self, blocks: dict[str, wiring.Component]) -> None:
        self._blocks = blocks
        super().__init__({f"{prefix}_{k}": v for prefix, block in blocks.items()
                          for k, v in block.signature.members.items()})

    def elaborate(self, platform):
        m = Module()
        for prefix, block in self._blocks.items():
            m.submodules[prefix] = block
            for name in block.signature.members:
                forward_member(m, self, block, name, f"{prefix}_{name}")
        return m


class AuthTop(SideBySide):
    """The Wegman-Carter engine and the confirmation CRC side by side."""

    def __init__(self) -> None:
        super().__init__({"auth": WegmanCarter(), "crc": ConfirmCrc()})


BLOCK_TOPS: dict[str, Callable[[], wiring.Component]] = {
    "distill_syndrome": flight_encoder,
    "distill_auth": AuthTop,
    "distill_toeplitz": ToeplitzEngine,
}
SYNTH_DEVICES: dict[str, str] = dict.fromkeys(BLOCK_TOPS, "LFE5U-45F-8")


KEYS_WINDOW = 256  # accumulators of the co-simulation's Toeplitz engine (a quarter of flight's)


def distill_keys(codes: Sequence[CodeTable], n_max: int, m_max: int,
                 window: int = KEYS_WINDOW) -> SideBySide:
    """The satellite's distillation engines of ``make sim``'s key run
    (:mod:`tb.distill.cocotb_keys`): the syndrome encoder with ``codes`` (``syn_*``), the
    Toeplitz engine on block RAM for blocks up to ``n_max`` → ``m_max`` bits (``pa_*``; the
    flight word width, ``window`` rows a pass: the output is the same for every window, only
    the cycles change), the confirmation CRC (``crc_*``) and the Wegman-Carter engine
    (``auth_*``). The testbench carries the key words from ``pa_key`` to ``crc_i``."""
    return SideBySide({"syn": SyndromeEncoder(codes, SYNTH_WIDTH),
                       "pa": ToeplitzOnChip(n_max=n_max, m_max=m_max, window=window),
                       "crc": ConfirmCrc(), "auth": WegmanCarter()})
