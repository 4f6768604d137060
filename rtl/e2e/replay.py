r"""Timed replay of Python-made events into a stream: the channel and link side of the e2e top.

Python writes up to ``batch`` entries at once into ``load`` (entry j in bits
``[j * (width + DUE_BITS), (j + 1) * (width + DUE_BITS))``: payload, then its due cycle),
``count`` how many, and raises ``strobe`` for one cycle. The block moves one entry per cycle
into a FIFO (``depth``, block RAM) and releases the FIFO head on ``o`` once ``now`` (the top's
cycle counter) has reached its due cycle, so each event enters the design at its own cycle while
Python wakes once per batch. ``hungry`` is high when a new batch fits (the previous one is
moved and the FIFO has room for ``batch`` more entries): Python waits for it before loading.

Lossless by construction: a ``strobe`` is taken only in a cycle where the block is ready for it
(``hungry`` without the strobe term, i.e. the previous batch is moved and the FIFO has room).
A strobe in any other cycle is refused, never overwriting the batch being moved: it counts in
``dropped`` (sticky: a testbench that sees it non-zero has lost entries and must fail).
``accepted`` counts the batches taken, ``released`` the entries that left on ``o``; a testbench
compares them with what it sent.

Due cycles must not decrease along the stream (a later event is never released first).

Batch register, two implementations with the same behaviour:

* default (Amaranth, any simulator, pysim included): the batch arrives on the ``load`` input;
* ``load_file="..."``: no ``load`` port; the testbench appends each batch to that file (in the
  simulator's working directory) before raising ``strobe`` (:func:`batch_record` makes the
  record) and the Verilog module ``sim_replay_store`` (:data:`REPLAY_STORE_VERILOG`, an
  ``extra_sources`` file of the build) reads it at the accepting edge. ``short_reads`` counts
  accepted strobes that found no whole record (non-zero: the batch is wrong, fail). This is the
  co-simulation's version: no wide input for Verilator to copy at every eval, no wide register
  copy and no wide variable shift per cycle (``rtl/simonly/replay_store.v``). A refused strobe
  leaves its record in the file (the next accepted strobe reads it): ``dropped`` must be 0.

Latency, throughput, stream contract: an entry is offered on ``o`` from the cycle after
``now >= due`` if it reached the FIFO head; one entry per cycle; ``o.valid`` does not depend on
``o.ready``::

    clk      _/‾\_/‾\_/‾\_/‾\_/‾\_/‾\_
    strobe   ‾‾‾‾\________________      (count = 2)
    hungry   ____________________/‾‾
    o.valid  ________________/‾‾‾‾\_    (head due, released)
"""

import functools
from pathlib import Path

import numpy as np
from amaranth.hdl import ClockSignal, Instance, Module, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.fifo import SyncFIFOBuffered
from amaranth.lib.wiring import In, Out

DUE_BITS = 48
REPLAY_STORE_VERILOG = Path(__file__).resolve().parent.parent / "simonly" / "replay_store.v"


class ReplayError(ValueError):
    """Replay block parameters out of range."""


class TimedReplay(wiring.Component):
    """Python-made events released into a stream, each at its due cycle.

    Latency: an entry is offered on ``o`` from the cycle after ``now >= due`` once it is at the
    FIFO head; one entry per cycle; a batch moves into the FIFO one entry per cycle.

    Members
    -------
    load or short_reads
        The batch input (default), or with ``load_file`` the count of strobes that found no record.
    count, strobe : In
        Entries in the batch; one-cycle strobe that hands it over.
    hungry : Out(1)
        A new batch fits.
    now : In(DUE_BITS)
        The top's cycle counter.
    o : Out(stream.Signature(width))
        The released entries.
    released, accepted, dropped : Out(32)
        Entries released, batches taken, strobes refused.
    """

    def __init__(self, width: int, batch: int, depth: int, load_file: str = "") -> None:
        if width < 1 or batch < 1 or depth < 2 * batch:
            raise ReplayError(f"TimedReplay: width={width}, batch={batch} must be >= 1 and "
                              f"depth={depth} >= 2 * batch")
        self.width = width
        self.batch = batch
        self.depth = depth
        self.load_file = load_file
        batch_port = ({"short_reads": Out(32)} if load_file
                      else {"load": In(batch * (width + DUE_BITS))})
        super().__init__({
            **batch_port,
            "count": In(range(batch + 1)),
            "strobe": In(1),
            "hungry": Out(1),
            "now": In(DUE_BITS),
            "o": Out(stream.Signature(width)),
            "released": Out(32),
            "accepted": Out(32),
            "dropped": Out(32),
        })

    def elaborate(self, platform):
        m = Module()
        entry = replay_entry(self.width)
        entry_bits = entry.size
        m.submodules.fifo = fifo = SyncFIFOBuffered(width=entry_bits, depth=self.depth)
        index = Signal(range(self.batch + 1))
        remaining = Signal(range(self.batch + 1))
        ready = Signal()
        take = self.strobe & ready
        if self.load_file:
            loaded = Signal(entry_bits)
            m.submodules.store = Instance(
                "sim_replay_store",
                p_ENTRY=entry_bits, p_INDEX_BITS=len(index), p_BYTES=record_bytes(
                    self.width, self.batch), p_LOAD_FILE=self.load_file,
                i_clk=ClockSignal("sync"), i_take=take, i_index=index, o_entry=loaded,
                o_short_reads=self.short_reads)
            m.d.comb += fifo.w_data.eq(loaded)
        else:
            # Registered copy of the batch, so the per-cycle logic never reads a top input.
            held = Signal(self.batch * entry_bits, reset_less=True)
            with m.If(take):
                m.d.sync += held.eq(self.load)
            m.d.comb += fifo.w_data.eq(held.word_select(index, entry_bits))
        m.d.comb += [
            fifo.w_en.eq(remaining != 0),
            ready.eq((remaining == 0) & (fifo.level <= self.depth - self.batch)),
            self.hungry.eq(ready & ~self.strobe),
        ]
        with m.If(fifo.w_en & fifo.w_rdy):
            m.d.sync += [index.eq(index + 1), remaining.eq(remaining - 1)]
        with m.If(self.strobe):
            with m.If(ready):
                m.d.sync += [index.eq(0), remaining.eq(self.count),
                             self.accepted.eq(self.accepted + 1)]
            with m.Else():
                m.d.sync += self.dropped.eq(self.dropped + 1)

        head = data.View(entry, fifo.r_data)
        m.d.comb += [
            self.o.valid.eq(fifo.r_rdy & (head.due <= self.now)),
            self.o.payload.eq(head.payload),
            fifo.r_en.eq(self.o.valid & self.o.ready),
        ]
        with m.If(self.o.valid & self.o.ready):
            m.d.sync += self.released.eq(self.released + 1)
        return m


