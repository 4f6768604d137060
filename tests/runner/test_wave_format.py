"""``WAVES`` in tb.runner: 0/1/fst/vcd, refused otherwise; each format from each simulator is a
real dump of that format, named by ``wave_file``, that GTKWave-readable tools open."""

import os

import pytest
import pywellen
from amaranth.hdl import ClockDomain, Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from tb import runner

CYCLES = 40


class Counter(wiring.Component):
    clk: In(1)
    count: Out(8)

    def elaborate(self, platform):
        m = Module()
        m.domains.sync = sync = ClockDomain()
        m.d.comb += sync.clk.eq(self.clk)
        m.d.sync += self.count.eq(self.count + 1)
        return m


@pytest.mark.parametrize(("value", "fmt"), [
    (None, None), ("", None), ("0", None), ("1", "fst"), ("fst", "fst"), ("vcd", "vcd"),
    (" VCD ", "vcd"),
])
def test_waves_values(monkeypatch, value, fmt):
    if value is None:
        monkeypatch.delenv("WAVES", raising=False)
    else:
        monkeypatch.setenv("WAVES", value)
    assert runner.wave_format() == fmt
    assert runner.waves_enabled() == (fmt is not None)


@pytest.mark.parametrize("value", ["2", "yes", "lxt"])
def test_other_values_are_a_one_line_error(monkeypatch, value):
    monkeypatch.setenv("WAVES", value)
    with pytest.raises(runner.WavesError, match=f"WAVES='{value}'"):
        runner.wave_format()


@pytest.mark.cocotb
@pytest.mark.parametrize("simulator", runner.SIMULATORS)
@pytest.mark.parametrize("fmt", runner.WAVE_FORMATS)
def test_each_format_from_each_simulator(monkeypatch, simulator, fmt):
    monkeypatch.setenv("WAVES", fmt)
    case = f"wave_format_{fmt}"
    build = runner.run_cocotb(Counter(), "tb.cocotb_clocked", simulator, case=case,
                              params={"cycles": CYCLES})
    dump = runner.wave_file(build, simulator, case, fmt)
    wave = pywellen.Waveform(str(dump))
    assert wave.file_format == fmt.upper()
    changes = []
    count = next(var for var in wave.all_vars() if var.full_name == "top.count")
    wave.stream_changes(lambda t, _s, v: changes.append((t, v)), [count])
    assert [v for _, v in changes][-1] >= CYCLES - 2  # counted in the dump, cycle by cycle
    assert os.environ["WAVES"] == fmt  # cocotb saw a boolean, the caller's value is back
