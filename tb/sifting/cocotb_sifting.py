"""cocotb co-simulation: ground reporting, satellite and ground sifting RTL over the lossy link.

1. Detections go through :class:`GroundReport` as fast as it takes them (the report port is
   stalled at random, so the FIFO overflows): the reports are checked against the model and the
   overflowed detections are dropped from the pass (they were never reported).
2. The golden protocol (:func:`models.sifting.classical_link.run_sifting`) runs the lossy link with
   those reports: 30 % loss, bursts, bit errors, duplicates. Its satellite log says which frames the
   satellite processed, in which order, at which RND cache head.
3. The satellite RTL replays that log: cache writes up to the logged head, then the frame's
   reports (bit masked as on the link); its entries and key beats are recorded.
4. The ground RTL sifts the frames the ground concluded, with the satellite RTL's entries
   (``missing`` for frames that never arrived).
Scoreboards: both RTL key streams against the model packets, and against each other (identical
packet boundaries and (basis, intensity) tags for every packet both closed).
"""

import random

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge

from models.sifting.classical_link import (
    MISSING_HEAD,
    LinkConfig,
    SiftConfig,
    downlink_config,
    qrng_symbols,
    run_sifting,
)
from models.sifting.entries import SiftCode, make_reports
from models.sifting.packets import key_beats
from tb.params import tb_params
from tb.sifting.stimulus import (
    counters,
    detections,
    record_value,
    report_value,
    symbol_codes,
    unpack_report,
)
from tb.stream import StreamDriver, StreamMonitor

TAGS_MASK = 0b11110  # basis, intensity, last: everything but the key bit


def packet_beats(packets, packet_bits):
    if not packets:
        return []
    cat = [np.concatenate([getattr(p, f) for p in packets]) for f in ("bit", "basis", "intensity")]
    return key_beats(*cat, packet_bits).tolist()


async def drain(dut, monitors, cycles=20):
    await ClockCycles(dut.clk, cycles)
    return [m.received for m in monitors]


