"""The two FPGA tops (``rtl/tops``): elaboration with their primitives, constraints covering
every pin, PLL settings, the clock and register blocks in simulation, and ``make synth``'s
per-domain Fmax and resource budget bookkeeping (no synthesis tools needed)."""

import re
from pathlib import Path

import pytest
from amaranth.hdl import ClockDomain, ClockSignal, Fragment, Instance, Module, Signal, Value
from amaranth.lib import wiring
from amaranth.sim import Simulator

from models.constants import FABRIC_CLOCK_HZ
from models.memory.flight import flight_pass_sizes
from rtl.simonly.ecp5_primitives import EHXPLLL, PLL_LOCK_EDGES, PrimitiveModelError
from rtl.tops import clocks, tops
from rtl.tops.csr import SerialRegisters
from rtl.tops.pins import io_pins
from sim import synth
from tb.pysim import wait_until

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data"
_LOCATE = re.compile(r'^LOCATE COMP "([^"]+)" SITE "([A-Z]+\d+)";', re.M)
_IOBUF = re.compile(r'^IOBUF PORT "([^"]+)" IO_TYPE=\w+[^;\n]*;', re.M)
_FREQ = re.compile(r'^FREQUENCY PORT "([^"]+)" ([\d.]+) MHZ;', re.M)


def pins_of(top: wiring.Component) -> set[str]:
    """Top-level port bits as Yosys names them: ``name`` or ``name[i]``."""
    names = set()
    for path, _member, value in top.signature.flatten(top):
        name, width = "__".join(map(str, path)), len(Value.cast(value))
        names |= {name} if width == 1 else {f"{name}[{i}]" for i in range(width)}
    for name, width in io_pins(top).items():  # the DDR3 pads
        names |= {name} if width == 1 else {f"{name}[{i}]" for i in range(width)}
    return names


@pytest.mark.parametrize("name", sorted(tops.SYNTH_TOPS))
def test_lpf_places_every_pin_once_with_an_io_type_and_clocks(name):
    text = (ROOT / tops.SYNTH_LPF[name]).read_text()
    pins = pins_of(tops.SYNTH_TOPS[name]())
    located = _LOCATE.findall(text)
    assert sorted(p for p, _site in located) == sorted(pins)
    sites = [site for _p, site in located]
    assert len(set(sites)) == len(sites), "two ports on one site"
    assert sorted(_IOBUF.findall(text)) == sorted(pins)
    freqs = {port: float(mhz) for port, mhz in _FREQ.findall(text)}
    assert freqs == {"refclk": clocks.REF_HZ / 1e6, "link_rx_clk": clocks.LINE_HZ / 1e6}


def _instances(fragment: Fragment) -> list[str]:
    found = [fragment.type] if isinstance(fragment, Instance) else []
    for sub, _name, _loc in fragment.subfragments:
        found += _instances(sub)
    return found


def _counts(name: str) -> dict[str, int]:
    kinds = _instances(Fragment.get(tops.SYNTH_TOPS[name](), None))
    return {kind: kinds.count(kind) for kind in set(kinds)}


def test_satellite_top_elaborates_with_its_primitives_and_the_dram():
    counts = _counts("satellite_fpga")
    # PLL 1, the line PLL, the DRAM's PLL; an edge-clock tree for the gearbox and one for DDR3
    assert counts["EHXPLLL"] == 3 and counts["ECLKSYNCB"] == 2 and counts["CLKDIVF"] == 2
    assert counts["ODDRX2F"] == counts["DELAYF"] == 17  # 8 IM + 8 PM + trigger
    assert counts["IDDRX1F"] == 64
    # the RND cache is in DDR3: no block RAM rows of an on-chip cache are instantiated
    assert counts.get("DP16KD", 0) == 0 and counts["litedram_ecp5"] == 1


def test_ground_top_elaborates_with_the_record_store_in_dram():
    top = tops.SYNTH_TOPS["ground_fpga"]()
    sizes = flight_pass_sizes()
    assert top.link.signature.members["dram"].is_signature
    assert top.link._store_depth == sizes.store_records
    kinds = _instances(Fragment.get(top, None))
    assert kinds.count("EHXPLLL") == 3 and kinds.count("litedram_ecp5") == 1
    assert kinds.count("ECLKSYNCB") == kinds.count("CLKDIVF") == 1  # the DDR3 edge clock


