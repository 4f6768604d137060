"""The cocotb back end of :mod:`tb.dual`: runs the body named in the parameters on the DUT.

:func:`tb.dual.run_cocotb_body` builds the component and runs this module with
``params["dual_body"]`` (``module:function``) and ``params["dual_ports"]`` (stream inputs and
outputs, idled before the body starts).
"""

from __future__ import annotations

from collections.abc import Mapping

import cocotb
from cocotb.handle import SimHandleBase

from tb.dual import Bench, Receive, Send, TransferTimeoutError, resolve_body, transfer_timeout_text
from tb.testbench import TB


class CocotbBench(Bench):
    """:class:`tb.dual.Bench` on a cocotb DUT through :class:`tb.testbench.TB`."""

    def __init__(self, tb: TB) -> None:
        super().__init__(tb.params)
        self.tb = tb
        tb.rng = self.rng  # one generator for the body and the stream endpoints
        ports = self.params.get("dual_ports", {})
        for name in ports.get("in", ()):
            getattr(tb.dut, f"{name}__valid").value = 0
        for name in ports.get("out", ()):
            getattr(tb.dut, f"{name}__ready").value = 0

    async def reset(self, cycles: int = 2) -> None:
        await self.tb.reset(cycles)

    def set(self, name: str, value: int) -> None:
        getattr(self.tb.dut, name).value = int(value)

    def get(self, name: str) -> int:
        return int(getattr(self.tb.dut, name).value)

    async def ticks(self, cycles: int) -> None:
        await self.tb.ticks(cycles)

    async def transfer(self, send: Mapping[str, Send], receive: Mapping[str, Receive],
                       max_cycles: int = 200_000) -> dict[str, list[int]]:
        drivers = {name: self.tb.driver(name, idle=s.idle) for name, s in send.items()}
        tasks = {name: cocotb.start_soon(drivers[name].send(map(int, s.items)))
                 for name, s in send.items()}
        monitors = {name: self.tb.monitor(name, stall=r.stall) for name, r in receive.items()}

        def done() -> bool:
            return (all(s.background or tasks[n].done() for n, s in send.items())
                    and all(len(monitors[n].received) >= r.count for n, r in receive.items()))

        try:
            await self.tb.until(done, max_cycles, "transfer")
        except AssertionError:
            raise TransferTimeoutError(transfer_timeout_text(
                send, receive, [d.sent for d in drivers.values()],
                [m.received for m in monitors.values()], max_cycles)) from None
        for name, task in tasks.items():
            if not task.done():
                task.cancel()
            drivers[name].valid.value = 0
        for monitor in monitors.values():
            monitor.stop()
        return {name: list(m.received) for name, m in monitors.items()}


@cocotb.test()
async def dual_body(dut: SimHandleBase) -> None:
    """The body of ``params["dual_body"]`` on this DUT."""
    tb = TB(dut)
    await resolve_body(tb.params["dual_body"])(CocotbBench(tb))
    tb.check_done()
