"""The control processor's side of ``ground_rx`` in the Amaranth simulator: histogram access
and the calibration step of :mod:`models.ground.calibration` (register map in
:mod:`rtl.ground.tops`)."""

from __future__ import annotations

from typing import Any

from models.ground.calibration import BINS, CAL_GATE_HALF, delta_from_histogram
from tb import pysim

# cycles for the last pending detections to leave the indexer and reach the histogram
# (256 pending x 17 cycles, with margin)
SETTLE_CYCLES = 5_000
# a clear writes every bin once, one per cycle
CLEAR_CYCLES = BINS + 16


async def clear_histogram(ctx: Any, dut: Any) -> None:
    ctx.set(dut.hist_clear, 1)
    await ctx.tick()
    ctx.set(dut.hist_clear, 0)
    await pysim.wait_until(ctx, ~dut.hist_busy, CLEAR_CYCLES, "histogram clear (hist_busy low)")


async def read_bins(ctx: Any, addr: Any, data: Any) -> list[int]:
    """Every bin of a histogram read through its ``addr``/``data`` port (one cycle of read
    latency per bin)."""
    bins = []
    for a in range(BINS):
        ctx.set(addr, a)
        await ctx.tick()
        bins.append(ctx.get(data))
    return bins


async def read_histogram(ctx: Any, dut: Any) -> list[int]:
    return await read_bins(ctx, dut.hist_addr, dut.hist_data)


async def calibrate(ctx: Any, dut: Any, tags: list[int], nominal_ps: float = 5_000.0,
                    min_counts: int = 500, gate_half: int = 400) -> tuple[int, list[int]]:
    """Calibration step on ``dut`` (a :class:`rtl.ground.tops.GroundRx`): ``delta = 0`` and a
    whole-period gate, clear, stream ``tags`` (flattened), read the bins, write the found
    ``delta`` and the operating ``gate_half``. The detections must be drained meanwhile.
    Returns ``(delta, bins)``."""
    ctx.set(dut.delta, 0)
    ctx.set(dut.gate_half, CAL_GATE_HALF)
    await clear_histogram(ctx, dut)
    for tag in tags:
        await pysim.stream_put(ctx, dut.tags, tag)
    await ctx.tick().repeat(SETTLE_CYCLES)
    bins = await read_histogram(ctx, dut)
    delta = delta_from_histogram(bins, nominal_ps, min_counts)
    ctx.set(dut.delta, delta)
    ctx.set(dut.gate_half, gate_half)
    return delta, bins
