"""The ECP5 carry-chain delay line, read back from its RTLIL: cell counts and parameters, one
unbroken chain, taps on the right sum outputs, and (through Yosys's CCU2C equations) a line
whose code follows its input."""

import re
from dataclasses import dataclass, field

import pytest
from amaranth.back import rtlil

from models.constants import TDC_CAL_PERIOD, TDC_CAL_SLOT_CYCLES, TDC_CHANNELS, TDC_TAPS
from rtl.ground.carry_chain import (
    LAUNCH_PARAMS,
    LINE_PARAMS,
    SAMPLER_PARAMS,
    SELECT_LEAD,
    CalibrationSelect,
    CarryChainLine,
    CarryLines,
)
from tb import pysim


@dataclass
class Cell:
    type: str
    name: str
    params: dict = field(default_factory=dict)
    ports: dict = field(default_factory=dict)


def _value(text: str) -> int | str:
    """An RTLIL parameter value: ``16'0101`` -> int, ``"NO"`` -> str."""
    text = text.strip()
    if text.startswith('"'):
        return text.strip('"')
    return int(text.split("'", 1)[1], 2) if "'" in text else int(text)


def cells_of(text: str) -> list[Cell]:
    """Every cell of an RTLIL module: type, name, parameters, port connections (a one-bit
    net as its wire name, ``[0]`` dropped)."""
    cells, cur = [], None
    for line in text.splitlines():
        words = line.split()
        if words[:1] == ["cell"]:
            cur = Cell(words[1].lstrip("\\"), words[2].lstrip("\\"))
            cells.append(cur)
        elif cur is not None and words[:1] == ["parameter"]:
            cur.params[words[1].lstrip("\\")] = _value(line.split(None, 2)[2])
        elif cur is not None and words[:1] == ["connect"]:
            cur.ports[words[1].lstrip("\\")] = re.sub(r" \[0\]$", "", line.split(None, 2)[2])
        elif words[:1] == ["end"]:
            cur = None
    return cells


def ccu2c(cell: Cell, cin: int, pins: dict[str, int]) -> tuple[int, int, int]:
    """(S0, S1, COUT) of one CCU2C as Yosys's ``cells_sim`` model computes them."""
    def half(h: int, carry: int) -> tuple[int, int]:
        init = cell.params[f"INIT{h}"]
        a, b, c, d = (pins[f"{p}{h}"] for p in "ABCD")
        prop = (init >> (a | b << 1 | c << 2 | d << 3)) & 1
        gen = (init >> (a | b << 1)) & 1 if cell.params[f"INJECT1_{h}"] == "NO" else 0
        cin_seen = carry if cell.params[f"INJECT1_{h}"] == "NO" else 0
        return prop ^ cin_seen, (~prop & gen | prop & carry) & 1

    s0, mid = half(0, cin)
    s1, cout = half(1, mid)
    return s0, s1, cout


def evaluate(cells: list[Cell], line: int) -> dict[str, int]:
    """Net values of a settled carry chain whose input ``line`` holds ``line``."""
    nets: dict[str, int] = {"1'1": 1, "1'0": 0, "\\line": line}
    pending = [c for c in cells if c.type == "CCU2C"]
    while pending:
        ready = [c for c in pending if c.ports["CIN"] in nets]
        assert ready, "carry chain has a cell whose carry in nothing drives"
        for c in ready:
            pins = {p: nets[v] for p, v in c.ports.items() if re.fullmatch("[ABCD][01]", p)}
            s0, s1, cout = ccu2c(c, nets[c.ports["CIN"]], pins)
            nets.update({c.ports["S0"]: s0, c.ports["S1"]: s1, c.ports["COUT"]: cout})
            pending.remove(c)
    return nets


@pytest.fixture(scope="module")
def line_cells() -> list[Cell]:
    return cells_of(rtlil.convert(CarryChainLine(), name="line"))


