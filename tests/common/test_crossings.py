"""The clock-domain crossing rule (:mod:`rtl.common.crossings`): what it catches, what it
allows, and that every top of the project passes it with the crossings the docs list."""

import re
from pathlib import Path

import pytest
from amaranth.hdl import ClockDomain, ClockSignal, Instance, Module, Signal
from amaranth.lib import cdc, fifo, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from rtl.common.crossings import ClockCrossingError, check_crossings, domains_of, list_crossings
from sim.crossings import crossing_table

DOCS = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


def two_domains() -> tuple[Module, Signal]:
    """A module with domains ``sync`` and ``fast`` (separate clocks) and a ``sync`` counter."""
    m = Module()
    m.domains.fast = ClockDomain()
    count = Signal(8)
    m.d.sync += count.eq(count + 1)
    return m, count


def direct(m: Module) -> list[str]:
    return [c.target for c in list_crossings(m) if c.kind == "direct"]


def test_register_fed_from_another_domain_is_a_violation():
    m, count = two_domains()
    out = Signal(8, name="out")
    m.d.fast += out.eq(count)
    assert direct(m) == ["out"]
    with pytest.raises(ClockCrossingError, match=r"out \(domain fast\) reads registers of "
                                                 r"domain sync"):
        check_crossings(m)


def test_crossing_through_combinational_logic_and_a_condition_is_found():
    m, count = two_domains()
    mid, out, flag = Signal(8), Signal(8, name="out"), Signal(name="flag")
    m.d.comb += mid.eq(count ^ 0x55)
    m.d.fast += out.eq(mid)
    with m.If(count[3]):
        m.d.fast += flag.eq(1)
    assert sorted(direct(m)) == ["flag", "out"]


def test_memory_written_in_one_domain_and_read_in_another_is_a_violation():
    m, count = two_domains()
    m.submodules.mem = mem = Memory(shape=8, depth=4, init=[])
    write, read = mem.write_port(), mem.read_port(domain="fast")
    m.d.comb += [write.addr.eq(count), write.data.eq(count), write.en.eq(1), read.addr.eq(0)]
    assert direct(m) == ["read__data"]


def test_clocked_instance_takes_the_domain_of_its_clock():
    m, count = two_domains()
    q = Signal(name="q")
    m.submodules.ff = Instance("TRELLIS_FF", i_CLK=ClockSignal("fast"), i_DI=count[0], o_Q=q)
    assert "q" in direct(m)


def test_bit_synchroniser_and_async_fifo_are_allowed():
    m, count = two_domains()
    slow_bit, data = Signal(), Signal(8)
    m.submodules.sync_bit = cdc.FFSynchronizer(count[7], slow_bit, o_domain="fast")
    m.submodules.fifo = f = fifo.AsyncFIFO(width=8, depth=4, w_domain="sync", r_domain="fast")
    m.d.comb += [f.w_data.eq(count), f.w_en.eq(1), f.r_en.eq(1)]
    m.d.fast += data.eq(f.r_data + slow_bit)
    allowed = {(c.via, c.source_domains, c.target_domain) for c in check_crossings(m)}
    assert allowed == {("FFSynchronizer", ("sync",), "fast"), ("AsyncFIFO", ("sync",), "fast"),
                       ("AsyncFIFO", ("fast",), "sync")}


def test_register_reading_an_async_fifo_read_side_is_not_a_crossing():
    """The read side's flags come from the FIFO's reset synchroniser (an ``AsyncFFSynchronizer``
    whose local domain runs on the read clock): one clock, not a crossing."""
    m, count = two_domains()
    m.submodules.fifo = f = fifo.AsyncFIFO(width=8, depth=4, w_domain="sync", r_domain="fast")
    held = Signal(8, name="held")
    m.d.comb += [f.w_data.eq(count), f.w_en.eq(f.w_rdy), f.r_en.eq(1)]
    with m.If(f.r_rdy):
        m.d.fast += held.eq(f.r_data)
    assert direct(m) == []
    assert domains_of(m) == [("fast",), ("sync",)]


def test_async_fifo_input_from_the_wrong_domain_is_a_violation():
    m, _count = two_domains()
    fast_count = Signal(8)
    m.d.fast += fast_count.eq(fast_count + 1)
    m.submodules.fifo = f = fifo.AsyncFIFO(width=8, depth=4, w_domain="sync", r_domain="fast")
    m.d.comb += [f.w_data.eq(fast_count), f.w_en.eq(1)]
    with pytest.raises(ClockCrossingError, match="write port"):
        check_crossings(m)


def test_domains_on_one_clock_are_synchronous():
    m = Module()
    clk, a, b = Signal(), Signal(), Signal(name="b")
    m.domains.sync = ClockDomain()
    m.domains.por = ClockDomain(reset_less=True)
    m.d.comb += [ClockSignal("sync").eq(clk), ClockSignal("por").eq(clk)]
    m.d.por += a.eq(~a)
    m.d.sync += b.eq(a)
    assert check_crossings(m) == []
    assert domains_of(m) == [("por", "sync")]


class Receiver(wiring.Component):
    """A register on a top-level input (annotations, so no ``from __future__`` here)."""

    bits: In(4)
    word: Out(4)

    def elaborate(self, platform):
        m = Module()
        m.d.sync += self.word.eq(self.bits)
        return m


def test_declared_input_domain_is_checked():
    assert check_crossings(Receiver()) == []
    with pytest.raises(ClockCrossingError, match="a top-level input"):
        check_crossings(Receiver(), port_domains={"bits": "recovered"})


def test_declared_project_synchroniser_is_allowed():
    class Sampler(Receiver):
        clock_crossing = "bits"

    assert [c.via for c in check_crossings(Sampler(), port_domains={"bits": "line"})] == \
        ["Sampler"]


def test_every_top_passes_and_the_docs_table_is_current():
    table = crossing_table()
    documented = re.search(r"^\| top \| clock domains.*?(?=\n\n|\Z)", DOCS.read_text(),
                           re.MULTILINE | re.DOTALL)
    assert documented is not None, "docs/architecture.md has no clock-domain table"
    assert documented.group(0).strip() == table, \
        "docs/architecture.md's clock-domain table is stale: paste `python -m sim.crossings`"
