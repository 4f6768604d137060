"""cocotb run of the Toeplitz engine over whole flight-size blocks (``sim/bench_toeplitz.py``).

Per block of ``params["sizes"]`` (n, m): random input and seed, streamed in at one word of each
per cycle with the key always taken, so the cycles are the engine's own (its load and compute,
block RAM answering every cycle). The clock runs inside the simulator
(``tb.runner.run_cocotb(internal_clock_ps=...)``); Python wakes per cycle only while loading
and while key words come out, and between passes waits for ``key`` or ``status``. Every key
word is compared with :func:`models.postprocess.toeplitz.toeplitz_hash`. Figures per block
(cycles from the job's acceptance to the status, key words, mismatches) go to :data:`FIGURES`
in the build directory.
"""

from __future__ import annotations

import json
from pathlib import Path

import cocotb
import numpy as np
from cocotb.triggers import First, ReadOnly, RisingEdge

from models.postprocess.toeplitz import toeplitz_hash
from rtl.common.payload import pack, unpack
from rtl.distill.toeplitz_layouts import PaStatus, PaStatusLayout, pa_job
from tb.distill.toeplitz_stim import bit_words, pattern_bits
from tb.testbench import TB

FIGURES = "toeplitz_figures.json"


async def _load(tb: TB, job: int, streams: dict[str, list[int]]) -> int:
    """Offer the job and both streams from the next edge on, every cycle; return the cycle of
    the job's acceptance once both streams are sent."""
    dut = tb.dut
    left = {"job": [job], **{name: list(words) for name, words in streams.items()}}
    handles = {name: (getattr(dut, f"{name}__valid"), getattr(dut, f"{name}__ready"),
                      getattr(dut, f"{name}__payload")) for name in left}
    pos = dict.fromkeys(left, 0)
    for name, (valid, _, payload) in handles.items():
        payload.value = left[name][0]
        valid.value = 1
    start = -1
    while any(pos[name] < len(left[name]) for name in left):
        await ReadOnly()
        took = [name for name, (valid, ready, _) in handles.items()
                if pos[name] < len(left[name]) and int(ready.value)]
        await RisingEdge(tb.clk)
        for name in took:
            if name == "job":
                start = tb.cycle()
            pos[name] += 1
            valid, _, payload = handles[name]
            if pos[name] < len(left[name]):
                payload.value = left[name][pos[name]]
            else:
                valid.value = 0
    return start


async def _collect(tb: TB) -> tuple[list[int], int, int]:
    """Key words until the status; return them, the status and the status's cycle."""
    dut = tb.dut
    dut.key__ready.value = 1
    dut.status__ready.value = 1
    words: list[int] = []
    while True:
        await ReadOnly()
        if int(dut.status__valid.value):
            status = unpack(PaStatusLayout, int(dut.status__payload.value))["status"]
            end = tb.cycle()
            await RisingEdge(tb.clk)
            return words, status, end
        if int(dut.key__valid.value):
            words.append(int(dut.key__payload.value))
            await RisingEdge(tb.clk)
        else:
            # both are registered: they rise right after a clock edge
            await First(RisingEdge(dut.key__valid), RisingEdge(dut.status__valid))


@cocotb.test()
async def toeplitz_flight_blocks(dut) -> None:
    """Every block of ``params["sizes"]`` bit-exact, its cycles recorded."""
    tb = TB(dut, clock_ps=None)  # the clock runs inside the simulator
    width, sizes = tb.params["width"], tb.params["sizes"]
    rng = np.random.default_rng(tb.params.get("seed", 0))
    layout = pa_job(tb.params["n_bits"], tb.params["m_bits"])
    await tb.reset()
    figures = []
    for n, m in sizes:
        x = pattern_bits("random", n, rng)
        seed = pattern_bits("random", n + m - 1, rng)
        want = bit_words(toeplitz_hash(x, seed, m), width)
        streams = {"x": bit_words(x, width), "seed": bit_words(seed, width)}
        loaded = cocotb.start_soon(_load(tb, pack(layout, {"n": n, "m": m}), streams))
        words, status, end = await _collect(tb)
        start = await loaded
        mismatches = sum(a != b for a, b in zip(words, want, strict=False))
        mismatches += abs(len(words) - len(want))
        figures.append({"n": n, "m": m, "cycles": end - start, "key_words": len(words),
                        "status": status, "mismatches": mismatches})
        tb.log.info("block n=%d m=%d: %d cycles, %d mismatches", n, m, end - start, mismatches)
        assert status == PaStatus.OK.value, f"block n={n} m={m} ended with status {status}"
        assert mismatches == 0, f"block n={n} m={m}: {mismatches} key words differ"
    Path(FIGURES).write_text(json.dumps(figures, indent=1))
