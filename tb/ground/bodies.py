"""Test bodies of the ground blocks, each run in Amaranth's simulator and through cocotb
(:mod:`tb.dual`): stimulus (named streams of :mod:`tb.ground.streams`), golden model and checks.

Parameters (``bench.params``) are JSON values: ``seed``, ``idle`` and ``stall`` always, the
block's own ones as each body documents.
"""

from __future__ import annotations

from models.ground.sync import SyncConfig, detect
from models.ground.tdc import run_channel
from models.ground.timing import IndexerConfig, index_stream
from rtl.common.payload import pack
from rtl.ground.layouts import RawHit, TimingRecord
from rtl.ground.sync import FrameEvent
from rtl.sifting.layouts import DetectionRecord
from tb.dual import Bench, Receive, Send
from tb.ground.streams import squash_case, sync_bits, tag_stream
from tb.ground.tdc import line_case
from tb.packing import detection_payloads, frame_event_payloads, record_payloads, tag_payloads

SETTLE = 50  # cycles after the last expected beat in which no further beat may come


async def squasher(bench: Bench) -> None:
    """Squasher against :func:`models.ground.squash.squash`: indexer records of a high-rate
    stretch (stimulus ``seed``), hash seed ``squash_seed`` (the DUT's)."""
    p = bench.params
    records, want = squash_case(p["seed"], p["squash_seed"])
    await bench.reset()
    got = await bench.transfer(
        {"records": Send(record_payloads(records), idle=p["idle"])},
        {"detections": Receive(len(want), stall=p["stall"], settle=SETTLE)})
    bench.compare("detections", got["detections"], detection_payloads(want),
                  layout=DetectionRecord)


async def indexer(bench: Bench) -> None:
    """PulseIndexer against :func:`models.ground.timing.index_stream`: tag stream ``tags``
    (specs of :func:`tb.ground.streams.tag_stream`), registers ``delta`` and ``gate_half``,
    the DUT built with pending ``depth``; every record and the slip counter."""
    p = bench.params
    cfg = IndexerConfig(delta=p["delta"], depth=p["depth"], gate_half=p.get("gate_half", 400))
    tags = tag_stream(p["tags"])
    result = index_stream(*tags, cfg)
    await bench.reset()
    bench.set("delta", cfg.delta)
    bench.set("gate_half", cfg.gate_half)
    got = await bench.transfer(
        {"tags": Send(tag_payloads(*tags), idle=p["idle"])},
        {"records": Receive(len(result.records), stall=p["stall"], settle=SETTLE)})
    bench.compare("records", got["records"], record_payloads(result.records),
                  layout=TimingRecord)
    assert bench.get("slips") == result.slips, f"slips {bench.get('slips')}, {result.slips}"


async def sync(bench: Bench) -> None:
    """SyncDetector against :func:`models.ground.sync.detect`: bits of
    :func:`tb.ground.streams.sync_bits` (``bits``: its arguments), ``frame_bits``,
    ``max_misses``; every frame event, the loss counter, nothing dropped."""
    p = bench.params
    cfg = SyncConfig(frame_bits=p["frame_bits"], max_misses=p["max_misses"])
    bits = sync_bits(**p["bits"])
    want = detect(bits, cfg)
    await bench.reset()
    got = await bench.transfer(
        {"bits": Send(bits.tolist(), idle=p["idle"])},
        {"frames": Receive(len(want.events), stall=p["stall"], settle=SETTLE)})
    bench.compare("frames", got["frames"], frame_event_payloads(want.events), layout=FrameEvent)
    await bench.ticks(2)
    assert (bench.get("losses"), bench.get("dropped")) == (want.losses, 0), (
        f"losses {bench.get('losses')} (model {want.losses}), dropped {bench.get('dropped')}")


async def tdc_channel(bench: Bench) -> None:
    """TdcChannel on the replayed delay line (:func:`tb.ground.tdc.line_dut`) against
    :func:`models.ground.tdc.run_channel`: every raw hit in order, then every counter and flag
    (parameters of :func:`tb.ground.tdc.line_case`). The sink never stalls: a TDC cannot wait."""
    p = bench.params
    line, rises, widths, cfg = line_case(p)
    want = run_channel(line.codes(rises, widths, p["cycles"]), cfg)
    hits = [pack(RawHit, {"coarse": int(c), "fine": int(f), "channel": cfg.channel,
                          "calibration": int(k)})
            for c, f, k in zip(want.coarse.tolist(), want.fine.tolist(),
                               want.calibration.tolist(), strict=True)]
    await bench.reset()
    bench.set("dead_cycles", cfg.dead_cycles)
    bench.set("stuck_cycles", cfg.stuck_cycles)
    bench.set("clear", 0)
    got = await bench.transfer({}, {"hits": Receive(len(hits), settle=p["cycles"])})
    bench.compare("hits", got["hits"], hits, layout=RawHit)
    counters = {name: bench.get(name) for name in
                ("lost_dead", "lost_pileup", "lost_overflow", "coverage_errors", "stuck_events",
                 "lost_calibration")}
    assert counters == {"lost_dead": want.lost_dead, "lost_pileup": want.lost_pileup,
                        "lost_overflow": 0, "coverage_errors": want.coverage_errors,
                        "stuck_events": want.stuck_events,
                        "lost_calibration": want.lost_calibration}, counters
