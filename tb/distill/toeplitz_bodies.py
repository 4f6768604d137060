"""Test body of the Toeplitz engine on every back end (:mod:`tb.dual`)."""

from __future__ import annotations

from rtl.distill.layouts import bit_word
from rtl.distill.toeplitz_layouts import PaStatusLayout
from tb.distill.toeplitz_stim import PaBlock, stimulus
from tb.dual import Bench, Receive, Send


async def toeplitz_body(bench: Bench) -> None:
    """Blocks ``params["blocks"]`` (``PaBlock`` fields as dicts) through the engine with idle
    on the three inputs and backpressure on the key; every key word and status compared with
    the model. ``params``: ``width``, ``n_bits``, ``m_bits`` (job field widths), ``idle``,
    ``stall``, ``seed``, ``max_cycles``, ``interrupted`` (a block run until its first key
    word, then a reset in the middle of its hash, before the blocks)."""
    p = bench.params
    blocks = [PaBlock(**b) for b in p["blocks"]]
    io = stimulus(blocks, p["width"], p["n_bits"], p["m_bits"], p.get("seed", 0))
    await bench.reset()
    if "interrupted" in p:
        cut = stimulus([PaBlock(**p["interrupted"])], p["width"], p["n_bits"], p["m_bits"], 1)
        await bench.transfer({name: Send(cut[name]) for name in ("job", "x", "seed")},
                             {"key": Receive(1)})
        await bench.reset()
    idle, stall = p.get("idle", 0.0), p.get("stall", 0.0)
    got = await bench.transfer(
        {"job": Send(io["job"], idle=idle), "x": Send(io["x"], idle=idle),
         "seed": Send(io["seed"], idle=idle)},
        {"key": Receive(len(io["key"]), stall=stall, settle=8),
         "status": Receive(len(blocks), stall=stall, settle=8)},
        max_cycles=p.get("max_cycles", 200_000))
    bench.compare("toeplitz_key", got["key"], io["key"], layout=bit_word(p["width"]))
    bench.compare("toeplitz_status", got["status"], io["status"], layout=PaStatusLayout)