def test_pll_settings_give_the_clocks():
    main, line = clocks.MAIN_PLL, clocks.LINE_PLL
    assert (main.clkop_hz, main.clkos_hz) == (2 * FABRIC_CLOCK_HZ, FABRIC_CLOCK_HZ)
    assert line.clkop_hz * 32 == FABRIC_CLOCK_HZ * 34  # a 34-bit block per 32 fabric cycles
    dram = clocks.DRAM_PLL
    assert (dram.clkop_hz, dram.clkos_hz) == (clocks.DRAM2X_HZ, clocks.DRAM_INIT_HZ)
    for config, ref in ((main, clocks.REF_HZ), (line, int(FABRIC_CLOCK_HZ)),
                        (dram, int(FABRIC_CLOCK_HZ))):
        assert clocks.PFD_HZ[0] <= ref / config.clki_div <= clocks.PFD_HZ[1]
        assert clocks.VCO_HZ[0] <= config.vco_hz <= clocks.VCO_HZ[1]
        assert config.clkfb_div <= clocks.CLKFB_DIV_MAX
        # the simulation model reads the same numbers back from the Instance parameters
        model = EHXPLLL(ref, **config.parameters(), i_CLKFB=(op := Signal()), o_CLKOP=op)
        assert (model.clkop_hz, model.clkos_hz) == (config.clkop_hz, config.clkos_hz)


def test_pll_refuses_what_it_cannot_make():
    with pytest.raises(clocks.PllError, match="no setting gives 166015625 Hz exactly from "
                                              "25000000 Hz"):
        clocks.pll_config(clocks.REF_HZ, clocks.LINE_HZ)
    params = clocks.MAIN_PLL.parameters() | {"p_CLKOS_CPHASE": 0}
    with pytest.raises(PrimitiveModelError, match="CLKOS must have zero phase"):
        EHXPLLL(clocks.REF_HZ, **params, i_CLKFB=(op := Signal()), o_CLKOP=op)
    fast = clocks.MAIN_PLL.parameters() | {"p_CLKI_DIV": 1}
    with pytest.raises(PrimitiveModelError, match="outside the device's limits"):
        EHXPLLL(clocks.REF_HZ, **fast, i_CLKFB=(op := Signal()), o_CLKOP=op)


def test_domains_leave_reset_after_lock_and_rst_n():
    dut = clocks.Ecp5Clocks(gearbox=False, ecp5=False, dram=True)
    m = Module()
    m.submodules.clocks = dut
    dut.add_domains(m)
    count = Signal(8)
    m.d.sync += count.eq(count + 1)
    sim = Simulator(m)
    sim.add_clock(6.4e-9, domain="sync")
    sim.add_clock(6.0e-9, domain="line")
    seen = {}

    async def bench(ctx):
        ctx.set(dut.rst_n, 1)
        for edge in range(PLL_LOCK_EDGES + 4):
            ctx.set(dut.refclk, 1)
            await ctx.delay(20e-9)
            ctx.set(dut.refclk, 0)
            await ctx.delay(20e-9)
            seen.setdefault(ctx.get(dut.locked), edge)
        assert ctx.get(count) > 0  # out of reset: counting
        assert ctx.get(dut.arst) == 0  # the DRAM's reset follows
        ctx.set(dut.rst_n, 0)
        await ctx.delay(1e-9)
        assert ctx.get(count) == 0  # asynchronous assert
        assert ctx.get(dut.arst) == 1
        ctx.set(dut.rst_n, 1)
        await ctx.delay(6.4e-9)
        assert ctx.get(count) == 0  # held through the synchroniser's two flops
        await ctx.delay(10 * 6.4e-9)
        assert 0 < ctx.get(count) <= 9

    sim.add_testbench(bench)
    sim.run()
    # every PLL counts its CLKI edges; the line and DRAM PLLs' CLKI is the (faster) fabric clock
    assert seen[0] == 0 and seen[1] == PLL_LOCK_EDGES - 1