def test_cells_and_parameters(line_cells):
    ccu = [c for c in line_cells if c.type == "CCU2C"]
    flops = [c for c in line_cells if c.type == "TRELLIS_FF"]
    assert len(ccu) == 1 + TDC_TAPS  # launch + one cell per tap at stride 2
    assert [c.params for c in ccu if c.name == "launch"] == [LAUNCH_PARAMS]
    assert all(c.params == LINE_PARAMS for c in ccu if c.name != "launch")
    assert len(flops) == TDC_TAPS
    assert all(f.params == SAMPLER_PARAMS and f.ports["CLK"] == "\\clk" for f in flops)
    assert all(f.ports["CE"] == "1'1" and f.ports["LSR"] == "1'0" for f in flops)
    # second rank: plain flops (no reset, no enable), one per tap
    second = [c for c in line_cells if c.type.startswith("$")
              and ("dff" in c.type or "sdff" in c.type)]
    assert {c.type for c in second} == {"$dff"}
    assert sum(c.params["WIDTH"] for c in second) == TDC_TAPS


def test_one_unbroken_chain_with_taps_on_every_second_carry(line_cells):
    ccu = {c.name: c for c in line_cells if c.type == "CCU2C"}
    assert ccu["launch"].ports["CIN"] == "1'0" and ccu["launch"].ports["A0"] == "\\line"
    cout = ccu["launch"].ports["COUT"]
    for i in range(TDC_TAPS):
        assert ccu[f"cell{i}"].ports["CIN"] == cout, f"cell{i} is not fed by its predecessor"
        cout = ccu[f"cell{i}"].ports["COUT"]
    flops = {c.name: c for c in line_cells if c.type == "TRELLIS_FF"}
    for t in range(TDC_TAPS):
        assert flops[f"sample{t}"].ports["DI"] == ccu[f"cell{t}"].ports["S1"]


@pytest.mark.parametrize("level", [0, 1])
def test_every_tap_follows_the_input(line_cells, level):
    nets = evaluate(line_cells, level)
    taps = [nets[c.ports["DI"]] for c in line_cells if c.type == "TRELLIS_FF"]
    assert taps == [level] * TDC_TAPS


def test_stride_one_samples_both_outputs():
    cells = cells_of(rtlil.convert(CarryChainLine(taps=8, stride=1), name="line"))
    ccu = {c.name: c for c in cells if c.type == "CCU2C"}
    assert len(ccu) == 1 + 4
    di = [c.ports["DI"] for c in cells if c.type == "TRELLIS_FF"]
    assert di == [ccu[f"cell{t // 2}"].ports[f"S{t % 2}"] for t in range(8)]
    assert [evaluate(cells, 1)[n] for n in di] == [1] * 8


def test_bad_geometry_is_one_error():
    with pytest.raises(ValueError, match="do not fill whole"):
        CarryChainLine(taps=5, stride=1)


def test_five_lines_muxes_oscillator_and_sampling_clock():
    cells = cells_of(rtlil.convert(CarryLines(taps=4), name="lines"))
    types = [c.type for c in cells]
    assert types.count("CCU2C") == TDC_CHANNELS * (1 + 4)
    assert types.count("TRELLIS_FF") == TDC_CHANNELS * 4
    assert [c.params for c in cells if c.type == "OSCG"] == [{"DIV": 3}]


@pytest.mark.parametrize("period", [32, TDC_CAL_PERIOD])
def test_select_is_high_from_the_cycle_before_each_slot(period):
    """High in cycles [s - 1, s + 7): the line switches after edge s - 1, so the code the
    channel reads at phase 1 (sampled at edge s, two ranks) is the first after the switch,
    and the one it reads at phase 9 the first after the switch back."""
    dut = CalibrationSelect(period)
    seen: list[int] = []

    async def bench(ctx) -> None:
        for _ in range(3 * period):
            seen.append(ctx.get(dut.select))
            await ctx.tick()

    pysim.run(dut, bench)
    assert seen == [int((k + SELECT_LEAD - 1) % period < TDC_CAL_SLOT_CYCLES)
                    for k in range(3 * period)]
    s = period  # the second slot: select rises for cycle s - 1, falls after s + 6
    assert seen[s - 2: s + 8] == [0] + [1] * TDC_CAL_SLOT_CYCLES + [0]
