"""cocotb: satellite sifting on the DRAM RND cache, ground sifting out of the DRAM record store,
over a pass with the flight sizes' proportions (:class:`tb.memory.sift_harness.DramSiftHarness`).

Time is compressed: a frame period of ``frame_pulses`` pulses, and the cache life, light time,
uplink burst and link rate in the same proportion to it as at flight size
(:func:`tb.memory.sift_harness.compressed_params`). For each case:

1. The golden protocol (:func:`models.sifting.classical_link.run_sifting`) runs the pass over
   the link: which frames the satellite gets, at which cache head, which are declared missing.
2. The satellite replays that log: the transmitter's symbols are written up to the logged head
   (``lanes`` per beat), the writes pause until the DRAM holds every whole word, then the
   frame's reports go in (with idle, entries and key taken with backpressure). Every entry is
   checked against :func:`models.sifting.entries.satellite_sift` with the cache status that
   :func:`models.rnd_cache.cache_lookup` gives at the DRAM's head.
3. The ground pushes the reports of every concluded frame through the DRAM record store (it
   fills: ``record`` backpressure) into ground sifting, with the satellite RTL's entries (a
   missing frame's records get "missing" entries): key beats against
   :func:`models.sifting.entries.ground_sift`, both keys' tags identical.

``lossless_link_every_frame_in_time``: no frame missing, no lookup expired or pending.
``uplink_burst_frames_expire``: the burst loses frames, the satellite declares them missing
(some on its cache deadline), the ground drops exactly their records.
"""

from __future__ import annotations

import cocotb
import numpy as np
from cocotb.triggers import ReadOnly, RisingEdge

from models.rnd_cache import cache_lookup
from models.sifting.classical_link import (
    MISSING_HEAD,
    LinkConfig,
    SiftConfig,
    SiftingRun,
    downlink_config,
    qrng_symbols,
    run_sifting,
)
from models.sifting.entries import Reports, SiftCode, ground_sift, make_reports, satellite_sift
from models.sifting.packets import key_beats
from tb.sifting.cocotb_sifting import compare, compare_keys
from tb.sifting.stimulus import (
    counters,
    detections,
    report_values,
    symbol_codes,
    write_beats,
)
from tb.testbench import TB

PULSES_PER_WORD = 32


def _beats(results: list, packet_bits: int) -> list[int]:
    """Key beats of the model results of consecutive frames."""
    cat = [np.concatenate([getattr(r, f) for r in results])
           for f in ("key_bit", "key_basis", "key_intensity")]
    return key_beats(*cat, packet_bits).tolist()


