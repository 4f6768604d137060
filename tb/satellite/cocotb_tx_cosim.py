"""cocotb test: the transmitter co-simulation top against the golden models, per batch.

The RTL runs free under the clock that the simulator makes itself (``run_cocotb``'s
``internal_clock_ps``: ``TB(dut, clock_ps=None)``, ``clk`` is not even visible), and this module
lets cycles pass with one timer each time (:meth:`tb.testbench.TB.wait_cycles`). The three captures
append every completed batch to a record file (:func:`rtl.simonly.tx_cosim_top.record_file`);
this module wakes once per :data:`CHUNK_BATCHES` symbol batches on a timer, reads what the
files gained and hands it to :class:`tb.satellite.tx_scoreboard.TxScoreboard`, so neither a
per-bit VPI read nor a per-batch wake-up is left. Results go to ``params["result_path"]``.

``params["fault"]`` (``{"code", "from_beat"}``, default none) makes the QRNG stuck or biased
from that beat on: the health alarm and every safe beat after it are then part of what the
scoreboard predicts.
"""

import json
import time
from pathlib import Path

import cocotb

from models.transmitter import QrngFault
from rtl.common.payload import unpack
from rtl.satellite.layouts import HealthAlarm, SafeCounts
from rtl.simonly.tx_cosim_top import TAG_FIELD_BITS, TxCosimParams
from tb.capture import RecordCollector
from tb.satellite.tx_scoreboard import FIRST_BEAT_CYCLE, TxScoreboard
from tb.testbench import TB

CHUNK_BATCHES = 128  # symbol batches per wake-up (~3 MB of bits): fewer numpy calls


@cocotb.test()
async def tx_chain_matches_models(dut):
    tb = TB(dut, clock_ps=None)
    p = tb.params
    params = TxCosimParams(**p["top"])
    fault = QrngFault(**p.get("fault", {}))
    sym_batches = -(-p["pulses"] // (params.lanes * params.symbol_depth))
    # The laser sends one beat per cycle: the run takes this many cycles (and beats), plus the
    # last wake-up's overshoot (at most one chunk).
    run_cycles = (sym_batches + CHUNK_BATCHES) * params.symbol_depth + FIRST_BEAT_CYCLE
    board = TxScoreboard(params, beats=run_cycles, fault=fault)
    widths = p["widths"]

    dut.fault_request.value = fault.code
    dut.fault_from.value = fault.from_beat
    sym = RecordCollector("sym", widths["sym"], params.symbol_depth, 2 * TAG_FIELD_BITS,
                          board.check_symbols)
    others = [
        RecordCollector("dl", widths["dl"], params.downlink_depth, 2 * TAG_FIELD_BITS,
                        board.check_downlink),
        RecordCollector("ans", widths["ans"], params.answer_depth, 0, board.check_answers),
    ]
    wall, cpu = time.perf_counter(), time.process_time()
    while sym.batches < sym_batches:
        if tb.cycle() > run_cycles:
            raise AssertionError(f"symbol capture: {sym.batches} of {sym_batches} batches after "
                                 f"{tb.cycle()} cycles (the laser missed cycles)")
        await tb.wait_cycles(
            min(CHUNK_BATCHES, sym_batches - sym.batches) * params.symbol_depth + 1)
        sym.poll(limit=sym_batches)
        for collector in others:
            collector.poll()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    alarm = int(dut.alarm.value)
    # Read together: both count the beat in the timebase's register.
    sent = int(dut.fired.value) // params.lanes
    safe = unpack(SafeCounts, int(dut.safe.value))
    counted = {"underflow": safe["underflow"], "alarm": safe["alarm"]}

    result = board.summary()
    result.update({
        "alarm": alarm,
        "safe_pulses": counted,
        "cycles": tb.cycle(),
        "sim_wall_s": wall,
        "sim_cpu_s": cpu,  # the simulator process's CPU time: robust to other load on the machine
    })
    Path(p["result_path"]).write_text(json.dumps(result, indent=2))
    want_alarm = unpack(HealthAlarm, alarm)
    schedule = board.schedule
    assert (want_alarm["rct"], want_alarm["apt"]) == (int(schedule.rct), int(schedule.apt)), (
        f"health alarm {alarm:#x}, model rct={schedule.rct} apt={schedule.apt}")
    counter_error = board.safe_counts_mismatch(counted, sent)
    assert counter_error is None, counter_error
    assert board.mismatches == 0, json.dumps(result["streams"])
