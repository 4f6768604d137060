"""Test bodies of the tops' shared blocks, each run in Amaranth's simulator and through cocotb
(:mod:`tb.dual`)."""

from __future__ import annotations

from tb.dual import Bench

#: Fabric cycles the processor holds each level of a register pin (``rtl.tops.csr``: >= 4).
PIN_HOLD = 4


async def _pulse(bench: Bench, pin: str) -> None:
    bench.set(pin, 1)
    await bench.ticks(PIN_HOLD)
    bench.set(pin, 0)
    await bench.ticks(PIN_HOLD)


async def csr_edges(bench: Bench) -> None:
    """SerialRegisters through its four pins, one case after a reset each: ``writes`` and
    ``reads`` (``[[name, width], ...]`` in chain order), ``cases`` (each ``name``; ``reads``:
    the values on the read fields; ``shift``: the bits sent on ``csr_in``, first first, with a
    ``csr_load`` before them (capturing the reads) and after them (writing the chain);
    ``before``: the write fields stated after reset; ``want``: the write fields stated after the
    second load; ``out``: the bits stated on ``csr_out`` before each shift)."""
    p = bench.params
    # Icarus passes a synchroniser's initial 0 on through its output port only once the flop
    # changes: until each pin has been high once, the edge detector reads Z and misses the
    # first edge. A real processor's pins have long toggled; the reset below clears the chains.
    for pin in ("csr_clk", "csr_in", "csr_load"):
        await _pulse(bench, pin)
    for case in p["cases"]:
        name = case["name"]
        await bench.reset()
        await bench.ticks(PIN_HOLD)
        fields = {f"w_{field}": bench.get(f"w_{field}") for field, _ in p["writes"]}
        assert fields == {f"w_{k}": v for k, v in case["before"].items()}, f"{name}: {fields}"
        for field, _ in p["reads"]:
            bench.set(f"r_{field}", case["reads"][field])
        await _pulse(bench, "csr_load")
        out = []
        for bit in case["shift"]:
            bench.set("csr_in", bit)
            await bench.ticks(PIN_HOLD)
            out.append(bench.get("csr_out"))
            await _pulse(bench, "csr_clk")
        assert out == case["out"], f"{name}: csr_out {out}, want {case['out']}"
        await _pulse(bench, "csr_load")
        fields = {f"w_{field}": bench.get(f"w_{field}") for field, _ in p["writes"]}
        assert fields == {f"w_{k}": v for k, v in case["want"].items()}, f"{name}: {fields}"
