r"""Co-simulation top of the satellite transmitter chain (``make sim-tx``).

::

    CounterQrngSource --qrng--> SatelliteTx --symbols--> StreamBatcher "sym" (every cycle)
    (random idle)      hold --->   |   ^  \--downlink--> StreamBatcher "dl"  (1 word / 32 cycles)
    PayloadCounter --link_payload--+   |
    CacheQueryGenerator --query--------+--answer-------> StreamBatcher "ans"

Everything that decides what happens in a cycle lives in the RTL (seeded xorshift patterns:
the QRNG's idle cycles, the symbol path's holds), so the cocotb side only wakes now and then (a
timer) to compare the completed batches with the golden models, which replay the same patterns
(:func:`models.qrng.qrng_offered`, :func:`models.transmitter.symbol_path_holds`). The downlink
sink takes one 32-bit word every 32 cycles, the real 156.25 Mbit/s link at one bit per fabric
cycle. The laser timebase sends a beat every cycle, so the symbol capture never stalls (the
modulators cannot) and the holds stand for a symbol path that misses its cycle.

Both the symbol and the downlink captures are tagged with the cycle (``cycle``, counted from
the first cycle after reset): a symbol batch with ``Cat(pulse[:32], cycle[:32])`` of its first
beat, a downlink batch with the cycle its first word was taken. The scoreboard derives from
them that the laser sends beat ``b`` in cycle ``b + FIRST_BEAT_CYCLE`` and that sync word ``k``
leaves with pulse ``k * 2**16`` plus a constant, whatever the stalls.

The top makes its own reset: Verilator re-evaluates all logic that depends on a top-level input at
every ``eval()`` (twice per clock), and Amaranth's next-state logic depends on ``rst``. With reset
and the fault selection registered inside, only ``clk`` is an input and the design is evaluated once
per edge (measured: ~20x faster). ``sync`` is held in reset for the first
:data:`POWER_ON_CYCLES`. ``fault_request`` and ``fault_from`` (set before the first edge) make
the QRNG stuck or biased from that beat on (:class:`models.transmitter.QrngFault`).

Ports per capture ``<name>`` in ``sym``, ``dl``, ``ans``: ``<name>_batch`` (depth beats, oldest
in the LSBs), ``<name>_done`` (one-cycle strobe), ``<name>_batches`` (count), ``<name>_fill``
(beats of the batch being filled).

The captures keep their batches in the Verilog module of :data:`VERILOG_SOURCES` (in-place
writes, see :mod:`rtl.simonly.batcher`), which also appends each completed batch with its tag to
:func:`record_file` of the capture: the testbench reads those files instead of the ``*_batch``
ports (no VPI read per bit). Build with :func:`cosim_build_options` (the Verilog source, VPI
access only to :data:`PUBLIC_RW` and :data:`PUBLIC_RD`, clock inside the simulator).
"""

import functools
from dataclasses import dataclass

from amaranth.hdl import Cat, ClockDomain, ClockSignal, Module, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out, connect

from models.constants import FABRIC_CLOCK_PS, LANES
from models.framing import WORD_BITS
from rtl.satellite.layouts import (
    CacheAnswer,
    DownlinkWord,
    HealthAlarm,
    SafeCounts,
    symbol_beat,
)
from rtl.simonly.batcher import BATCH_STORE_VERILOG, StreamBatcher, record_file
from rtl.simonly.generators import CacheQueryGenerator, PayloadCounter
from rtl.simonly.sourced_tx import SourcedTx

LINK_CYCLES_PER_WORD = WORD_BITS  # one link bit per fabric cycle
POWER_ON_CYCLES = 2
CLOCK_PS = FABRIC_CLOCK_PS
VERILOG_SOURCES = [BATCH_STORE_VERILOG]
# The only signals the cocotb side touches (tb.runner.run_cocotb's Verilator public_rw/public_rd).
PUBLIC_RW = ("fault_request", "fault_from")
PUBLIC_RD = ("alarm", "cache_head", "safe", "fired", "*_batches", "*_fill")
#: Batch tags: the symbol capture's is the pulse and cycle of its first beat (32 bits each).
TAG_FIELD_BITS = 32


@dataclass(frozen=True)
class TxCosimParams:
    """Knobs of the transmitter co-simulation (rates in units of 1/1024 of cycles)."""

    seed: int = 1
    lanes: int = LANES
    cache_rows: int = 16384
    qrng_idle: int = 0
    symbol_hold: int = 0
    query_rate: int = 64
    payload_idle: int = 512
    symbol_depth: int = 256
    answer_depth: int = 64
    downlink_depth: int = 64


def symbol_pad_bits(lanes: int) -> int:
    """Zero bits after the symbols of a captured beat, so that the drive words start on a byte
    (the scoreboard then compares bytes and 16-bit words instead of single bits)."""
    symbols = data.Layout.cast(symbol_beat(lanes))["symbol"].shape
    return -data.Layout.cast(symbols).size % 8


@functools.cache  # one layout object per lane count: scoreboards look it up per batch
def symbol_capture(lanes: int) -> data.StructLayout:
    """One captured symbol beat: ``symbol[lanes]``, zero padding to a byte, ``drive[lanes]``
    (the pulse index comes once per batch, as the batch's tag)."""
    beat = data.Layout.cast(symbol_beat(lanes))
    pad = symbol_pad_bits(lanes)
    return data.StructLayout({"symbol": beat["symbol"].shape, **({"pad": pad} if pad else {}),
                              "drive": beat["drive"].shape})


def symbol_capture_bits(lanes: int) -> int:
    """Bits of one captured symbol beat (:func:`symbol_capture`)."""
    return symbol_capture(lanes).size


