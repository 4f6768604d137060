"""Test bodies of the link PHY blocks, each run in Amaranth's simulator and through cocotb
(:mod:`tb.dual`).

Parameters (``bench.params``) are JSON values: ``seed``, ``idle`` and ``stall`` always, the
block's own ones as each body documents.
"""

from __future__ import annotations

import numpy as np

from models.link import line_code, receiver
from models.link.receiver import RxConfig
from rtl.common.payload import unpack_array
from rtl.link.layouts import RxWord, SyncWord
from rtl.link.rx import RX_COUNTERS
from tb.dual import Bench, Receive, Send

#: Cycles after the last word until every output of :class:`rtl.link.rx.PhyRx` is out
#: (latency 3) and the counters have counted it.
RX_SETTLE = 8


async def rx_edges(bench: Bench) -> None:
    """PhyRx on directed received bit streams, one after a reset each: ``config`` (``RxConfig``
    fields), ``cases`` (each ``name``, ``bits`` as a 0/1 string of whole 34-bit words and
    ``want``: the stated ``locked``, ``offset`` and counters after the stream). The model
    (:func:`models.link.receiver.receive`) must give ``want``; the RTL must give the model's
    message beats and sync counters in order, its final lock status, offset and every counter
    (``overrun`` and ``sync_dropped`` 0: the consumer keeps up)."""
    p = bench.params
    config = RxConfig(**p["config"])
    for case in p["cases"]:
        name = case["name"]
        bits = np.frombuffer(case["bits"].encode(), dtype=np.uint8) - ord("0")
        model = receiver.receive(bits, config)
        state = {"locked": int(model.locked), "offset": model.offset, **model.counters}
        stated = {k: state[k] for k in case["want"]}
        assert stated == case["want"], f"{name}: model {stated} != stated {case['want']}"
        await bench.reset()
        words = line_code.bits_to_words(bits).tolist()
        got = await bench.transfer(
            {"i": Send(words, idle=p["idle"])},
            {"o": Receive(len(model.beats), stall=p["stall"], settle=RX_SETTLE),
             "sync": Receive(len(model.syncs), settle=RX_SETTLE)})
        beats = unpack_array(RxWord, got["o"])
        bench.compare(f"{name} words", list(zip(beats["data"].tolist(), beats["last"].tolist(),
                                                beats["abort"].tolist(), strict=True)),
                      model.beats)
        bench.compare(f"{name} syncs", unpack_array(SyncWord, got["sync"])["counter"].tolist(),
                      model.syncs)
        await bench.ticks(4)
        rtl = {k: bench.get(k) for k in ("locked", "offset", *RX_COUNTERS)}
        want = {**state, "overrun": 0, "sync_dropped": 0}
        assert rtl == want, f"{name}: RTL {rtl} != model {want}"
