"""Clock schedules (:mod:`models.clocks`) and the simulation clock generators that follow them
(:mod:`rtl.simonly.clock_gen`, ``tb.runner.run_cocotb(clocks=...)``)."""

import numpy as np
import pytest
from amaranth.hdl import ClockDomain, ClockSignal, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from models.clocks import (
    SPEED_OF_LIGHT_M_S,
    ClockSchedule,
    ClockScheduleError,
    constant_clock,
    cycles_before,
    falling_edges_ps,
    recovered_clock,
    rising_edges_ps,
)
from models.constants import FABRIC_CLOCK_PS
from rtl.simonly.clock_gen import LoadedClock, write_schedule
from tb.runner import ClockWrapperError, add_scheduled_clocks, locked_build_dir, run_cocotb


def test_constant_clock_edges():
    schedule = constant_clock(6400)
    assert rising_edges_ps(schedule, 3).tolist() == [3200, 9600, 16000, 22400]
    assert falling_edges_ps(schedule, 3).tolist() == [6400, 12800, 19200]


def test_ppm_offset_accumulates_without_drift():
    """+1 ppm on 6400 ps: 1e6 cycles end 6.4 ns early (the attosecond sum, no rounding drift)."""
    fast = constant_clock(FABRIC_CLOCK_PS, offset_ppm=1.0, phase_ps=0)
    nominal = constant_clock(FABRIC_CLOCK_PS, phase_ps=0)
    cycles = 1_000_000
    lead = rising_edges_ps(nominal, cycles)[-1] - rising_edges_ps(fast, cycles)[-1]
    assert lead == pytest.approx(6400, abs=1)
    # edges 0 .. 1,000,001 (edge 0 at time 0) fall before 6.4 ms at 6399.9936 ps a cycle
    assert cycles_before(fast, 6_400_000_000, cycles + 2) == 1_000_002


def test_recovered_clock_follows_the_range_rate():
    """Receding at 7 km/s the received period is longer by v/c; the change appears per segment."""
    def range_rate(t):
        return np.where(t < 1e-4, 7000.0, -7000.0)

    schedule = recovered_clock(6400, 0.0, range_rate, 0.0, cycles=40_000, segment_cycles=4096)
    first, last = schedule.periods_as[0], schedule.periods_as[-1]
    assert first == round(6_400_000_000 * (1 + 7000 / SPEED_OF_LIGHT_M_S))
    assert last == round(6_400_000_000 * (1 - 7000 / SPEED_OF_LIGHT_M_S))
    assert len(schedule.periods_as) == 10


@pytest.mark.parametrize("bad, message", [
    (dict(periods_as=(1_500_000,), segment_cycles=1, phase_as=0), "outside 2 ps"),
    (dict(periods_as=(), segment_cycles=1, phase_as=0), "no period"),
    (dict(periods_as=(6_400_000_000,), segment_cycles=0, phase_as=0), "segment of 0"),
    (dict(periods_as=(6_400_000_000,), segment_cycles=1, phase_as=-1), "negative phase"),
])
def test_bad_schedules_are_refused(bad, message):
    with pytest.raises(ClockScheduleError, match=message):
        ClockSchedule(**bad)


class TwoClocks(wiring.Component):
    """Two unrelated clock domains with a counter each (clock inputs ``a_clk``, ``b_clk``)."""

    a_clk: In(1)
    b_clk: In(1)
    count_a: Out(16)
    count_b: Out(16)

    def elaborate(self, platform):
        m = Module()
        m.domains.a = ClockDomain(reset_less=True)
        m.domains.b = ClockDomain(reset_less=True)
        m.d.comb += [ClockSignal("a").eq(self.a_clk), ClockSignal("b").eq(self.b_clk)]
        a, b = Signal(16), Signal(16)
        m.d.a += a.eq(a + 1)
        m.d.b += b.eq(b + 1)
        m.d.comb += [self.count_a.eq(a), self.count_b.eq(b)]
        return m


def test_scheduled_clock_needs_an_input_port():
    from amaranth.back import verilog
    text = verilog.convert(TwoClocks(), name="top", emit_src=False)
    with pytest.raises(ClockWrapperError, match="input `c_clk`"):
        add_scheduled_clocks(text, "top", {"c_clk": constant_clock(6400)})


def spec(schedule: ClockSchedule) -> dict:
    return {"periods_as": list(schedule.periods_as), "segment_cycles": schedule.segment_cycles,
            "phase_as": schedule.phase_as}


@pytest.mark.cocotb
@pytest.mark.parametrize("simulator", ["verilator", "icarus"])
def test_two_scheduled_clocks_edge_where_the_model_says(simulator):
    """A +1 ppm fabric clock and a recovered clock whose period steps every 16 cycles by an
    exaggerated Doppler ramp (odd femtoseconds, odd picoseconds) so that every rounding of the
    generator is exercised against the model. The recovered clock's schedule is read from a
    file at time 0 (:class:`rtl.simonly.clock_gen.LoadedClock`, a table larger than it)."""
    ground = constant_clock(FABRIC_CLOCK_PS, offset_ppm=1.0)
    link = ClockSchedule(tuple(3_200_000_000 + 977_013 * i for i in range(20)), 16, 1_234_567_891)
    with locked_build_dir("two_clocks", simulator) as build:
        loaded = LoadedClock(str(build / "b_clk.hex"), max_segments=32)
        write_schedule(loaded, link)
        run_cocotb(TwoClocks(), "tb.cocotb_clocks", simulator, case="two_clocks",
                   clocks={"a_clk": ground, "b_clk": loaded},
                   params={"cycles": 400,
                           "clocks": {"a_clk": spec(ground), "b_clk": spec(link)}})


@pytest.mark.cocotb
@pytest.mark.parametrize("simulator", ["verilator", "icarus"])
def test_a_clock_pair_rises_on_its_schedules_and_shares_event_times(simulator):
    """Two fabric clocks 2 ppm apart (exaggerated to 2000 ppm so that their edges walk through
    each other within the window) from one pair generator: every rising edge where the model
    says, each fall between its own rises, and two event times per cycle."""
    a = constant_clock(FABRIC_CLOCK_PS, offset_ppm=-1000.0)
    b = constant_clock(FABRIC_CLOCK_PS, offset_ppm=1000.0, phase_ps=1000)
    with locked_build_dir("clock_pair", simulator) as build:
        a_file, b_file = str(build / "a_clk.hex"), str(build / "b_clk.hex")
        clocks = {"a_clk": LoadedClock(a_file, 1, driven=True),
                  "b_clk": LoadedClock(b_file, 1, partner=("a_clk", a_file))}
        write_schedule(clocks["a_clk"], a)
        write_schedule(clocks["b_clk"], b)
        run_cocotb(TwoClocks(), "tb.cocotb_clocks", simulator, case="clock_pair",
                   clocks=clocks,
                   params={"cycles": 1200, "pair": True,
                           "clocks": {"a_clk": spec(a), "b_clk": spec(b)}})


def test_a_loaded_schedule_too_long_for_its_table_is_refused(tmp_path):
    loaded = LoadedClock(str(tmp_path / "c.hex"), max_segments=2)
    with pytest.raises(ClockScheduleError, match="holds 2"):
        write_schedule(loaded, ClockSchedule((6_400_000_000,) * 3, 1, 0))
    with pytest.raises(ClockScheduleError, match="max_segments 0"):
        LoadedClock("c.hex", 0)
    with pytest.raises(ClockScheduleError, match="constant clocks"):
        LoadedClock("c.hex", 4, driven=True)
