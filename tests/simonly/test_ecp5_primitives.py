"""ECP5 DP16KD simulation model: the primitive's behaviour, and the RND cache built from it
(``RndCache(ecp5_ebr=True, ebr_model=True)``) against the inferred-Memory cache, cycle for cycle."""

import random

import pytest
from amaranth.hdl import ClockSignal, Module, Signal, Value

from rtl.satellite.rnd_cache import RndCache
from rtl.simonly.ecp5_primitives import DP16KD, DP16KD_DEPTH, PrimitiveModelError
from tb import pysim

ADDR_PINS = (DP16KD_DEPTH - 1).bit_length()


class RamHarness:
    """One DP16KD model wired as the RND cache wires it (16384 x 1, A writes, B reads)."""

    def __init__(self, regmode: str = "OUTREG") -> None:
        self.we, self.wa, self.wd = Signal(), Signal(ADDR_PINS), Signal()
        self.re, self.oce, self.ra = Signal(), Signal(), Signal(ADDR_PINS)
        self.dob = Signal()
        self.m = Module()
        self.m.submodules.ram = DP16KD(**self.ports(regmode))

    def ports(self, regmode: str, **extra: object) -> dict:
        ports = {f"i_ADA{k}": self.wa[k] for k in range(ADDR_PINS)}
        ports |= {f"i_ADB{k}": self.ra[k] for k in range(ADDR_PINS)}
        return ports | dict(
            p_DATA_WIDTH_A=1, p_DATA_WIDTH_B=1, p_REGMODE_A="NOREG", p_REGMODE_B=regmode,
            p_RESETMODE="SYNC", p_GSR="AUTO", i_CLKA=ClockSignal(), i_CLKB=ClockSignal(),
            i_CEA=self.we, i_WEA=self.we, i_DIA0=self.wd, i_CEB=self.re, i_OCEB=self.oce,
            i_WEB=0, o_DOB0=self.dob, **extra)


def run_ram(regmode: str, steps: list[dict]) -> list[int]:
    """Apply one dict of inputs per cycle; ``DOB0`` as seen after each edge."""
    h = RamHarness(regmode)
    seen: list[int] = []

    async def bench(ctx) -> None:
        for step in steps:
            for name in ("we", "wa", "wd", "re", "oce", "ra"):
                ctx.set(getattr(h, name), step.get(name, 0))
            await ctx.tick()
            seen.append(ctx.get(h.dob))

    pysim.run(h.m, bench)
    return seen


def test_write_then_read_through_the_output_register():
    steps = [dict(we=1, wa=5, wd=1), dict(we=1, wa=6, wd=0),
             dict(re=1, ra=5, oce=1), dict(re=1, ra=6, oce=1), dict(oce=1), dict(oce=1)]
    # OUTREG: the read of address 5 (third edge) reaches DOB0 on the fourth.
    assert run_ram("OUTREG", steps)[3:] == [1, 0, 0]
    assert run_ram("NOREG", steps)[2:] == [1, 0, 0, 0]


def test_clock_enables_hold_the_latch_and_the_output_register():
    steps = [dict(we=1, wa=1, wd=1), dict(re=1, ra=1, oce=1), dict(oce=1),
             dict(ra=2, oce=0), dict(ra=2, oce=1), dict(re=1, ra=2, oce=1), dict(oce=1)]
    assert run_ram("OUTREG", steps)[2:] == [1, 1, 1, 1, 0]


@pytest.mark.parametrize("old", [0, 1])
def test_read_colliding_with_the_other_ports_write_returns_neither_old_nor_new(old):
    for new in (0, 1):
        steps = [dict(we=1, wa=9, wd=old), dict(we=1, wa=9, wd=new, re=1, ra=9, oce=1),
                 dict(oce=1), dict(re=1, ra=9, oce=1), dict(oce=1)]
        seen = run_ram("OUTREG", steps)
        assert seen[2] == 1 - new, "the colliding read must not return the written bit"
        assert seen[4] == new, "the next read sees the write"


@pytest.mark.parametrize(("extra", "problem"), [
    ({"p_DATA_WIDTH_B": 9}, "DATA_WIDTH_B=9"),
    ({"p_REGMODE_B": "BYPASS"}, "REGMODE_B"),
    ({"p_INITVAL_00": "0x0"}, "INITVAL_00"),
    ({"o_DOA0": None}, "DOA0"),
    ({"i_RSTB": 1}, "RSTB"),
    ({"i_CLKB": ClockSignal("fast")}, "CLKB"),
    ({"x_FOO": 1}, "x_FOO"),
])
def test_unmodelled_configurations_are_refused(extra, problem):
    h = RamHarness()
    with pytest.raises(PrimitiveModelError, match=problem):
        DP16KD(**(h.ports("OUTREG") | extra))


def test_ebr_model_cache_answers_as_the_memory_cache_cycle_for_cycle():
    lanes, rows, cycles, seed = 4, 16, 1500, 11
    capacity = lanes * rows
    ref, ebr = RndCache(lanes, rows), RndCache(lanes, rows, ecp5_ebr=True, ebr_model=True)
    top = Module()
    top.submodules.ref, top.submodules.ebr = ref, ebr
    rng = random.Random(seed)
    outputs = [lambda d: d.write.ready, lambda d: d.query.ready, lambda d: d.answer.valid,
               lambda d: Value.cast(d.answer.payload), lambda d: d.head,
               lambda d: d.expired_count, lambda d: d.pending_count]
    stats = {"collisions": 0, "answers": 0}

    def pick_pulse(head: int) -> int:
        kind = rng.random()
        if kind < 0.5:  # the newest beats: their row may be written in the query's cycle
            return max(0, head - 1 - rng.randrange(2 * lanes))
        if kind < 0.8:
            return rng.randrange(max(1, head))
        if kind < 0.9:
            return head + rng.randrange(8)  # pending
        return max(0, head - capacity - 1 - rng.randrange(8))  # expired (once filled)

    async def bench(ctx) -> None:
        w_valid = q_valid = False
        w_data = q_pulse = 0
        last_write_row = None
        for cycle in range(cycles):
            head = ctx.get(ref.head)
            if not w_valid and rng.random() < 0.6:
                w_valid, w_data = True, rng.getrandbits(4 * lanes)
            if not q_valid and rng.random() < 0.8:
                q_valid, q_pulse = True, pick_pulse(head)
            ready = rng.random() < 0.75
            for dut in (ref, ebr):
                ctx.set(dut.write.valid, w_valid)
                ctx.set(Value.cast(dut.write.payload), w_data)
                ctx.set(dut.query.valid, q_valid)
                ctx.set(dut.query.payload.pulse, q_pulse)
                ctx.set(dut.answer.ready, ready)
            want = [ctx.get(out(ref)) for out in outputs]
            got = [ctx.get(out(ebr)) for out in outputs]
            assert got == want, f"cycle {cycle}: ECP5 model cache {got} != Memory cache {want}"
            w_fire = w_valid and want[0]
            q_fire = q_valid and want[1]
            stats["answers"] += want[2] and ready
            if q_fire and last_write_row == (q_pulse // lanes) % rows:
                stats["collisions"] += 1
            last_write_row = (head // lanes) % rows if w_fire else None
            w_valid &= not w_fire
            q_valid &= not q_fire
            await ctx.tick()

    pysim.run(top, bench)
    # The delayed block RAM write collided with a lookup of its row (the bypass answered).
    assert stats["collisions"] > 50
    assert stats["answers"] > cycles // 2
