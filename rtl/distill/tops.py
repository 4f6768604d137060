"""Synthesis tops of on-board key distillation (``python -m sim.synth distill_toeplitz``).

``distill_toeplitz``: the flight Toeplitz engine (16 input bits a cycle, 1024 accumulators,
blocks up to 900 kbit into 450 kbit) out of context, its two word ports as the top's ports (the
memory behind them, block RAM or DRAM, is not part of it). A block top: it runs only when
named."""

from collections.abc import Callable

from amaranth.lib import wiring

from rtl.distill.toeplitz import ToeplitzEngine

SYNTH_TOPS: dict[str, Callable[[], wiring.Component]] = {}
BLOCK_TOPS: dict[str, Callable[[], wiring.Component]] = {"distill_toeplitz": ToeplitzEngine}
SYNTH_DEVICES: dict[str, str] = {"distill_toeplitz": "LFE5U-45F-8"}
