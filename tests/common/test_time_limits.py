"""No test can hang: every wait on an event has a budget and fails naming the event, and every
pytest test has a time limit sized to its kind (``tests/conftest.py``)."""

import random

import pytest
from amaranth.hdl import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from tb import pysim, runner
from tb.pysim import WaitTimeoutError


class NeverReady(wiring.Component):
    """A stream sink that never accepts and a source that never sends; ``done`` never rises."""

    i: In(stream.Signature(8))
    o: Out(stream.Signature(8))
    done: Out(1)

    def elaborate(self, platform):
        m = Module()
        tick = Signal(1)
        m.d.sync += tick.eq(~tick)  # a clocked design, so the fabric clock has something to do
        m.d.comb += [self.i.ready.eq(0), self.o.valid.eq(0), self.done.eq(0)]
        return m


def test_pysim_run_names_the_stream_a_testbench_waits_on():
    dut = NeverReady()
    with pytest.raises(WaitTimeoutError, match=r"after 500 cycles, waiting for: o__valid high"):
        pysim.run(dut, pysim.consumer(dut.o, 1, [], random.Random(1)), max_cycles=500)


def test_pysim_run_names_a_producer_that_is_never_accepted():
    dut = NeverReady()
    with pytest.raises(WaitTimeoutError, match=r"waiting for: i__ready high"):
        pysim.run(dut, pysim.producer(dut.i, [1], random.Random(1)), max_cycles=300)


def test_pysim_wait_until_names_its_event():
    dut = NeverReady()

    async def bench(ctx):
        await pysim.wait_until(ctx, dut.done, 40, "done flag")

    with pytest.raises(WaitTimeoutError, match=r"^done flag not done after 40 cycles$"):
        pysim.run(dut, bench)


def test_a_finished_run_is_not_cut_by_the_watchdog():
    dut = NeverReady()
    seen = []

    async def bench(ctx):
        await ctx.tick().repeat(99)
        seen.append(True)

    pysim.run(dut, bench, max_cycles=100)
    assert seen == [True]


@pytest.mark.cocotb
@pytest.mark.parametrize("simulator", runner.SIMULATORS)
def test_cocotb_waits_fail_naming_the_port_and_event(simulator):
    runner.run_cocotb(NeverReady(), "tb.cocotb_never_ready", simulator, case="never_ready",
                      params={"stall_cycles": 50, "until_cycles": 30})


def test_every_collected_test_has_a_time_limit(request):
    """The ini default covers every test; cocotb and slow tests carry their own, longer one
    (tests/conftest.py)."""
    default = float(request.config.getini("timeout"))
    assert default > 0
    for item in request.session.items:
        marker = item.get_closest_marker("timeout")
        if item.get_closest_marker("cocotb") or item.get_closest_marker("slow"):
            assert marker is not None and marker.args[0] > default, item.nodeid


def test_a_test_past_its_limit_fails_naming_the_limit(pytester):
    pytester.makepyfile("""
        import time
        import pytest

        @pytest.mark.timeout(1)
        def test_sleeps():
            time.sleep(30)
    """)
    result = pytester.runpytest_subprocess("-p", "timeout", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*Timeout (>1.0s) from pytest-timeout*"])
