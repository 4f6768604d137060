"""Satellite sift-message sender RTL: messages against encode_sift, resent until acknowledged."""

import random

import numpy as np
import pytest

from models.sifting.messages import decode_sift, encode_sift
from rtl.common.payload import pack_array, unpack
from rtl.sifting.crc_append import MessageWord
from rtl.sifting.sift_sender import SiftSender
from rtl.sifting.uplink_receiver import FrameBeat
from tb import pysim


def run_sender(seed: int, messages: int, depth: int, window: int, loss: float) -> dict:
    """The ground side of the test acknowledges in order; `loss` of the copies never arrive."""
    nrng = np.random.default_rng(seed)
    missing = nrng.random(messages) < 0.2
    counts = np.where(missing, 0, nrng.integers(0, 20, messages))
    codes = [None if missing[s] else nrng.integers(0, 16, counts[s]).astype(np.uint8)
             for s in range(messages)]
    entries = [int(c) for code in codes if code is not None for c in code]
    dut = SiftSender(depth=depth, window=window)
    rng = random.Random(seed)
    got: dict[int, list[np.ndarray]] = {}
    order: list[int] = []
    state = {"next": 0}

    async def ground(ctx) -> None:
        words: list[int] = []
        while state["next"] < messages:
            while rng.random() < 0.3:
                await ctx.tick()
            beat = unpack(MessageWord, await pysim.stream_get(ctx, dut.o))
            words.append(beat["data"])
            if not beat["last"]:
                continue
            copy, words = np.array(words, dtype=np.uint32), []
            msg = decode_sift(copy)
            assert msg is not None, "CRC of a copy"
            order.append(msg.seq)
            got.setdefault(msg.seq, []).append(copy)
            if rng.random() >= loss and msg.seq == state["next"]:
                state["next"] += 1
                ctx.set(dut.ack, state["next"])

    frames = pack_array(FrameBeat, {"seq": np.arange(messages), "count": counts,
                                    "missing": missing}).tolist()
    pysim.run(dut, ground,
              pysim.producer(dut.frame, frames, rng, idle=0.2),
              pysim.producer(dut.entry, entries, rng, idle=0.2))
    return {"codes": codes, "got": got, "order": order}


@pytest.mark.parametrize(("seed", "depth", "window", "loss"), [
    (1, 64, 4, 0.4),    # small ring and table: the builder stalls on both
    (2, 1024, 64, 0.5),
])
def test_every_message_resent_until_acknowledged(seed, depth, window, loss):
    run = run_sender(seed, 30, depth, window, loss)
    for seq, code in enumerate(run["codes"]):
        want = encode_sift(seq, code)
        assert run["got"].get(seq), f"message {seq} never sent"
        for copy in run["got"][seq]:
            assert np.array_equal(copy, want), f"message {seq}: words"
    assert sum(len(c) > 1 for c in run["got"].values()) > 5, "lost messages are repeated"
    # Copies go out oldest first: a new cycle starts only at the oldest unacknowledged message.
    steps = np.diff(run["order"])
    assert ((steps == 1) | (steps <= 0)).all()


def test_rejects_bad_parameters():
    with pytest.raises(ValueError, match="window"):
        SiftSender(window=3)
    with pytest.raises(ValueError, match="depth"):
        SiftSender(depth=0)
