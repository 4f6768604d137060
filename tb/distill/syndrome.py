"""Stimulus, golden syndromes and the :mod:`tb.dual` body of the syndrome encoder
(:mod:`rtl.distill.syndrome`).

A test describes a run as JSON parameters: ``n``, ``ms`` (one code per rate), ``width``,
``seed``, ``idle``, ``stall`` and ``packets``, each ``[rate, kind, extra_words]``: ``kind``
"random", "zeros" or "ones"; ``extra_words`` words more (or, negative, fewer) than the packet's
n / width, so that a nonzero value is a length fault. The body sends the packets one after the
other and compares every syndrome word and status beat with :func:`expected`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from models.postprocess import ec
from rtl.common.payload import pack_array
from rtl.distill.codes import CodeTable, code_table
from rtl.distill.layouts import SyndromeStatus, bit_word, syndrome_status
from tb.dual import Bench, Receive, Send

RATE_BITS = 4


def model_syndrome(n: int, m: int, bits: np.ndarray) -> np.ndarray:
    """The one-way syndrome of an n-bit codeword with an m-bit syndrome (the model's encode)."""
    plan = ec.Plan(n, m, 0, 1)
    return ec.encode(bits, (plan,), np.zeros(0, dtype=np.uint8),
                     ec.EcConfig(codeword_bits=max(n, ec.CODEWORD_BITS))).bits


def bit_words(bits: np.ndarray, width: int) -> list[int]:
    """Bits (a multiple of ``width``) as :func:`rtl.distill.layouts.bit_word` payloads,
    ``last`` on the final word."""
    words = np.packbits(bits.reshape(-1, width), axis=1, bitorder="little")
    values = [int.from_bytes(row.tobytes(), "little") for row in words]
    last = np.zeros(len(values), dtype=np.uint8)
    if values:
        last[-1] = 1
    return pack_array(bit_word(width), {"data": np.array(values, dtype=object),
                                        "last": last}).tolist()


def packet_bits(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    if kind == "zeros":
        return np.zeros(n, dtype=np.uint8)
    if kind == "ones":
        return np.ones(n, dtype=np.uint8)
    return rng.integers(0, 2, n, dtype=np.uint8)


def tables(params: Mapping[str, Any]) -> list[CodeTable]:
    return [code_table(params["n"], m, params["width"]) for m in params["ms"]]


def expected(params: Mapping[str, Any]) -> tuple[list[list[int]], list[list[int]], list[int]]:
    """Per packet: the input words, the syndrome words and the status beat."""
    n, width, ms = params["n"], params["width"], params["ms"]
    rng = np.random.default_rng(params["seed"])
    inputs, outputs, statuses = [], [], []
    for rate, kind, extra in params["packets"]:
        bits = packet_bits(kind, n + extra * width, rng)
        inputs.append(bit_words(bits, width))
        if rate >= len(ms):
            code, syndrome = SyndromeStatus.BAD_RATE, []
        elif extra:
            code, syndrome = SyndromeStatus.LENGTH, []
        else:
            code = SyndromeStatus.OK
            syndrome = bit_words(model_syndrome(n, ms[rate], bits), width)
        outputs.append(syndrome)
        statuses.append(pack_array(syndrome_status(RATE_BITS),
                                   {"status": np.array([code.value]),
                                    "rate": np.array([rate])}).tolist()[0])
    return inputs, outputs, statuses


async def syndrome_body(bench: Bench) -> None:
    p = bench.params
    await bench.reset()
    inputs, outputs, statuses = expected(p)
    for (rate, _, _), words, want, status in zip(p["packets"], inputs, outputs, statuses,
                                                  strict=True):
        bench.set("rate", rate)
        got = await bench.transfer(
            {"i": Send(words, idle=p["idle"])},
            {"o": Receive(len(want), stall=p["stall"]),
             "status": Receive(1, stall=p["stall"], settle=4)})
        bench.compare("syndrome", got["o"], want, layout=bit_word(p["width"]))
        bench.compare("status", got["status"], [status], layout=syndrome_status(RATE_BITS))


def packet_list(rates: Sequence[int], kinds: Sequence[str]) -> list[list[Any]]:
    """Well-formed packets: every rate with every kind."""
    return [[rate, kind, 0] for rate in rates for kind in kinds]
