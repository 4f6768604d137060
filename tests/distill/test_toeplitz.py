"""Toeplitz privacy-amplification engine (rtl/distill/toeplitz.py) against
models/postprocess/toeplitz.py: scaled-down engines (8-bit words, 16 accumulators) on every back
end, a 100 kbit block in Verilator, the engine on the DRAM port model, and bad input."""

from dataclasses import asdict

import pytest

from rtl.distill.toeplitz import WIDTH, ToeplitzEngine, ToeplitzOnChip
from rtl.distill.toeplitz_layouts import PaStatus
from tb.distill.toeplitz_bodies import toeplitz_body
from tb.distill.toeplitz_harness import ToeplitzOnDramModel, key_bits_for, run_flight_blocks
from tb.distill.toeplitz_stim import PaBlock
from tb.dual import backend_params, run_body

SMALL = {"width": 8, "window": 16, "n_max": 300, "m_max": 100, "read_depth": 4}

# Edge sizes: one bit; one word against one window; one bit more of each; the largest block;
# n not a multiple of the word, m not a multiple of the window; the fill patterns.
EDGES = [PaBlock(37, 21), PaBlock(1, 1), PaBlock(8, 16, "ones"), PaBlock(9, 17, "ones"),
         PaBlock(300, 100, "runs"), PaBlock(300, 100, "zeros"), PaBlock(64, 3, "ones"),
         PaBlock(2, 100, "runs")]
# Bad input, each followed by nothing special: every block after a fault must still be exact.
FAULTS = [PaBlock(40, 20, x_words=-1), PaBlock(40, 20, x_words=1), PaBlock(33, 18),
          PaBlock(40, 20, seed_words=-1), PaBlock(40, 20, seed_words=2),
          PaBlock(301, 10, refused=True), PaBlock(10, 101, refused=True),
          PaBlock(5, 0, refused=True), PaBlock(16, 16, "runs")]
SHORT = [PaBlock(37, 21), PaBlock(9, 17, "ones"), PaBlock(40, 20, x_words=-1),
         PaBlock(40, 20, seed_words=1), PaBlock(301, 10, refused=True), PaBlock(70, 33)]


def _params(engine: ToeplitzEngine, blocks: list[PaBlock], **extra) -> dict:
    return {"width": engine.width, "n_bits": len(engine.job.payload.n),
            "m_bits": len(engine.job.payload.m), "blocks": [asdict(b) for b in blocks],
            **extra}


@pytest.mark.parametrize("backend", [
    b if b.values[0] != "verilator" else pytest.param("verilator", marks=(pytest.mark.cocotb,
                                                                            pytest.mark.slow))
    for b in backend_params()])
def test_toeplitz_blocks(backend):
    """Edge sizes, patterns and faults (pysim); a shorter list on Icarus (and Verilator in
    ``make test-slow``: the 100 kbit case covers the Verilator build in ``make test``)."""
    dut = ToeplitzOnChip(**SMALL)
    blocks = EDGES + FAULTS if backend == "pysim" else SHORT
    run_body(backend, dut, toeplitz_body, case=f"toeplitz_small_{backend}",
             params=_params(dut.engine, blocks, idle=0.2, stall=0.3, seed=5))


def test_toeplitz_full_rate_and_deep_reads():
    """No idle, no stall; a read queue deeper than needed; a window of 4 words; a reset in the
    middle of a block's hash (after its first key word) leaves no trace in the next blocks."""
    cfg = SMALL | {"window": 32, "read_depth": 8}
    dut = ToeplitzOnChip(**cfg)
    blocks = [PaBlock(300, 100), PaBlock(129, 33, "runs"), PaBlock(1, 64)]
    run_body("pysim", dut, toeplitz_body, case="toeplitz_wide",
             params=_params(dut.engine, blocks, seed=6,
                            interrupted={"n": 200, "m": 90, "pattern": "ones"}))


def test_toeplitz_on_dram_port_model():
    """128-bit words on LiteDRAM's native-port rules: read latency 20, refresh stalls, two
    ports taking turns; the read credits must keep every word."""
    dut = ToeplitzOnDramModel(n_max=2000, m_max=300)
    blocks = [PaBlock(2000, 300), PaBlock(129, 129, "runs"), PaBlock(1000, 5, seed_words=1),
              PaBlock(700, 256, "ones")]
    run_body("pysim", dut, toeplitz_body, case="toeplitz_dram",
             params=_params(dut.engine, blocks, idle=0.1, stall=0.2, seed=8))


@pytest.mark.cocotb
def test_toeplitz_100kbit_verilator():
    """A 100 kbit block into ``key_bits_for(100_000)`` bits on 16-bit words and 256
    accumulators (the flight engine's 1024 take four times the Verilator build; ``make bench``
    runs them), every key word against the model, at the cycle count of the docstring's formula
    (load, then per pass the window, the steps and the key words, plus the first read's
    latency)."""
    n, window = 100_000, 256
    m = key_bits_for(n)
    (fig,) = run_flight_blocks("verilator", "toeplitz_100kbit", [(n, m)], seed=7, window=window)
    assert fig["status"] == PaStatus.OK.value and fig["mismatches"] == 0
    assert fig["key_words"] == -(-m // WIDTH)
    passes, words = -(-m // window), -(-n // WIDTH)
    formula = -(-(n + m - 1) // WIDTH) + passes * (words + 2 * window // WIDTH + 2)
    assert formula <= fig["cycles"] <= formula + 8


@pytest.mark.parametrize("options", [{"width": 12}, {"width": 4}, {"window": 4},
                                     {"window": 48}])
def test_bad_geometry_is_refused(options):
    with pytest.raises(ValueError, match="power-of-two width"):
        ToeplitzEngine(**(SMALL | options))