def test_serial_registers_load_and_read_back():
    dut = SerialRegisters({"a": wiring.In(3, init=5), "b": wiring.In(4)},
                          {"x": wiring.Out(4), "y": wiring.Out(2)})
    sim = Simulator(dut)
    sim.add_clock(6.4e-9)

    async def pulse(ctx, pin) -> None:
        ctx.set(pin, 1)
        await ctx.tick().repeat(4)
        ctx.set(pin, 0)
        await ctx.tick().repeat(4)

    async def bench(ctx):
        assert (ctx.get(dut.w_a), ctx.get(dut.w_b)) == (5, 0)  # defaults before a load
        ctx.set(dut.r_x, 0b1001)
        ctx.set(dut.r_y, 0b10)
        await pulse(ctx, dut.csr_load)  # captures x, y; writes the (empty) chain
        assert (ctx.get(dut.w_a), ctx.get(dut.w_b)) == (0, 0)
        value = 0b1010_011  # b = 0b1010, a = 0b011
        out = []
        for k in range(7):
            ctx.set(dut.csr_in, value >> k & 1)
            out.append(ctx.get(dut.csr_out))
            await pulse(ctx, dut.csr_clk)
        assert (ctx.get(dut.w_a), ctx.get(dut.w_b)) == (0, 0)  # not before the load
        await pulse(ctx, dut.csr_load)
        assert (ctx.get(dut.w_a), ctx.get(dut.w_b)) == (0b011, 0b1010)
        assert out[:6] == [1, 0, 0, 1, 0, 1]  # x then y, bit 0 first

    sim.add_testbench(bench)
    sim.run()


def test_domain_fmax_from_a_stored_nextpnr_log():
    """The satellite top's log (``make synth``): two timing reports, the one after routing
    counts; the recovered clock's net is named after its pin's input buffer."""
    log = (DATA / "nextpnr_satellite_fpga.log").read_text()
    domains = synth.domain_fmax(log, tops.SYNTH_DOMAINS["satellite_fpga"])
    assert {name: d["fmax_mhz"] for name, d in domains.items()} == {
        "sync": 103.59, "line": 224.77, "line_rx": 292.14}
    assert domains["sync"]["target_mhz"] == FABRIC_CLOCK_HZ / 1e6
    assert domains["sync"]["margin"] == round(103.59 / 156.25 - 1, 4)
    row = synth.report_row("satellite_fpga", "LFE5U-45F-8", {"utilization": {}}, domains)
    assert row["fmax_mhz"] == 103.59 and not row["meets_target"] and not row["margin_ok"]


def test_report_row_of_an_fpga_top_has_every_domain_and_the_margin_verdict():
    report = {"utilization": {"TRELLIS_COMB": {"used": 9000, "available": 43848}},
              "fmax": {}}
    domains = synth.domain_fmax(
        "Info: Max frequency for clock '$glbnet$clk': 170.00 MHz (PASS at 156.25 MHz)\n"
        "Info: Max frequency for clock '$glbnet$clk': 165.00 MHz (PASS at 156.25 MHz)\n"
        "Info: Max frequency for clock 'line_clk': 172.00 MHz (PASS at 166.02 MHz)\n",
        {"clk": "sync", "line_clk": "line"})
    row = synth.report_row("satellite_fpga", "LFE5U-45F-8", report, domains)
    assert set(row) >= {"top", "device", "luts", "ffs", "brams", "fmax_mhz", "target_mhz"}
    assert row["fmax_mhz"] == 165.0 and row["meets_target"]  # the last report, after routing
    assert row["domains"]["line"]["margin"] == round(172 / 166.02 - 1, 4)
    assert not row["margin_ok"]  # line: 3.6 % above its clock, below the 5 % margin
    domains["line"]["margin"] = 0.06
    assert synth.report_row("t", "LFE5U-45F-8", report, domains)["margin_ok"]


