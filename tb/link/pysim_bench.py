"""Amaranth-simulator runs of the link PHY blocks: seeded idle and backpressure, outputs captured.

:func:`run_rx` feeds received 34-bit words to :class:`rtl.link.rx.PhyRx` (the line never waits:
idle cycles are the deserialiser having no word yet) and captures everything it puts out, in the
shape of :class:`models.link.receiver.RxResult`; :func:`run_aligner` and :func:`run_deframer` do
the same for its two blocks. :func:`run_tx` drives
:class:`rtl.link.tx.PhyTx` with messages and sync requests and captures its line blocks.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from amaranth.hdl import Const, Value

from models.link.receiver import DEFAULT_RX, RxConfig, RxResult
from rtl.common.payload import pack, unpack
from rtl.link.aligner import ALIGNER_COUNTERS, BlockAligner
from rtl.link.deframer import DEFRAMER_COUNTERS, Deframer
from rtl.link.layouts import Block, SyncWord
from rtl.link.rx import RX_COUNTERS, PhyRx
from rtl.link.tx import PhyTx
from rtl.sifting.crc_append import MessageWord
from tb import pysim

SETTLE_CYCLES = 8
"""Cycles after the last received word until every output has come out (latency 3)."""


def run_rx(words: Sequence[int], config: RxConfig = DEFAULT_RX, *, depth: int = 16,
           idle: float = 0.0, stall: float = 0.0, seed: int = 0,
           sync_ready: bool = True) -> RxResult:
    """Everything :class:`PhyRx` puts out for ``words``; ``lock_trace`` is ``locked`` after each
    word, ``counters`` holds :data:`rtl.link.rx.RX_COUNTERS`; ``sync`` is never taken unless
    ``sync_ready``."""
    return _receive(PhyRx(config, depth), words, RX_COUNTERS, idle=idle, stall=stall,
                    seed=seed, sync_ready=sync_ready)


def run_aligner(words: Sequence[int], config: RxConfig = DEFAULT_RX, *, idle: float = 0.0,
                seed: int = 0) -> RxResult:
    """:class:`BlockAligner` on ``words``: its blocks in ``blocks``, ``lock_trace``, the final
    ``locked`` and ``offset`` and its counters (its output has no backpressure)."""
    return _receive(BlockAligner(config), words, ALIGNER_COUNTERS, idle=idle, seed=seed)


def run_deframer(blocks: Sequence[tuple[int, int]], *, depth: int = 16, idle: float = 0.0,
                 stall: float = 0.0, seed: int = 0) -> RxResult:
    """:class:`Deframer` on descrambled ``(header, body)`` blocks: beats, syncs, counters."""
    words = [pack(Block, {"header": h, "body": b}) for h, b in blocks]
    return _receive(Deframer(depth), words, DEFRAMER_COUNTERS, idle=idle, stall=stall,
                    seed=seed)


def _receive(dut: Any, words: Sequence[int], counters: Sequence[str], *, idle: float,
             seed: int, stall: float = 0.0, sync_ready: bool = True) -> RxResult:
    """Feed ``words`` to ``dut.i`` (never waits), take ``dut.o`` (and ``dut.sync`` if it has
    one), collect what comes out until ``SETTLE_CYCLES`` quiet cycles after the last word."""
    members = dut.signature.members
    blocks_out = dut.o.payload.shape() == Block
    rng = random.Random(seed)
    result = RxResult()
    sync = dut.sync if "sync" in members else None
    locked = dut.locked if "locked" in members else Const(0)
    sampled = (dut.i.valid, dut.o.valid, Value.cast(dut.o.payload), locked,
               *((sync.valid, Value.cast(sync.payload)) if sync is not None else ()))

    async def bench(ctx: Any) -> None:
        if sync is not None:
            ctx.set(sync.ready, sync_ready)
        k, quiet, pending = 0, 0, False
        while quiet < SETTLE_CYCLES:
            send = k < len(words) and not (idle and rng.random() < idle)
            ctx.set(dut.i.valid, send)
            if send:
                ctx.set(Value.cast(dut.i.payload), int(words[k]))
                k += 1
            ready = not (stall and rng.random() < stall)
            ctx.set(dut.o.ready, ready)
            _, _, sent, o_valid, o_payload, lock, *sync_sample = \
                await ctx.tick().sample(*sampled)
            if pending:
                result.lock_trace.append(bool(lock))
            pending = bool(sent)
            if o_valid and ready:
                beat = unpack(dut.o.payload.shape(), int(o_payload))
                if blocks_out:
                    result.blocks.append((beat["header"], beat["body"]))
                else:
                    result.beats.append((beat["data"], beat["last"], beat["abort"]))
            if sync_sample and sync_sample[0] and sync_ready:
                result.syncs.append(unpack(SyncWord, int(sync_sample[1]))["counter"])
            quiet = quiet + 1 if k == len(words) and not o_valid else 0
        if pending:
            result.lock_trace.append(bool(ctx.get(locked)))
        result.counters = {name: int(ctx.get(getattr(dut, name))) for name in counters}
        if "locked" in members:
            result.locked = bool(ctx.get(dut.locked))
            result.offset = int(ctx.get(dut.offset))

    pysim.run(dut, bench, max_cycles=4 * len(words) + 1000)
    return result


@dataclass
class TxCapture:
    """What :func:`run_tx` saw: the line blocks in order (flat 34-bit integers), the index in
    ``blocks`` of the block loaded in the cycle each sync request was taken."""

    blocks: list[int] = field(default_factory=list)
    sync_slots: list[int] = field(default_factory=list)


def run_tx(messages: Sequence[Sequence[int]], syncs: Sequence[tuple[int, int]] = (), *,
           idle: float = 0.0, stall: float = 0.0, seed: int = 0, tail: int = 4) -> TxCapture:
    """Drive :class:`PhyTx`: the words of ``messages`` on ``msg`` (with ``idle``), sync request
    ``(cycle, counter)`` raised from that cycle until taken, ``o`` taken unless stalled; runs
    until the block that took the last beat or request and ``tail`` more came out."""
    dut = PhyTx()
    rng = random.Random(seed)
    beats = [pack(MessageWord, {"data": int(w), "last": int(n == len(words) - 1)})
             for words in messages for n, w in enumerate(words)]
    capture = TxCapture()
    sampled = (dut.msg.ready, dut.sync.ready, dut.o.valid, Value.cast(dut.o.payload))

    async def bench(ctx: Any) -> None:
        k, s, cycle = 0, 0, 0
        end: int | None = None  # number of blocks to take: up to the last loaded one + tail
        held = False
        while end is None or len(capture.blocks) < end:
            if k < len(beats) and not held and not (idle and rng.random() < idle):
                held = True
                ctx.set(Value.cast(dut.msg.payload), beats[k])
            ctx.set(dut.msg.valid, held)
            want_sync = s < len(syncs) and syncs[s][0] <= cycle
            ctx.set(dut.sync.valid, want_sync)
            if want_sync:
                ctx.set(dut.sync.payload.counter, syncs[s][1])
            ready = not (stall and rng.random() < stall)
            ctx.set(dut.o.ready, ready)
            _, _, msg_ready, sync_ready, o_valid, o_payload = await ctx.tick().sample(*sampled)
            cycle += 1
            taken = o_valid and ready
            if taken:
                capture.blocks.append(int(o_payload))
            if held and msg_ready:
                k += 1
                held = False
            if want_sync and sync_ready:
                # the block loaded now is the next one after those already taken
                capture.sync_slots.append(len(capture.blocks))
                s += 1
            if end is None and k == len(beats) and s == len(syncs):
                end = len(capture.blocks) + 1 + tail  # blocks loaded so far, then ``tail``
        ctx.set(dut.msg.valid, 0)
        ctx.set(dut.sync.valid, 0)

    pysim.run(dut, bench, max_cycles=8 * (len(beats) + len(syncs)) + 4000)
    return capture


def split_blocks(blocks: Sequence[int]) -> tuple[list[int], list[int]]:
    """Headers and scrambled bodies of flat :data:`Block` integers."""
    parts = [unpack(Block, b) for b in blocks]
    return [p["header"] for p in parts], [p["body"] for p in parts]