def capture_ports(batcher: StreamBatcher) -> list[str]:
    ports = ["batch", "done", "batches", "fill"]
    return [*ports, "batch_tag"] if "batch_tag" in batcher.signature.members else ports


def cosim_build_options() -> dict:
    """Keyword arguments of :func:`tb.runner.run_cocotb` that every build of the top needs.

    The clock runs inside the simulator (:data:`CLOCK_PS`), so cocotb only wakes on the triggers
    it waits for; ``clk`` is not even public.
    """
    return {"extra_sources": VERILOG_SOURCES, "public_rw": PUBLIC_RW, "public_rd": PUBLIC_RD,
            "internal_clock_ps": CLOCK_PS}


class TxCosimTop(wiring.Component):
    """Co-simulation top of the satellite transmitter chain (see the module docstring).

    Latency, throughput: those of :class:`~rtl.satellite.transmitter.SatelliteTx` (with its
    sources, :class:`~rtl.simonly.sourced_tx.SourcedTx`); the downlink
    capture takes one word per 32 cycles; the top makes its own reset.

    Members
    -------
    clk : In(1)
        The only clock.
    fault_request : In(2), fault_from : In(32)
        QRNG fault selection and its first beat (registered inside).
    alarm : Out(HealthAlarm), cache_head : Out(64), safe : Out(SafeCounts), fired : Out(64)
        Health verdict, RND cache head, safe pulses by cause, pulses sent.
    <capture>_batch, _done, _batches, _fill (, _batch_tag) : Out
        Per capture ``sym``, ``dl``, ``ans``: the :class:`~rtl.simonly.batcher.StreamBatcher` ports.
    """

    def __init__(self, params: TxCosimParams = TxCosimParams()) -> None:
        p = params
        self.params = p
        self.tx = SourcedTx(p.seed, p.lanes, p.cache_rows, p.qrng_idle, p.symbol_hold)
        self.payload = PayloadCounter(p.seed, p.payload_idle)
        self.queries = CacheQueryGenerator(p.lanes * p.cache_rows, p.seed, p.query_rate)
        self.captures = {
            "sym": StreamBatcher(symbol_capture_bits(p.lanes), p.symbol_depth, seed=p.seed,
                                 tag_bits=2 * TAG_FIELD_BITS, verilog_store=True,
                                 record_file=record_file("sym")),
            "dl": StreamBatcher(data.Layout.cast(DownlinkWord).size, p.downlink_depth,
                                seed=p.seed + 1, pace=LINK_CYCLES_PER_WORD,
                                tag_bits=2 * TAG_FIELD_BITS, verilog_store=True,
                                record_file=record_file("dl")),
            "ans": StreamBatcher(data.Layout.cast(CacheAnswer).size, p.answer_depth,
                                 seed=p.seed + 2, verilog_store=True,
                                 record_file=record_file("ans")),
        }
        members = {
            "clk": In(1), "fault_request": In(2), "fault_from": In(32), "alarm": Out(HealthAlarm),
            "cache_head": Out(64), "safe": Out(SafeCounts), "fired": Out(64),
        }
        for name, batcher in self.captures.items():
            for port in capture_ports(batcher):
                members[f"{name}_{port}"] = Out(batcher.signature.members[port].shape)
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        m.domains.sync = sync = ClockDomain("sync")
        m.domains.por = ClockDomain("por", reset_less=True)
        m.d.comb += [ClockSignal("sync").eq(self.clk), ClockSignal("por").eq(self.clk)]
        power_on = Signal(range(POWER_ON_CYCLES + 1), init=POWER_ON_CYCLES)
        with m.If(power_on != 0):
            m.d.por += power_on.eq(power_on - 1)
        fault, fault_from = Signal(2), Signal(32)
        m.d.por += [fault.eq(self.fault_request), fault_from.eq(self.fault_from)]
        m.d.comb += sync.rst.eq(power_on != 0)
        cycle = Signal(TAG_FIELD_BITS)
        m.d.sync += cycle.eq(cycle + 1)

        m.submodules.tx = tx = self.tx
        m.submodules.payload = self.payload
        m.submodules.queries = self.queries
        connect(m, self.payload.o, tx.link_payload)
        connect(m, self.queries.o, tx.query)
        m.d.comb += [
            tx.fault.eq(fault),
            tx.fault_from.eq(fault_from),
            self.queries.head.eq(tx.cache_head),
            self.alarm.eq(tx.alarm),
            self.cache_head.eq(tx.cache_head),
            self.safe.eq(tx.safe),
            self.fired.eq(tx.fired),
        ]
        # Symbols are captured without their pulse index, which comes once per batch in the tag.
        sym = self.captures["sym"]
        beat = Signal(symbol_capture(self.params.lanes))
        m.d.comb += [
            beat.symbol.eq(tx.symbols.payload.symbol),
            beat.drive.eq(tx.symbols.payload.drive),
            sym.i.valid.eq(tx.symbols.valid),
            sym.i.payload.eq(beat),
            tx.symbols.ready.eq(1),  # the capture never stalls (no stall rate, no pace)
            sym.tag.eq(Cat(tx.symbols.payload.pulse[:TAG_FIELD_BITS], cycle)),
            self.captures["dl"].tag.eq(cycle),
        ]
        connect(m, tx.downlink, self.captures["dl"].i)
        connect(m, tx.answer, self.captures["ans"].i)
        for name, batcher in self.captures.items():
            m.submodules[f"capture_{name}"] = batcher
            for port in capture_ports(batcher):
                m.d.comb += getattr(self, f"{name}_{port}").eq(getattr(batcher, port))
        return m
