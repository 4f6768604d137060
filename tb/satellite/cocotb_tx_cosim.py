"""cocotb test: the transmitter co-simulation top against the golden models, per batch.

The RTL runs free under the clock that the simulator makes itself (``run_cocotb``'s
``internal_clock_ps``: ``TB(dut, clock_ps=None)``, ``clk`` is not even visible), and this module
lets cycles pass with one timer each time (:meth:`tb.testbench.TB.wait_cycles`). The three captures
append every completed batch to a record file (:func:`rtl.simonly.tx_cosim_top.record_file`);
this module wakes once per :data:`CHUNK_BATCHES` symbol batches on a timer, reads what the
files gained and hands it to :class:`tb.satellite.tx_scoreboard.TxScoreboard`, so neither a
per-bit VPI read nor a per-batch wake-up is left. Results go to ``params["result_path"]``.
"""

import json
import time
from pathlib import Path

import cocotb

from rtl.satellite.layouts import PULSE_INDEX_BITS
from rtl.simonly.tx_cosim_top import TxCosimParams
from tb.capture import RecordCollector
from tb.satellite.tx_scoreboard import TxScoreboard
from tb.testbench import TB

CHUNK_BATCHES = 128  # symbol batches per wake-up (~3 MB of bits): fewer numpy calls


@cocotb.test()
async def tx_chain_matches_models(dut):
    tb = TB(dut, clock_ps=None)
    p = tb.params
    params = TxCosimParams(**p["top"])
    board = TxScoreboard(params)
    widths = p["widths"]
    sym_batches = -(-p["pulses"] // (params.lanes * params.symbol_depth))

    dut.fault_request.value = 0
    sym = RecordCollector("sym", widths["sym"], params.symbol_depth, PULSE_INDEX_BITS,
                          board.check_symbols)
    others = [
        RecordCollector("dl", widths["dl"], params.downlink_depth, 0, board.check_downlink),
        RecordCollector("ans", widths["ans"], params.answer_depth, 0, board.check_answers),
    ]
    wall, cpu = time.perf_counter(), time.process_time()
    # The generator makes one beat per cycle; stalls of the scoreboarded captures slow it, but
    # never to a quarter: beyond that the chain has stopped and the run fails instead of waiting.
    max_cycles = 4 * sym_batches * params.symbol_depth + 4096
    while sym.batches < sym_batches:
        if tb.cycle() > max_cycles:
            raise AssertionError(f"symbol capture: {sym.batches} of {sym_batches} batches after "
                                 f"{tb.cycle()} cycles (the chain stopped)")
        # Stalls make a batch take longer than ``depth`` cycles: the loop simply waits again.
        await tb.wait_cycles(
            min(CHUNK_BATCHES, sym_batches - sym.batches) * params.symbol_depth + 1)
        sym.poll(limit=sym_batches)
        for collector in others:
            collector.poll()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    alarm = int(dut.alarm.value)

    result = board.summary()
    result.update({
        "alarm": alarm,
        "cycles": tb.cycle(),
        "sim_wall_s": wall,
        "sim_cpu_s": cpu,  # the simulator process's CPU time: robust to other load on the machine
    })
    Path(p["result_path"]).write_text(json.dumps(result, indent=2))
    assert alarm == 0, f"health alarm raised on a healthy source: {alarm:#x}"
    assert board.mismatches == 0, json.dumps(result["streams"])


@cocotb.test()
async def tx_chain_stops_on_faulty_source(dut):
    """A stuck or biased QRNG raises the sticky alarm and no symbol leaves after it."""
    tb = TB(dut, clock_ps=None)
    p = tb.params
    params = TxCosimParams(**p["top"])
    dut.fault_request.value = 0
    await tb.wait_cycles(2 * params.symbol_depth)
    assert int(dut.alarm.value) == 0
    dut.fault_request.value = p["fault"]
    await tb.wait_cycles(p["detect_cycles"])
    assert int(dut.alarm.value) == p["expect_alarm"], f"alarm {int(dut.alarm.value):#x}"
    stopped = (int(dut.sym_batches.value), int(dut.sym_fill.value))
    await tb.wait_cycles(2 * params.symbol_depth)
    assert (int(dut.sym_batches.value), int(dut.sym_fill.value)) == stopped