STAT = {"modules": {
    "\\top": {"num_cells_by_type": {"LUT4": 10, "TRELLIS_FF": 4, "\\top.a": 1, "\\top.b": 1}},
    "\\top.a": {"num_cells_by_type": {"LUT4": 5, "CCU2C": 2, "DP16KD": 3, "\\top.a.x": 2}},
    "\\top.a.x": {"num_cells_by_type": {"TRELLIS_FF": 7, "TRELLIS_DPR16X4": 1}},
    "\\top.b": {"num_cells_by_type": {"MULT18X18D": 1, "TRELLIS_FF": 1}},
}}


def test_block_resources_count_kept_submodules_and_the_rest():
    rows = synth.block_resources(STAT, "top", ["a", "b"])
    assert rows == {"a": {"LUT4": 5 + 4 + 2 * 6, "FF": 14, "EBR": 3, "DSP": 0},
                    "b": {"LUT4": 0, "FF": 1, "EBR": 0, "DSP": 1},
                    synth.REST: {"LUT4": 10, "FF": 4, "EBR": 0, "DSP": 0}}
    report = {"utilization": {"TRELLIS_COMB": {"used": 40, "available": 100},
                              "TRELLIS_FF": {"used": 19, "available": 100},
                              "DP16KD": {"used": 3, "available": 8}}}
    table = synth.budget_table(synth.budget_rows("top", rows, report))
    assert table.splitlines()[-1] == f"| top | {synth.HEADROOM} | 60 | 81 | 5 | 0 |"
    assert table.splitlines()[2] == "| top | a | 21 | 14 | 3 | 0 |"


def test_docs_budget_table_has_the_generators_format_and_every_block():
    text = (ROOT / "docs" / "synthesis.md").read_text()
    header = "| " + " | ".join(synth.BUDGET_HEADER) + " |"
    assert header in text, "docs/synthesis.md has no budget table: paste build/synth/budget.md"
    lines = text[text.index(header):].split("\n\n")[0].splitlines()
    assert lines[1] == "|" + "---|" * len(synth.BUDGET_HEADER)
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]
    assert {row[0] for row in rows} <= set(tops.SYNTH_BUDGET) and rows
    for top in {row[0] for row in rows}:
        blocks = tops.SYNTH_BUDGET[top]
        named = [row[1] for row in rows if row[0] == top]
        assert named == [*blocks, synth.REST, "placed design (nextpnr)", synth.HEADROOM]
        assert all(cell.lstrip("-").isdigit() for row in rows if row[0] == top
                   for cell in row[2:])


def test_link_port_loops_a_message_through_its_line_pins():
    """Line pins looped back (the recovered clock is the line clock): after lock, a message
    sent on ``msg`` comes out of ``rx`` word for word, ``last`` on its final word."""
    from rtl.tops.line import LinkPort

    port = LinkPort()
    m = Module()
    m.submodules.port = port
    m.domains.sync = ClockDomain("sync")
    m.domains.line = ClockDomain("line")
    m.d.comb += [port.line_rx.eq(port.line_tx), port.line_rx_clk.eq(ClockSignal("line"))]
    sim = Simulator(m)
    sim.add_clock(6.4e-9, domain="sync")
    sim.add_clock(6.4e-9 * 32 / 34, domain="line")
    words = [0xDEADBEEF, 0x01234567, 0x89ABCDEF]
    got = []

    async def bench(ctx):
        ctx.set(port.rx.ready, 1)
        await wait_until(ctx, port.locked, 8000, "link lock")
        for k, word in enumerate(words):
            ctx.set(port.msg.payload, {"data": word, "last": k == len(words) - 1})
            ctx.set(port.msg.valid, 1)
            await wait_until(ctx, port.msg.ready, 200, "msg ready")
            await ctx.tick()
        ctx.set(port.msg.valid, 0)
        for _ in range(600):
            await ctx.tick()
            if ctx.get(port.rx.valid):
                got.append((ctx.get(port.rx.payload.data), ctx.get(port.rx.payload.last)))

    sim.add_testbench(bench)
    sim.run()
    assert got == [(w, int(k == len(words) - 1)) for k, w in enumerate(words)]