@cocotb.test()
async def sifting_over_lossy_link(dut):
    p = tb_params()
    rng = random.Random(p["seed"])
    nrng = np.random.default_rng(p["seed"])
    sift = SiftConfig(frame_pulses=p["frame_pulses"], packet_bits=p["packet_bits"],
                      cache_pulses=p["rows"], pulse_rate_hz=p["pulse_rate_hz"],
                      ground_seed=p["ground_seed"], drain_s=p["drain_s"])
    symbols = qrng_symbols(p["sat_seed"])
    cocotb.start_soon(Clock(dut.clk, 6400, unit="ps").start())
    for port in ("det", "write", "sat_report", "record", "gnd_entry"):
        getattr(dut, f"{port}__valid").value = 0
    dut.rst.value = 1
    await ClockCycles(dut.clk, 2)
    dut.rst.value = 0
    await RisingEdge(dut.clk)

    # 1. Ground reporting, with forced overflow.
    pulse, basis, bit = detections(nrng, p["detections"], p["frames"] * p["frame_pulses"])
    reports_mon = StreamMonitor(dut, "report", rng, stall=p["report_stall"])
    task = cocotb.start_soon(reports_mon.run())
    await StreamDriver(dut, "det", rng, idle=p["det_idle"]).send(
        record_value(int(a), int(b), int(c)) for a, b, c in zip(pulse, basis, bit, strict=True))
    (got_reports,) = await drain(dut, [reports_mon], 80)
    task.cancel()
    got = [unpack_report(v) for v in got_reports]
    overflow = int(dut.overflow.value)
    kept = np.isin(pulse, np.array([g[0] for g in got], dtype=np.uint64))
    assert overflow > 0 and overflow + len(got) == len(pulse), "overflow count"
    pulse, basis, bit = pulse[kept], basis[kept], bit[kept]
    want = make_reports(pulse, basis, bit, sift.ground_seed)
    assert [g[0] for g in got] == pulse.tolist(), "report order / pulses"
    assert [g[2] for g in got] == want.sampled.tolist(), "sampling"
    assert [g[3] for g in got] == bit.tolist() and [g[1] for g in got] == basis.tolist()

    # 2. The lossy link, golden protocol.
    faults = {"loss": 0.3, "ber": p["ber"], "duplicate": 0.1, "latency_s": p["latency_s"],
              "bursts": tuple(tuple(b) for b in p["bursts"])}
    run = run_sifting(pulse, basis, bit, symbols, sift=sift, uplink=LinkConfig(**faults),
                      downlink=downlink_config(**faults), seed=p["seed"],
                      pulses=p["frames"] * p["frame_pulses"])
    bounds = np.searchsorted(pulse, np.arange(run.frames + 1, dtype=np.uint64)
                             * np.uint64(sift.frame_pulses))
    frames = {seq: slice(int(bounds[seq]), int(bounds[seq + 1])) for seq in range(run.frames)}
    missing = [seq for seq, head in run.satellite_log if head == MISSING_HEAD]
    expired = sum(1 for seq, head in run.satellite_log
                  if head != MISSING_HEAD and len(pulse[frames[seq]])
                  and int(pulse[frames[seq]][0]) < head - sift.cache_pulses)
    dut._log.info("%d detections (%d overflowed), %d frames, %d missing, %d with expired lookups,"
                  " ground concluded %d", len(pulse), overflow, run.frames, len(missing),
                  expired, run.ground_frames)
    assert missing and expired, "the link faults must exercise missing frames and expiry"

    # 3. The satellite RTL replays the satellite's decisions.
    codes = symbol_codes(p["sat_seed"], max(h for _, h in run.satellite_log) + 1)
    entry_mon = StreamMonitor(dut, "entry", rng, stall=0.2)
    sat_key_mon = StreamMonitor(dut, "sat_key", rng, stall=0.2)
    tasks = [cocotb.start_soon(m.run()) for m in (entry_mon, sat_key_mon)]
    writer = StreamDriver(dut, "write", rng, idle=0.0)
    sender = StreamDriver(dut, "sat_report", rng, idle=0.3)
    entries: dict[int, list[int]] = {}
    head = 0
    for seq, log_head in run.satellite_log:
        if log_head == MISSING_HEAD:
            continue
        await writer.send(int(c) for c in codes[head:log_head])
        head = log_head
        await RisingEdge(dut.clk)
        assert int(dut.head.value) == head, f"frame {seq}: cache head"
        r = want.take(frames[seq])
        before = len(entry_mon.received)
        await sender.send(report_value(int(a), int(b), int(s), int(x))
                          for a, b, s, x in zip(r.pulse, r.basis, r.sampled, r.bit, strict=True))
        for _ in range(100):  # the pipeline drains in a few cycles, entry stalls included
            if len(entry_mon.received) - before >= len(r):
                break
            await RisingEdge(dut.clk)
        await ClockCycles(dut.clk, 4)  # any extra entry would show up here
        entries[seq] = entry_mon.received[before:]
        assert len(entries[seq]) == len(r), f"frame {seq}: entries missing"
    sat_key = sat_key_mon.received
    want_sat = packet_beats(run.satellite_packets, sift.packet_bits)
    assert sat_key[:len(want_sat)] == want_sat, "satellite key against the model packets"
    assert len(sat_key) == run.satellite.sifted_bits, "satellite key length"
    assert np.array_equal(counters(int(dut.sat_errors.value)), run.satellite.errors)
    assert np.array_equal(counters(int(dut.sat_detected.value)), run.satellite.detected)
    assert int(dut.sat_dropped.value) == run.satellite.dropped > 0
    for t in tasks:
        t.cancel()

    # 4. The ground RTL sifts the frames the ground concluded, in sequence order.
    gnd_key_mon = StreamMonitor(dut, "gnd_key", rng, stall=0.2)
    task = cocotb.start_soon(gnd_key_mon.run())
    concluded = slice(0, int(bounds[run.ground_frames]))
    gnd_entries = []
    for seq in range(run.ground_frames):
        count = len(pulse[frames[seq]])
        gnd_entries += entries.get(seq, [int(SiftCode.MISSING)] * count)
    records = StreamDriver(dut, "record", rng, idle=0.2)
    cocotb.start_soon(StreamDriver(dut, "gnd_entry", rng, idle=0.4).send(gnd_entries))
    await records.send(got_reports[concluded])
    (gnd_key,) = await drain(dut, [gnd_key_mon], 20)
    task.cancel()
    want_gnd = packet_beats(run.ground_packets, sift.packet_bits)
    assert len(gnd_key) == run.ground.sifted_bits, "ground key length"
    assert gnd_key[:len(want_gnd)] == want_gnd, "ground key against the model packets"
    assert int(dut.gnd_missing.value) == run.ground.missing > 0
    assert int(dut.gnd_dropped.value) == run.ground.dropped
    assert np.array_equal(counters(int(dut.gnd_detected.value)), run.ground.detected)
    # Both RTL sides: identical boundaries and tags for every bit the ground sifted.
    both = len(gnd_key)
    assert [k & TAGS_MASK for k in gnd_key] == [k & TAGS_MASK for k in sat_key[:both]]
    assert run.agreed >= 2
    dut._log.info("satellite %d key bits, ground %d; %d packets closed on both sides",
                  len(sat_key), len(gnd_key), run.agreed)
