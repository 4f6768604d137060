"""cocotb run of the satellite's distillation engines over a whole window's key
(:func:`rtl.distill.tops.distill_keys`, driven by :mod:`sim.distill`).

The stimulus file (``params["stimulus"]``, JSON, written by :func:`sim.distill.rtl_stimulus`)
holds stream payloads only: per packet the rate register and the key words; per block the
Toeplitz job, input and seed words; the key pool words and per message its command and bytes.
Three tasks run at once, each job after the previous one's result:

* syndromes: ``syn_rate`` set, the packet's words on ``syn_i``, until its ``syn_status`` beat;
* privacy amplification: job, input and seed together, the key words until ``pa_status``; then
  those key words (two 16-bit words a 32-bit word) through ``crc_i`` to the ``crc_o`` result;
* authentication: the pool offered on ``auth_key`` whenever the engine takes it; per message
  its command on ``auth_cmd``, its bytes on ``auth_msg``, until its ``auth_o`` beat.

Every output beat goes to ``params["result"]`` (JSON, with the cycles of each job); the
comparison with the golden pipeline is :mod:`sim.distill`'s. Python wakes per input beat and per
output beat only: the outputs are always ready and their collectors sleep until ``valid``
rises (the Toeplitz engine's hash passes, most of a block's cycles, wake nothing).
"""

from __future__ import annotations

import json
from pathlib import Path

import cocotb
from cocotb.triggers import Event, First, ReadOnly, RisingEdge, Timer

from rtl.common.payload import pack
from rtl.distill.layouts import bit_word
from tb.testbench import TB

E2E_KEYS_FILE = "keys.npz"  # the e2e run's key beats of both sides (tb.e2e.cocotb_e2e)
WORD = 16  # bit words of the syndrome encoder and of the Toeplitz engine
CRC_WORD = 32
NEVER = 1 << 62  # the key pool is offered for the whole run: never a stall limit
RESULT_CYCLES = 4_000_000  # the longest wait for one result (a 500 kbit block is ~2.5 M)


class Collector:
    """Takes every beat of output stream ``prefix`` (``ready`` always high), waking only on
    the beats: the outputs are registered, so ``valid`` rises right after a clock edge."""

    def __init__(self, tb: TB, prefix: str) -> None:
        self.tb = tb
        self.valid = getattr(tb.dut, f"{prefix}__valid")
        self.payload = getattr(tb.dut, f"{prefix}__payload")
        getattr(tb.dut, f"{prefix}__ready").value = 1
        self.received: list[int] = []
        self.arrived = Event()
        cocotb.start_soon(self.run())

    async def run(self) -> None:
        while True:
            await ReadOnly()
            if int(self.valid.value):
                self.received.append(int(self.payload.value))
                self.arrived.set()
                await RisingEdge(self.tb.clk)
            else:
                await RisingEdge(self.valid)

    async def wait_for(self, count: int, what: str) -> None:
        """Until ``count`` beats have come in all (each within :data:`RESULT_CYCLES`);
        returns right after a clock edge, where inputs may be written."""
        while len(self.received) < count:
            self.arrived.clear()
            timeout = Timer(RESULT_CYCLES * self.tb.period_ps, unit="ps")
            if await First(self.arrived.wait(), timeout) is timeout:
                raise AssertionError(f"{what} not done after {RESULT_CYCLES} cycles")
        await RisingEdge(self.tb.clk)


def _split(words: list[int], last_bit: int) -> list[list[int]]:
    """Words grouped into jobs at the ``last`` flag (bit ``last_bit``)."""
    out: list[list[int]] = [[]]
    for word in words:
        out[-1].append(word)
        if word >> last_bit & 1:
            out.append([])
    return out[:-1]


async def _syndromes(tb: TB, packets: list[dict], out: dict) -> None:
    words, status = Collector(tb, "syn_o"), Collector(tb, "syn_status")
    driver = tb.driver("syn_i")
    cycles = []
    for k, packet in enumerate(packets):
        tb.dut.syn_rate.value = packet["rate"]
        start = tb.cycle()
        await driver.send(packet["words"])
        await status.wait_for(k + 1, f"syndrome of packet {k}")
        cycles.append(tb.cycle() - start)
    out["syndrome"] = _split(words.received, WORD)
    out["syndrome_status"] = status.received
    out["syndrome_cycles"] = cycles


def crc_words(key: list[int]) -> list[int]:
    """A key's 16-bit words as the CRC's 32-bit words (bit k at bit k % 32 of word k // 32)."""
    data = [w & ((1 << WORD) - 1) for w in key] + [0] * (len(key) % 2)
    pairs = [data[i] | data[i + 1] << WORD for i in range(0, len(data), 2)]
    layout = bit_word(CRC_WORD)
    return [pack(layout, {"data": w, "last": int(i == len(pairs) - 1)})
            for i, w in enumerate(pairs)]


async def _blocks(tb: TB, blocks: list[dict], out: dict) -> None:
    key, status = Collector(tb, "pa_key"), Collector(tb, "pa_status")
    crc = Collector(tb, "crc_o")
    drivers = {name: tb.driver(f"pa_{name}") for name in ("job", "x", "seed")}
    crc_in = tb.driver("crc_i")
    cycles, taken = [], 0
    for k, block in enumerate(blocks):
        start = tb.cycle()
        sends = [cocotb.start_soon(drivers[name].send(block[name] if name != "job"
                                                        else [block["job"]]))
                 for name in drivers]
        for send in sends:
            await send
        await status.wait_for(k + 1, f"privacy amplification of block {k}")
        cycles.append(tb.cycle() - start)
        words = key.received[taken:]
        taken = len(key.received)
        if words:
            await crc_in.send(crc_words(words))
            await crc.wait_for(len(out.setdefault("crc_blocks", [])) + 1,
                          f"CRC of block {k}")
            out["crc_blocks"].append(k)
    out["pa_key"] = _split(key.received, WORD)
    out["pa_status"] = status.received
    out["pa_cycles"] = cycles
    out["crc"] = crc.received


async def _auth(tb: TB, auth: dict, out: dict) -> None:
    result = Collector(tb, "auth_o")
    cmd, msg = tb.driver("auth_cmd"), tb.driver("auth_msg")
    # exactly the words the messages need: the driver ends with the last pad
    cocotb.start_soon(tb.driver("auth_key", max_stall_cycles=NEVER).send(auth["pool"]))
    cycles = []
    for k, message in enumerate(auth["messages"]):
        start = tb.cycle()
        await cmd.send([message["cmd"]])
        await msg.send(message["bytes"])
        await result.wait_for(k + 1, f"tag of message {k}")
        cycles.append(tb.cycle() - start)
    out["auth"] = result.received
    out["auth_cycles"] = cycles


@cocotb.test()
async def distill_keys(dut) -> None:
    """Every job of the stimulus through its engine; the outputs to the result file."""
    tb = TB(dut, clock_ps=None)  # the clock runs inside the simulator
    stim = json.loads(Path(tb.params["stimulus"]).read_text())
    await tb.reset()
    out: dict = {}
    tasks = [cocotb.start_soon(job) for job in (
        _syndromes(tb, stim["packets"], out), _blocks(tb, stim["blocks"], out),
        _auth(tb, stim["auth"], out))]
    for task in tasks:
        await task
    out.setdefault("crc_blocks", [])
    Path(tb.params["result"]).write_text(json.dumps(out))
