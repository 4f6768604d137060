r"""Stream capture in batches, so that a cocotb coroutine wakes once per ``depth`` transfers.

``i`` accepts one transfer per cycle, except in the cycles that the sink withholds ``ready``:
a seeded random fraction ``stall_per_1024`` (backpressure), and all but one cycle in ``pace``
(a link that takes one word per ``pace`` cycles). Each accepted payload is shifted into
``batch``: after ``depth`` transfers, beat j of the batch sits in bits ``[j*width, (j+1)*width)``
(oldest first) and ``done`` is high for one cycle, during which ``batch`` is complete and
``batches`` already counts it. ``fill`` tells how many beats of the next batch are in, so the
tail of a run can be read too. With ``tag_bits``, ``batch_tag`` holds the ``tag`` input sampled at
the batch's first transfer (e.g. the pulse index, instead of capturing it in every beat).

Storage, two implementations with the same ports and the same ``batch`` during ``done``:

* default (Amaranth, any simulator, pysim included): beats shift in through a group register and
  a completed group of up to 8 beats shifts into ``batch``;
* ``verilog_store=True``: beat j is written in place into slot j of ``batch`` by the Verilog
  module ``sim_batch_store`` (:data:`BATCH_STORE_VERILOG`, pass it to
  :func:`tb.runner.run_cocotb` as ``extra_sources``). Verilator then writes ``width`` bits per
  transfer instead of copying the whole batch twice per cycle (the Amaranth version's cost:
  Yosys emits every register as ``next = q; if (...) next = ...; q <= next``). Slots
  ``[fill, depth)`` still hold the previous batch. Not available in the Amaranth simulator.
  With ``record_file`` the store also appends every completed batch and its tag to that file
  in the simulator's working directory (:class:`tb.capture.BatchRecordReader` reads it): a
  testbench then needs no VPI read of ``batch`` at all, nor a wake-up per batch.

::

    clk        _/‾\_/‾\_/‾\_/‾\_/‾\_
    i.valid    ‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾
    i.ready    ‾‾‾‾‾‾‾‾\___/‾‾‾‾‾‾‾        (stall)
    fill         d-2 d-1 d-1  0   1
    done       ____________/‾‾‾\____      batch = beats 0..d-1, read in ReadOnly
"""

from pathlib import Path

from amaranth.hdl import Cat, ClockSignal, Const, Instance, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from rtl.simonly.xorshift import Xorshift32, happens, validate_rate

BATCH_STORE_VERILOG = Path(__file__).with_name("batch_store.v")


class StreamBatcher(wiring.Component):
    """Stream capture in batches of ``depth`` transfers (simulation only).

    Throughput one transfer per cycle except where the sink withholds ``ready`` (``stall_per_1024``,
    ``pace``); ``done`` is high for one cycle when a batch completes.

    Members
    -------
    i : In(stream.Signature(width))
        The captured stream.
    batch : Out(width * depth)
        Beat j of the completed batch in bits ``[j*width, (j+1)*width)``.
    done : Out(1)
        ``batch`` is complete this cycle.
    batches : Out(32), fill : Out(range(depth))
        Batches completed; beats of the batch being filled.
    tag, batch_tag
        With ``tag_bits``: the tag sampled at each batch's first transfer.
    """

    def __init__(self, width: int, depth: int, *, seed: int = 1, stall_per_1024: int = 0,
                 pace: int = 1, tag_bits: int = 0, verilog_store: bool = False,
                 record_file: str = "") -> None:
        if depth < 1 or pace < 1:
            raise ValueError(f"StreamBatcher: depth={depth} and pace={pace} must be >= 1")
        if record_file and not verilog_store:
            raise ValueError(f"StreamBatcher: record_file={record_file!r} needs verilog_store=True")
        validate_rate("stall_per_1024", stall_per_1024)
        self._width = width
        self._depth = depth
        self._stall = stall_per_1024
        self._pace = pace
        self._tag_bits = tag_bits
        self.verilog_store = verilog_store
        self.record_file = record_file
        self._group = next(g for g in (8, 4, 2, 1) if depth % g == 0)
        self.random = Xorshift32(seed ^ 0x0BA7_C4E5)
        tag_ports = {"tag": In(tag_bits), "batch_tag": Out(tag_bits)} if tag_bits else {}
        super().__init__({
            **tag_ports,
            "i": In(stream.Signature(width)),
            "batch": Out(width * depth),
            "done": Out(1),
            "batches": Out(32),
            "fill": Out(range(depth)),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.random = self.random
        slot_open = ~happens(self.random.value, self._stall)
        if self._pace > 1:
            phase = Signal(range(self._pace))
            m.d.sync += phase.eq(phase + 1)
            with m.If(phase == self._pace - 1):
                m.d.sync += phase.eq(0)
            slot_open &= phase == 0
        m.d.comb += self.i.ready.eq(slot_open)

        transfer = self.i.valid & self.i.ready
        if self.verilog_store:
            self._store_in_verilog(m, transfer)
        else:
            self._store_by_shifting(m, transfer)
        m.d.sync += self.done.eq(0)
        with m.If(transfer):
            if self._tag_bits:
                first_tag = Signal(self._tag_bits, reset_less=True)
                with m.If(self.fill == 0):
                    m.d.sync += first_tag.eq(self.tag)
                with m.If(self.fill == self._depth - 1):
                    m.d.sync += self.batch_tag.eq(self.tag if self._depth == 1 else first_tag)
            m.d.sync += self.fill.eq(self.fill + 1)
            with m.If(self.fill == self._depth - 1):
                m.d.sync += [self.fill.eq(0), self.done.eq(1), self.batches.eq(self.batches + 1)]
        return m

    def _store_in_verilog(self, m: Module, transfer) -> None:
        index = self.fill if len(self.fill) else Const(0, 1)  # depth 1: a 0-bit ``fill``
        tag = self.batch_tag if self._tag_bits else Const(0, 1)
        m.submodules.store = Instance(
            "sim_batch_store",
            p_WIDTH=self._width, p_DEPTH=self._depth, p_INDEX_BITS=len(index),
            p_TAG_BITS=len(tag), p_RECORD_FILE=self.record_file,
            i_clk=ClockSignal("sync"), i_we=transfer, i_last=self.fill == self._depth - 1,
            i_index=index, i_data=self.i.payload, i_tag=tag, o_batch=self.batch,
        )

    def _store_by_shifting(self, m: Module, transfer) -> None:
        # The data registers need no reset (``fill`` says what is valid); a reset mux on tens of
        # kilobits would cost Verilator another full copy of them every cycle.
        # Two levels: beats shift into a small group register, and only a completed group
        # shifts into the batch. Verilator then moves the wide batch once per ``group`` beats;
        # a wide shift every cycle was 3/4 of the simulation time.
        group = self._group
        shift = Signal(self._width * self._depth, reset_less=True)
        m.d.comb += self.batch.eq(shift)
        with m.If(transfer):
            if group > 1:
                pending = Signal(self._width * (group - 1), reset_less=True)
                completed = Cat(pending, self.i.payload)
                m.d.sync += pending.eq(completed[self._width:])
                with m.If(self.fill[:group.bit_length() - 1] == group - 1):
                    m.d.sync += shift.eq(Cat(shift[self._width * group:], completed))
            else:
                m.d.sync += shift.eq(Cat(shift[self._width:], self.i.payload))


def record_file(capture: str) -> str:
    """File (in the simulator's working directory) that capture ``capture`` appends batches to."""
    return f"capture_{capture}.bin"
