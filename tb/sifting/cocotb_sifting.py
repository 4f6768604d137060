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
Scoreboards (:meth:`tb.testbench.TB.scoreboard`, payloads decoded through their layouts on a
mismatch): the reports against the model, both RTL key streams against the model packets, and
against each other (identical packet boundaries and (basis, intensity) tags for every packet both
closed).
"""

from collections.abc import Iterable, Sequence

import cocotb
import numpy as np
from amaranth.lib import data
from cocotb.triggers import RisingEdge

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
from rtl.common.payload import unpack_array
from rtl.sifting.layouts import KeyBeat, Report
from tb.sifting.stimulus import (
    counters,
    detections,
    key_tags,
    record_values,
    report_values,
    symbol_codes,
    write_beats,
)
from tb.stream import InOrderScoreboard
from tb.testbench import TB


def packet_beats(packets, packet_bits):
    if not packets:
        return []
    cat = [np.concatenate([getattr(p, f) for p in packets]) for f in ("bit", "basis", "intensity")]
    return key_beats(*cat, packet_bits).tolist()


def compare(tb: TB, name: str, got: Iterable, want: Iterable,
            layout: data.Layout | None = None) -> InOrderScoreboard:
    """A scoreboard of ``tb`` fed after the run: when the model needs what the RTL did first
    (which reports overflowed, the heads at which copies arrived), or when only a prefix of a
    stream has a model counterpart (closed packets)."""
    board = tb.scoreboard(name, layout=layout)
    board.expect(want)
    for item in got:
        board.actual(item)
    return board


def compare_keys(tb: TB, sat_key: Sequence[int], gnd_key: Sequence[int],
                 want_sat: Sequence[int], want_gnd: Sequence[int]) -> None:
    """Both RTL key streams against the model packets (every closed packet; the open one has no
    model counterpart) and against each other: identical packet boundaries and (basis,
    intensity) tags for every bit the ground sifted."""
    compare(tb, "satellite key", sat_key[:len(want_sat)], want_sat, KeyBeat)
    compare(tb, "ground key", gnd_key[:len(want_gnd)], want_gnd, KeyBeat)
    compare(tb, "key tags (ground vs satellite)", key_tags(gnd_key),
            key_tags(sat_key[:len(gnd_key)]), KeyBeat)


@cocotb.test()
async def sifting_over_lossy_link(dut):
    tb = TB(dut)
    p = tb.params
    nrng = np.random.default_rng(p["seed"])
    sift = SiftConfig(frame_pulses=p["frame_pulses"], packet_bits=p["packet_bits"],
                      cache_pulses=p["rows"], pulse_rate_hz=p["pulse_rate_hz"],
                      ground_seed=p["ground_seed"], drain_s=p["drain_s"])
    symbols = qrng_symbols(p["sat_seed"])
    drive = {port: tb.driver(port, idle=idle) for port, idle in (
        ("det", p["det_idle"]), ("write", 0.0), ("sat_report", 0.3), ("record", 0.2),
        ("gnd_entry", 0.4))}
    await tb.reset()

    # 1. Ground reporting, with forced overflow.
    pulse, basis, bit = detections(nrng, p["detections"], p["frames"] * p["frame_pulses"])
    reports_mon = tb.monitor("report", stall=p["report_stall"])
    await drive["det"].send(record_values(pulse, basis, bit))
    await tb.ticks(80)
    reports_mon.stop()
    got_reports = reports_mon.received
    overflow = int(dut.overflow.value)
    kept = np.isin(pulse, unpack_array(Report, got_reports)["pulse"])
    assert overflow > 0 and overflow + len(got_reports) == len(pulse), "overflow count"
    pulse, basis, bit = pulse[kept], basis[kept], bit[kept]
    want = make_reports(pulse, basis, bit, sift.ground_seed)
    # The ground keeps the measured bit in its reports (the link carries it masked).
    compare(tb, "reports", got_reports, report_values(pulse, basis, want.sampled, bit),
            Report).check_done()

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
    rows = write_beats(symbol_codes(p["sat_seed"], max(h for _, h in run.satellite_log) + 1), 1)
    entry_mon = tb.monitor("entry", stall=0.2)
    sat_key_mon = tb.monitor("sat_key", stall=0.2)
    entries: dict[int, list[int]] = {}
    head = 0
    for seq, log_head in run.satellite_log:
        if log_head == MISSING_HEAD:
            continue
        await drive["write"].send(rows[head:log_head])
        head = log_head
        await RisingEdge(dut.clk)
        assert int(dut.head.value) == head, f"frame {seq}: cache head"
        r = want.take(frames[seq])
        before = len(entry_mon.received)
        await drive["sat_report"].send(report_values(r.pulse, r.basis, r.sampled, r.bit))
        for _ in range(100):  # the pipeline drains in a few cycles, entry stalls included
            if len(entry_mon.received) - before >= len(r):
                break
            await RisingEdge(dut.clk)
        await tb.ticks(4)  # any extra entry would show up here
        entries[seq] = entry_mon.received[before:]
        assert len(entries[seq]) == len(r), f"frame {seq}: entries missing"
    sat_key = sat_key_mon.received
    assert len(sat_key) == run.satellite.sifted_bits, "satellite key length"
    assert np.array_equal(counters(int(dut.sat_errors.value)), run.satellite.errors)
    assert np.array_equal(counters(int(dut.sat_detected.value)), run.satellite.detected)
    assert int(dut.sat_dropped.value) == run.satellite.dropped > 0
    entry_mon.stop()
    sat_key_mon.stop()

    # 4. The ground RTL sifts the frames the ground concluded, in sequence order.
    gnd_key_mon = tb.monitor("gnd_key", stall=0.2)
    concluded = slice(0, int(bounds[run.ground_frames]))
    gnd_entries = []
    for seq in range(run.ground_frames):
        count = len(pulse[frames[seq]])
        gnd_entries += entries.get(seq, [int(SiftCode.MISSING)] * count)
    cocotb.start_soon(drive["gnd_entry"].send(gnd_entries))
    await drive["record"].send(got_reports[concluded])
    await tb.ticks(20)
    gnd_key_mon.stop()
    gnd_key = gnd_key_mon.received
    assert len(gnd_key) == run.ground.sifted_bits, "ground key length"
    assert int(dut.gnd_missing.value) == run.ground.missing > 0
    assert int(dut.gnd_dropped.value) == run.ground.dropped
    assert np.array_equal(counters(int(dut.gnd_detected.value)), run.ground.detected)
    compare_keys(tb, sat_key, gnd_key, packet_beats(run.satellite_packets, sift.packet_bits),
                 packet_beats(run.ground_packets, sift.packet_bits))
    tb.check_done()
    assert run.agreed >= 2
    dut._log.info("satellite %d key bits, ground %d; %d packets closed on both sides",
                  len(sat_key), len(gnd_key), run.agreed)