async def _satellite(tb: TB, run: SiftingRun, want: Reports, frame_of: np.ndarray,
                     sift: SiftConfig) -> tuple[dict[int, list[int]], list, list[int]]:
    """Replay the satellite's log; return the entries per frame, the model results and the
    RTL key."""
    dut, p = tb.dut, tb.params
    lanes, capacity = p["lanes"], sift.cache_pulses
    symbols = qrng_symbols(p["sat_seed"])
    top = max(h for _, h in run.satellite_log)
    rows = write_beats(symbol_codes(p["sat_seed"], top + lanes), lanes)
    write, report = tb.driver("write"), tb.driver("report", idle=0.3)
    entry_mon, key_mon = tb.monitor("entry", stall=0.2), tb.monitor("sat_key", stall=0.2)
    entries: dict[int, list[int]] = {}
    results, written = [], 0
    for seq, log_head in run.satellite_log:
        if log_head == MISSING_HEAD:
            continue
        beats = -(-log_head // lanes)
        await write.send(rows[written:beats])
        written = beats
        head = written * lanes // PULSES_PER_WORD * PULSES_PER_WORD
        await tb.until(lambda head=head: int(dut.head.value) == head, 500,
                       f"frame {seq}: the DRAM holding {head} pulses")
        r = want.take(np.flatnonzero(frame_of == seq))
        status = cache_lookup(r.pulse, head, capacity)
        sym = symbols(r.pulse)
        result = satellite_sift(r, status, sym.intensity, sym.basis, sym.bit)
        results.append(result)
        before = len(entry_mon.received)
        await report.send(report_values(r.pulse, r.basis, r.sampled, r.bit))
        done = before + len(r)
        await tb.until(lambda done=done: len(entry_mon.received) >= done, 5_000,
                       f"frame {seq}: {len(r)} entries")
        await tb.ticks(8)  # an extra entry would show up here
        entries[seq] = entry_mon.received[before:]
        compare(tb, f"frame {seq} entries", entries[seq], result.code.tolist()).check_done()
    await tb.ticks(8)
    entry_mon.stop()
    key_mon.stop()
    assert np.array_equal(counters(int(dut.sat_detected.value)),
                          sum(r.detected for r in results))
    assert np.array_equal(counters(int(dut.sat_errors.value)), sum(r.errors for r in results))
    assert int(dut.sat_dropped.value) == sum(r.dropped for r in results)
    assert int(dut.write_overflow.value) == 0, "write queue overflowed"
    return entries, results, key_mon.received


async def _ground(tb: TB, run: SiftingRun, want: Reports, frame_of: np.ndarray,
                  pulse: np.ndarray, bit: np.ndarray,
                  entries: dict[int, list[int]]) -> tuple[object, list[int], int]:
    """The concluded frames' records through the store into ground sifting; return the model
    result, the RTL key and the store's peak level."""
    dut = tb.dut
    codes: list[int] = []
    for seq in range(run.ground_frames):
        codes += entries.get(seq, [int(SiftCode.MISSING)] * int(np.count_nonzero(frame_of == seq)))
    sel = frame_of < run.ground_frames
    result = ground_sift(want.basis[sel], bit[sel], want.sampled[sel], np.array(codes))
    key_mon = tb.monitor("gnd_key", stall=0.2)
    peak, watching = 0, True

    async def watch_level() -> None:
        nonlocal peak
        while watching:
            await RisingEdge(tb.clk)
            await ReadOnly()
            peak = max(peak, int(dut.level.value))

    cocotb.start_soon(watch_level())
    cocotb.start_soon(tb.driver("gnd_entry", idle=0.4).send(codes))
    records = report_values(pulse[sel], want.basis[sel], want.sampled[sel], bit[sel])
    await tb.driver("record", idle=0.2).send(records)
    await tb.until(lambda: len(key_mon.received) >= len(result.key), 1_000 + 20 * len(records),
                   "ground key")
    await tb.ticks(20)
    key_mon.stop()
    watching = False
    assert int(dut.gnd_missing.value) == result.missing
    assert int(dut.gnd_dropped.value) == result.dropped
    assert np.array_equal(counters(int(dut.gnd_detected.value)), result.detected)
    return result, key_mon.received, peak


async def _pass(dut, burst: bool) -> SiftingRun:
    tb = TB(dut)
    p = tb.params
    nrng = np.random.default_rng(p["seed"] + burst)
    frame_pulses = p["frame_pulses"]
    pulses = p["frames"] * frame_pulses
    pulse, basis, bit = detections(nrng, p["per_frame"] * p["frames"], pulses)
    sift = SiftConfig(frame_pulses=frame_pulses, packet_bits=p["packet_bits"],
                      cache_pulses=p["capacity"], pulse_rate_hz=1.0,
                      ground_seed=p["ground_seed"], drain_s=8 * frame_pulses)
    link = {"rate_bps": p["link_bps"], "latency_s": p["light"]}
    run = run_sifting(pulse, basis, bit, qrng_symbols(p["sat_seed"]), sift=sift,
                      uplink=LinkConfig(**link, bursts=(tuple(p["burst"]),) if burst else ()),
                      downlink=downlink_config(**link), seed=p["seed"], pulses=pulses)
    want = make_reports(pulse, basis, bit, sift.ground_seed)
    frame_of = (pulse // np.uint64(frame_pulses)).astype(np.int64)
    for port in ("write", "report", "record", "gnd_entry"):
        getattr(dut, f"{port}__valid").value = 0
    for port in ("entry", "sat_key", "gnd_key"):
        getattr(dut, f"{port}__ready").value = 0
    await tb.reset()
    entries, results, sat_key = await _satellite(tb, run, want, frame_of, sift)
    result, gnd_key, peak = await _ground(tb, run, want, frame_of, pulse, bit, entries)
    compare_keys(tb, sat_key, gnd_key, _beats(results, sift.packet_bits),
                 _beats([result], sift.packet_bits))
    tb.check_done()
    assert run.ground_frames == run.frames
    assert peak == p["store_depth"], f"the store never filled (peak {peak})"
    tb.log.info(f"{run.frames} frames, {run.missing_frames} missing ({run.timeout_frames} on the "
                f"deadline), {len(sat_key)} satellite key bits, {len(gnd_key)} ground, "
                f"{result.missing} records dropped as missing, store peak {peak}")
    return run


@cocotb.test()
async def lossless_link_every_frame_in_time(dut):
    run = await _pass(dut, burst=False)
    assert run.missing_frames == 0
    assert int(dut.expired_count.value) == 0 and int(dut.pending_count.value) == 0
    assert run.satellite.dropped == 0


@cocotb.test()
async def uplink_burst_frames_expire(dut):
    run = await _pass(dut, burst=True)
    assert run.missing_frames > 1 and run.timeout_frames > 0
    assert int(dut.expired_count.value) == 0 == run.satellite.dropped
