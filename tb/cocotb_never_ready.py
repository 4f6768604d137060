"""cocotb test: every wait of the testbench base on an event that never comes fails, naming it.

The design (``tests/common/test_time_limits.py``) has a stream input ``i`` that never becomes
ready and an output flag ``done`` that never rises. The test passes when the stream driver
gives up on its beat and :meth:`tb.testbench.TB.until` on ``done`` gives up, each with an
error that names the port or event, within the cycle budgets given in ``params``.
"""

import cocotb

from tb.testbench import TB


@cocotb.test()
async def waits_that_never_end_fail_with_their_name(dut):
    tb = TB(dut)
    p = tb.params
    await tb.reset()
    start = tb.cycle()
    driver = tb.driver("i", max_stall_cycles=p["stall_cycles"])
    try:
        await driver.send([1])
    except AssertionError as error:
        assert "i: ready low" in str(error), str(error)
    else:
        raise AssertionError("the driver returned although i was never ready")
    assert tb.cycle() - start <= p["stall_cycles"] + 2, "the driver waited past its budget"
    try:
        await tb.until(lambda: bool(dut.done.value), p["until_cycles"], "done flag")
    except AssertionError as error:
        assert str(error) == f"done flag not done after {p['until_cycles']} cycles", str(error)
    else:
        raise AssertionError("until returned although done never rose")
