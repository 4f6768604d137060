"""cocotb test: the transmitter co-simulation top against the golden models, per batch.

The RTL runs free under the clock that the simulator makes itself (``run_cocotb``'s
``internal_clock_ps``: no cocotb ``Clock``, ``clk`` is not even visible); this module wakes only
on the ``<name>_done`` strobes of the three captures and hands each chunk of batches to
:class:`tb.satellite.tx_scoreboard.TxScoreboard`. Results go to ``params["result_path"]``.
"""

import json
import time
from pathlib import Path

import cocotb
import numpy as np
from cocotb.triggers import Event, ReadOnly, RisingEdge, Timer
from cocotb.utils import get_sim_time

from rtl.simonly.tx_cosim_top import CLOCK_PS, TxCosimParams
from tb.capture import beats_of_binstr
from tb.params import tb_params
from tb.satellite.tx_scoreboard import TxScoreboard

CHUNK_BATCHES = 32  # batches decoded together: fewer numpy calls, bounded memory


async def cycles(n: int) -> None:
    """Let ``n`` clock cycles pass with one timer (the clock runs inside the simulator).

    Starting from a falling edge (time 0 or an earlier call), this ends on a falling edge too:
    signals are settled and inputs can be written without racing a rising edge.
    """
    await Timer(n * CLOCK_PS, unit="ps")


class BatchCollector:
    def __init__(self, dut, name: str, width: int, check) -> None:
        self.done = getattr(dut, f"{name}_done")
        self.batch = getattr(dut, f"{name}_batch")
        self.tag = getattr(dut, f"{name}_batch_tag", None)
        self.tags: list[int] = []
        self.width = width
        self.check = check
        self.pending: list[str] = []
        self.batches = 0

    async def run(self, until: int | None = None, finished: Event | None = None) -> None:
        while until is None or self.batches < until:
            await RisingEdge(self.done)
            await ReadOnly()
            self.pending.append(str(self.batch.value))
            if self.tag is not None:
                self.tags.append(int(self.tag.value))
            self.batches += 1
            if len(self.pending) >= CHUNK_BATCHES:
                self.flush()
        self.flush()
        if finished is not None:
            finished.set()

    def flush(self) -> None:
        if self.pending:
            # Oldest batch in the LSBs of the joined string: later batches go first.
            beats = beats_of_binstr("".join(reversed(self.pending)), self.width)
            self.check(beats, np.array(self.tags, dtype=np.uint64))
            self.pending, self.tags = [], []


@cocotb.test()
async def tx_chain_matches_models(dut):
    p = tb_params()
    params = TxCosimParams(**p["top"])
    board = TxScoreboard(params)
    widths = p["widths"]
    sym_batches = -(-p["pulses"] // (params.lanes * params.symbol_depth))

    dut.fault_request.value = 0
    finished = Event()
    sym = BatchCollector(dut, "sym", widths["sym"], board.check_symbols)
    others = [
        BatchCollector(dut, "dl", widths["dl"], board.check_downlink),
        BatchCollector(dut, "ans", widths["ans"], board.check_answers),
    ]
    for collector in others:
        cocotb.start_soon(collector.run())
    wall, cpu = time.perf_counter(), time.process_time()
    cocotb.start_soon(sym.run(until=sym_batches, finished=finished))
    await finished.wait()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    for collector in others:
        collector.flush()
    alarm = int(dut.alarm.value)

    result = board.summary()
    result.update({
        "alarm": alarm,
        "cycles": int(get_sim_time(unit="ps")) // CLOCK_PS,
        "sim_wall_s": wall,
        "sim_cpu_s": cpu,  # the simulator process's CPU time: robust to other load on the machine
    })
    Path(p["result_path"]).write_text(json.dumps(result, indent=2))
    assert alarm == 0, f"health alarm raised on a healthy source: {alarm:#x}"
    assert board.mismatches == 0, json.dumps(result["streams"])


@cocotb.test()
async def tx_chain_stops_on_faulty_source(dut):
    """A stuck or biased QRNG raises the sticky alarm and no symbol leaves after it."""
    p = tb_params()
    params = TxCosimParams(**p["top"])
    dut.fault_request.value = 0
    await cycles(4 * params.symbol_depth)
    assert int(dut.alarm.value) == 0
    dut.fault_request.value = p["fault"]
    await cycles(p["detect_cycles"])
    assert int(dut.alarm.value) == p["expect_alarm"], f"alarm {int(dut.alarm.value):#x}"
    stopped = (int(dut.sym_batches.value), int(dut.sym_fill.value))
    await cycles(4 * params.symbol_depth)
    assert (int(dut.sym_batches.value), int(dut.sym_fill.value)) == stopped
