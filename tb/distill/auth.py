"""Stimulus, golden tags and :mod:`tb.dual` bodies of the Wegman-Carter engine
(:mod:`rtl.distill.auth`) and the confirmation CRC (:mod:`rtl.distill.confirm`).

Authentication parameters: ``seed``, ``idle``, ``stall``, ``pool_words`` (32-bit words of key
pool) and ``messages``, each ``[length, verify, corrupt]``: sign a message of ``length`` random
bytes, or (``verify``) check it against the peer's tag, one bit of which is flipped when
``corrupt``. The peer is the model's :class:`models.postprocess.auth.Authenticator` on an
identical pool; the expected outcome is the local model's, and once the model's pool is
exhausted every later message is ``KEY_EXHAUSTED``.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from models.postprocess.auth import Authenticator, AuthKeyExhaustedError, KeyPool
from rtl.common.payload import pack, pack_array
from rtl.distill.layouts import (
    AuthCommand,
    AuthResult,
    AuthStatus,
    CrcResult,
    KeyWord,
    MessageByte,
)
from tb.distill.syndrome import bit_words
from tb.dual import Bench, Receive, Send


def key_words(bits: np.ndarray) -> list[int]:
    """The pool as :data:`KeyWord` payloads (32 bits MSB first, ``last`` on the final one)."""
    values = [int.from_bytes(np.packbits(w, bitorder="big").tobytes(), "big")
              for w in bits.reshape(-1, 32)]
    last = np.zeros(len(values), dtype=np.uint8)
    last[-1] = 1
    return pack_array(KeyWord, {"data": np.array(values, dtype=np.uint64), "last": last}).tolist()


def message_bytes(message: bytes) -> list[int]:
    last = np.zeros(len(message), dtype=np.uint8)
    last[-1] = 1
    return pack_array(MessageByte, {"data": np.frombuffer(message, dtype=np.uint8),
                                    "last": last}).tolist()


def auth_case(params: Mapping[str, Any]) -> tuple[list[int], list[int], list[int], list[int],
                                                  int]:
    """Commands, message bytes, key words, expected results and the model's consumed bits."""
    rng = np.random.default_rng(params["seed"])
    pool = rng.integers(0, 2, 32 * params["pool_words"], dtype=np.uint8)
    local, peer = Authenticator(KeyPool(pool.copy())), Authenticator(KeyPool(pool.copy()))
    commands, data, results = [], [], []
    exhausted = False
    for length, verify, corrupt in params["messages"]:
        message = rng.integers(0, 256, length, dtype=np.uint8).tobytes()
        tag, status, got = 0, AuthStatus.OK, 0
        try:
            if verify:
                try:  # an exhausted peer sends no tag; the local check then fails alike
                    tag = peer.tag(message) ^ (corrupt << int(rng.integers(127)))
                except AuthKeyExhaustedError:
                    tag = 0
                status = AuthStatus.OK if local.verify(message, tag) else AuthStatus.MISMATCH
            else:
                got = local.tag(message)
        except AuthKeyExhaustedError:
            exhausted = True
        if exhausted:
            status, got = AuthStatus.KEY_EXHAUSTED, 0
        commands.append(pack(AuthCommand, {"verify": verify, "tag": tag}))
        data += message_bytes(message)
        results.append(pack(AuthResult, {"status": status.value, "tag": got}))
    return commands, data, key_words(pool), results, local.consumed_bits


async def auth_body(bench: Bench) -> None:
    p = bench.params
    await bench.reset()
    commands, data, keys, want, consumed = auth_case(p)
    got = await bench.transfer(
        {"cmd": Send(commands, idle=p["idle"]), "msg": Send(data, idle=p["idle"]),
         "key": Send(keys, idle=p["idle"], background=True)},
        {"o": Receive(len(want), stall=p["stall"], settle=4)})
    bench.compare("tags", got["o"], want, layout=AuthResult)
    await bench.ticks(2)
    assert bench.get("consumed") == consumed, (bench.get("consumed"), consumed)


def crc_case(params: Mapping[str, Any]) -> tuple[list[int], list[int]]:
    """Key words and expected :data:`CrcResult` beats for keys of ``params["words"]`` words
    (``kinds``: "random", "zeros" or "ones" per key)."""
    rng = np.random.default_rng(params["seed"])
    words, results = [], []
    for count, kind in zip(params["words"], params["kinds"], strict=True):
        bits = {"zeros": np.zeros(32 * count, dtype=np.uint8),
                "ones": np.ones(32 * count, dtype=np.uint8)}.get(
            kind, rng.integers(0, 2, 32 * count, dtype=np.uint8))
        words += bit_words(bits, 32)
        crc = zlib.crc32(np.packbits(bits, bitorder="big").tobytes())
        results.append(pack(CrcResult, {"crc": crc, "words": count}))
    return words, results


async def crc_body(bench: Bench) -> None:
    p = bench.params
    await bench.reset()
    words, want = crc_case(p)
    got = await bench.transfer({"i": Send(words, idle=p["idle"])},
                               {"o": Receive(len(want), stall=p["stall"], settle=4)})
    bench.compare("crc", got["o"], want, layout=CrcResult)
