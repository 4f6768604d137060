"""Link PHY benchmarks (``make bench``): payload bits per cycle of the RTL transmitter and
receiver, lock acquisition in blocks, the golden receiver model's decode rate, and the clock
recovery model's tracking range and lock time."""

import pathlib
import time

import numpy as np

from models.link import cdr, channel, framing, line_code, receiver
from models.link.line_code import BLOCK_BITS, BODY_BITS
from tb.link.pysim_bench import run_rx, run_tx
from tb.link.stimulus import line_bits, random_messages

MESSAGE_WORDS = 100  # a sift message is ~57 words at the link-budget rate, 422 at 1 M/s


def _rtl_entries() -> list[dict]:
    msgs = random_messages(1, 20, longest=MESSAGE_WORDS)
    msgs = [m + [0] * (MESSAGE_WORDS - len(m)) for m in msgs]  # every message MESSAGE_WORDS long
    payload_bits = BODY_BITS * MESSAGE_WORDS * len(msgs)
    tx = run_tx(msgs, tail=2)
    headers, bodies, _ = line_code.decode(np.asarray(tx.blocks, dtype=np.uint64))
    ends = (headers == line_code.HEADER_CONTROL) & (bodies == line_code.Control.END)
    tx_blocks = int(np.flatnonzero(ends)[-1]) + 1
    assert framing.items(headers, bodies)[0] == msgs
    lead = 200  # idle blocks in which the receiver locks (99 on average, below)
    bits = line_bits(msgs, lead=lead, gap=0, skew=5, tail=2)
    rx = run_rx(line_code.bits_to_words(bits).tolist())
    assert receiver.messages(rx.beats) == [(m, False) for m in msgs]
    rx_blocks = len(rx.lock_trace) - lead - 2  # one received word per cycle, no idle
    delivered = BODY_BITS * len(rx.beats)
    return [
        {"name": "link_phy_rtl_tx_payload_bits_per_cycle", "value": payload_bits / tx_blocks,
         "unit": "bits/cycle", "message_words": MESSAGE_WORDS, "blocks": tx_blocks,
         "line_bits_per_cycle": BLOCK_BITS},
        {"name": "link_phy_rtl_rx_payload_bits_per_cycle", "value": delivered / rx_blocks,
         "unit": "bits/cycle", "message_words": MESSAGE_WORDS, "blocks": rx_blocks},
        {"name": "link_phy_payload_fraction_of_line", "value": payload_bits /
         (tx_blocks * BLOCK_BITS), "unit": "fraction", "message_words": MESSAGE_WORDS},
    ]


def _lock_entry() -> dict:
    """Blocks from the first received word to lock, default thresholds, every bit offset."""
    bits = line_bits([], lead=400)
    blocks = []
    for skew in range(BLOCK_BITS):
        noise = np.random.default_rng(skew).integers(0, 2, skew).astype(np.uint8)
        trace = receiver.receive(np.concatenate([noise, bits])).lock_trace
        blocks.append(trace.index(True) + 1)
    return {"name": "link_phy_lock_blocks_mean", "value": float(np.mean(blocks)),
            "unit": "blocks", "max": int(np.max(blocks)),
            "lock_good": receiver.DEFAULT_RX.lock_good}


def _model_entry() -> dict:
    msgs = random_messages(2, 400, longest=60)
    bits = line_bits(msgs, lead=100, sync_every=512, skew=11)
    faults = channel.random_faults(len(bits), 3, ber=1e-5, burst_rate=2e-6, burst_bits=2000,
                                   slip_rate=1e-6)
    received = channel.apply(bits, faults)
    start, cpu = time.perf_counter(), time.process_time()
    result = receiver.receive(received)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {"name": "link_phy_model_decode_rate", "value": len(received) / wall,
            "unit": "line bits/s", "cpu_s": cpu, "wall_s": wall, "line_bits": len(received),
            "messages": result.counters["messages"], "lock_losses": result.counters["lock_losses"]}


CDR_RATES_PPM = (-27.0, 0.0, 27.0)  # the link's extremes: Doppler 25 ppm, oscillators 1 ppm


def _cdr_entries() -> list[dict]:
    """The CDR model's tracking range (1-ppm grid) and its lock time over start phases."""
    config = cdr.DEFAULT_CDR
    locks = [cdr.recover(np.full(2048, ppm * 1e-6), 1.0, config, phase_ui=phase).lock_block
             for ppm in CDR_RATES_PPM for phase in np.linspace(-0.5, 0.5, 32, endpoint=False)]
    if None in locks:
        raise RuntimeError("bench_link: the CDR model did not lock inside its range")
    return [
        {"name": "link_cdr_tracking_ppm", "value": cdr.tracking_range_ppm(config),
         "unit": "ppm", "pull_in_ppm": config.pull_in_ppm},
        {"name": "link_cdr_lock_blocks_mean", "value": float(np.mean(locks)), "unit": "blocks",
         "min": int(min(locks)), "max": int(max(locks)), "rates_ppm": list(CDR_RATES_PPM)},
    ]


def run(out_dir: pathlib.Path) -> list[dict]:
    return [*_rtl_entries(), _lock_entry(), _model_entry(), *_cdr_entries()]