def record_bytes(width: int, batch: int) -> int:
    """Bytes of one ``load_file`` record: the whole batch, padded to whole bytes."""
    return -(-batch * (width + DUE_BITS) // 8)


def batch_record(payload: list[int], due: list[int], width: int, batch: int) -> bytes:
    """The ``load_file`` record of entries ``payload[j]`` due at ``due[j]`` (at most ``batch``),
    most significant byte first, as ``sim_replay_store`` reads it with ``$fread``."""
    if len(payload) > batch:
        raise ReplayError(f"TimedReplay: {len(payload)} entries in a batch of {batch}")
    return pack_entries(payload, due, width).to_bytes(record_bytes(width, batch), "big")


def entry_rows(payload: np.ndarray, due: np.ndarray, width: int) -> list[bytes]:
    """Entries as the bytes they take in a ``load_file`` record, for payloads given as
    little-endian bytes ``[n, width / 8]`` (packed codes): the fast path of :func:`batch_record`
    for entries of whole bytes (no Python integer per entry)."""
    if width % 8 or DUE_BITS % 8:
        raise ReplayError(f"TimedReplay: entries of {width} + {DUE_BITS} bits are not whole bytes")
    due_bytes = np.asarray(due, dtype=">u8").view(np.uint8).reshape(-1, 8)[:, 8 - DUE_BITS // 8:]
    rows = np.concatenate([due_bytes, np.asarray(payload, dtype=np.uint8)[:, ::-1]], axis=1)
    return [row.tobytes() for row in rows]


def rows_record(rows: list[bytes], width: int, batch: int) -> bytes:
    """The ``load_file`` record of entries made by :func:`entry_rows` (at most ``batch``):
    the same bytes as :func:`batch_record` of those entries."""
    if len(rows) > batch:
        raise ReplayError(f"TimedReplay: {len(rows)} entries in a batch of {batch}")
    size = record_bytes(width, batch)
    return bytes(size - len(rows) * ((width + DUE_BITS) // 8)) + b"".join(reversed(rows))


def replay_file(name: str) -> str:
    """File (in the simulator's working directory) that replay ``name`` reads its batches from."""
    return f"replay_{name}.bin"


def replay_entry(width: int) -> data.StructLayout:
    """One entry of a replay: the payload, then the cycle it is due at."""
    return data.StructLayout({"payload": width, "due": DUE_BITS})


@functools.cache
def _offsets(width: int, count: int) -> tuple[int, tuple[int, ...]]:
    """Offset of ``due`` in an entry and of each entry in a batch of ``count``, read from the
    layouts once (looking them up per batch would cost more than the rest of the packing)."""
    batch = data.ArrayLayout(replay_entry(width), count)
    return replay_entry(width)["due"].offset, tuple(batch[j].offset for j in range(count))


def pack_entries(payload: list[int], due: list[int], width: int) -> int:
    """The ``load`` value of entries ``payload[j]`` due at cycle ``due[j]`` (entry 0 lowest).

    The testbench packs a batch per replay wake-up on the long runs' hot path, so this uses
    Python integers at the layouts' offsets rather than :func:`rtl.common.payload.pack`."""
    if len(payload) != len(due):
        raise ReplayError(f"TimedReplay: {len(payload)} payloads but {len(due)} due cycles")
    due_at, entry_at = _offsets(width, len(payload))
    value = 0
    for p, d, at in zip(payload, due, entry_at, strict=True):
        value |= (int(p) | int(d) << due_at) << at
    return value
