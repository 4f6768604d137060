"""The flight Toeplitz engine's cocotb run over whole blocks, shared by the tests and
``sim/bench_toeplitz.py``; the engine on the DRAM port model."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from amaranth.hdl import Module
from amaranth.lib import wiring

from models.constants import FABRIC_CLOCK_PS
from rtl.common.forward import forward_member
from rtl.distill.toeplitz import ToeplitzEngine, ToeplitzOnChip
from rtl.memory.layouts import WORD_BITS
from rtl.simonly.dram_port_model import DramPortModel
from tb.distill.cocotb_toeplitz import FIGURES
from tb.runner import run_cocotb


def key_bits_for(n: int) -> int:
    """Output length m of an n-bit block in the runs: a quarter of the block as a whole number
    of 128-bit key blocks (SPEC 7's ℓ), plus the confirmation CRC's 32 bits: above the Table 1
    passes' final key, 0.10 to 0.22 of their sifted bits (the engine's time grows with m)."""
    return 128 * (n // 4 // 128) + 32


def run_flight_blocks(simulator: str, case: str, sizes: Sequence[tuple[int, int]],
                      seed: int = 1, **engine_options: int) -> list[dict]:
    """Run :mod:`tb.distill.cocotb_toeplitz` on :class:`ToeplitzOnChip` (the flight engine
    unless ``engine_options`` say otherwise, memories sized for the largest block) and return
    its figures per block."""
    n_max = max(n for n, _ in sizes)
    m_max = max(m for _, m in sizes)
    dut = ToeplitzOnChip(n_max=n_max, m_max=m_max, **engine_options)
    eng = dut.engine
    build = run_cocotb(dut, "tb.distill.cocotb_toeplitz", simulator, case=case,
                       params={"seed": seed, "width": eng.width, "sizes": [list(s) for s in sizes],
                               "n_bits": len(eng.job.payload.n),
                               "m_bits": len(eng.job.payload.m)},
                       internal_clock_ps=FABRIC_CLOCK_PS)
    return json.loads((Path(build) / FIGURES).read_text())


class ToeplitzOnDramModel(wiring.Component):
    """A 128-bit engine (its word ports are LiteDRAM's native ports) on the behavioural DRAM
    port model (:class:`rtl.simonly.dram_port_model.DramPortModel`: read latency 20, refresh
    stalls, the two ports taking turns), input and seed in one address space. Members: the
    engine's streams."""

    _STREAMS = ("job", "x", "seed", "key", "status")

    def __init__(self, *, n_max: int, m_max: int) -> None:
        probe = ToeplitzEngine(width=WORD_BITS, window=WORD_BITS, n_max=n_max, m_max=m_max)
        self.engine = ToeplitzEngine(width=WORD_BITS, window=WORD_BITS, n_max=n_max,
                                     m_max=m_max, s_base=probe.x_words)
        self._words = 1 << (probe.x_words + probe.s_words - 1).bit_length()
        super().__init__({name: self.engine.signature.members[name] for name in self._STREAMS})

    def elaborate(self, platform):
        m = Module()
        eng = self.engine
        m.submodules.engine = eng
        m.submodules.dram = dram = DramPortModel(eng.addr_bits, ports=2, words=self._words)
        wiring.connect(m, eng.xmem, dram.port0)
        wiring.connect(m, eng.smem, dram.port1)
        for name in self._STREAMS:
            forward_member(m, self, eng, name)
        return m
