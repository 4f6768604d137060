r"""The sifting link layer of each FPGA, assembled (SPEC 4.4, 5): what the end-to-end top wires in.

:class:`SatelliteLink` (satellite FPGA)::

    up (uplink words) --> UplinkReceiver --report--> SatelliteSiftUnit (RND cache) --key-->
                                |  frame                      | entry
                                +-----------> SiftSender <----+ --> down (downlink words)
                                   ack ------------^

:class:`GroundLink` (ground FPGA)::

    det --> GroundReport --> UplinkFramer --> up (uplink words)
                                  | record (record store: FIFO, DDR in a real payload)
    down (downlink words) --> SiftReceiver --record, entry--> GroundSift --> key
                                  | ack --> UplinkFramer

``up`` and ``down`` are :data:`~rtl.sifting.crc_append.MessageWord` streams (32-bit word,
``last`` on the CRC word of each message copy): the classical link's framer / deframer sits
between the two FPGAs' ports (the downlink shares the sync framer's words,
:mod:`models.framing`). A receiving port is always ready except for the satellite's ``up``, which
stalls only in the cases documented in :class:`~rtl.sifting.uplink_receiver.UplinkReceiver`.
``now`` is the ground's pulse time (the timing chain's reconstructed pulse index). The counters
and the satellite's ``decided`` / ``decision`` (one pulse per frame decision, accepted or
declared missing) are there for scoreboards and telemetry. Buffer sizes: ``docs/sifting.md``.

Progress never waits for the uplink: the satellite declares an uplink frame missing
once its RND cache has overwritten the frame's pulses (the cache's write ``head`` against
:func:`models.sifting.classical_link.missing_deadline`, ``frames_expired``; a copy arriving later is
``up_stale``), so the ground's records of lost frames are released within one cache life plus the
downlink's delay. The ground's record store never stalls the uplink framer: a report that would
not find a place in it (``store_depth`` reports framed and not yet sifted) is dropped before it is
framed and counted in ``store_full``; the satellite never sees it, so both sides drop it.
``SatelliteLink(ecp5_ebr=True)`` (the ``satellite_sift`` synthesis top) builds the RND cache
rows from ECP5 ``DP16KD`` primitives with their output register
(:class:`~rtl.satellite.rnd_cache.RndCache`); simulations use the default, cycle for cycle the
same.

Memories: ``memory="bram"`` (default) keeps the RND cache (``lanes * rows`` pulses) and the
record store (``store_depth`` records) on chip; ``memory="dram"`` puts them in DDR3 behind a
LiteDRAM native port, the link's member ``dram`` (:class:`~rtl.memory.dram_sift.DramSiftUnit`
with a cache of ``cache_pulses``, :class:`~rtl.memory.dram_store.DramRecordStore`; the FPGA
tops connect it to :class:`~rtl.memory.ecp5_dram.Ecp5Dram`), the sizes of
:mod:`models.memory.flight` (``docs/memory.md``). Either way the constructors refuse a
configuration that cannot serve the link, with one line naming the numbers
(:class:`~models.memory.flight.MemoryConfigError`): a cache whose life is shorter than the link
round trip (``round_trip`` pulses), a store that cannot hold one frame period's records
(``frame_records``).
"""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import data, fifo, stream, wiring
from amaranth.lib.wiring import In, Out

from models.constants import LANES
from models.memory.flight import MemoryConfigError, check_cache_life, check_store_depth
from models.sifting.classical_link import SiftConfig
from models.sifting.packets import PACKET_BITS
from rtl.memory.dram_sift import DramSiftUnit
from rtl.memory.dram_store import DramRecordStore
from rtl.memory.layouts import dram_port
from rtl.satellite.layouts import Symbol
from rtl.sifting.crc_append import MessageWord
from rtl.sifting.ground_report import GroundReport
from rtl.sifting.ground_sift import GroundSift
from rtl.sifting.layouts import COUNTER_BITS, DetectionRecord, KeyBeat, Report, SiftEntry
from rtl.sifting.satellite_sift import SatelliteSiftUnit
from rtl.sifting.sift_receiver import SiftReceiver
from rtl.sifting.sift_sender import SiftSender
from rtl.sifting.sifter import counter_ports
from rtl.sifting.uplink_framer import UplinkFramer
from rtl.sifting.uplink_receiver import FrameBeat, UplinkReceiver

#: Where the RND cache and the record store live (module docstring).
MEMORIES = ("bram", "dram")
#: Word address bits of the DRAM (the 1 Gbit MT41K64M16 of ``rtl.memory.ecp5_dram``).
DRAM_ADDR_BITS = 23


def _check_memory(who: str, memory: str) -> None:
    if memory not in MEMORIES:
        raise MemoryConfigError(f"{who}: memory={memory!r}, expected one of "
                                f"{', '.join(MEMORIES)}")


def forward(m: Module, outer: wiring.Component, names: dict[str, tuple[object, str]]) -> None:
    """Drive each output ``outer.<name>`` from ``getattr(block, port)``."""
    for name, (block, port) in names.items():
        m.d.comb += getattr(outer, name).eq(getattr(block, port))


class SatelliteLink(wiring.Component):
    """The satellite FPGA's sifting link layer (see the module docstring).

    Latency, throughput: those of its blocks (:class:`~rtl.sifting.uplink_receiver.UplinkReceiver`,
    :class:`~rtl.sifting.satellite_sift.SatelliteSiftUnit`,
    :class:`~rtl.sifting.sift_sender.SiftSender`); one symbol beat per cycle on ``write``.

    Members
    -------
    write : In(stream.Signature(ArrayLayout(Symbol, lanes)))
        Symbols into the RND cache.
    up : In(stream.Signature(MessageWord))
        Uplink words; ``down`` : Out, downlink words.
    key : Out(stream.Signature(KeyBeat))
        Sifted key beats.
    head, ack, decided, decision : Out
        Cache head, acknowledgement, one pulse per frame decision and that decision.
    expired_count, up_corrupted, up_duplicates, frames_missing, frames_expired, up_stale : Out
        Counters, with the sifter's.
    write_overflow : Out(32); dram : Out(dram_port(addr_bits))
        ``memory="dram"`` only: cache words lost to a full write queue; the DRAM port.
    """

    def __init__(self, frame_pulses: int = SiftConfig.frame_pulses, lanes: int = LANES,
                 rows: int = 16384, packet_bits: int = PACKET_BITS, rx_depth: int = 4096,
                 tx_depth: int = 8192, window: int = 64, *, ecp5_ebr: bool = False,
                 memory: str = "bram", cache_pulses: int | None = None,
                 round_trip: int | None = None, addr_bits: int = DRAM_ADDR_BITS) -> None:
        _check_memory("SatelliteLink", memory)
        cache_pulses = cache_pulses or lanes * rows
        if memory == "bram" and cache_pulses != lanes * rows:
            raise MemoryConfigError(f"SatelliteLink: an on-chip cache holds lanes x rows = "
                                    f"{lanes * rows} pulses, not {cache_pulses}")
        check_cache_life("SatelliteLink", cache_pulses, round_trip)
        self._rx = UplinkReceiver(frame_pulses, rx_depth, cache_pulses=cache_pulses)
        extra = {}
        if memory == "dram":
            self._sift = DramSiftUnit(capacity=cache_pulses, round_trip=round_trip,
                                      addr_bits=addr_bits, lanes=lanes, packet_bits=packet_bits)
            extra = {"write_overflow": Out(32), "dram": Out(dram_port(addr_bits))}
        else:
            self._sift = SatelliteSiftUnit(lanes, rows, packet_bits, ecp5_ebr=ecp5_ebr)
        self._tx = SiftSender(tx_depth, window)
        super().__init__(extra | {
            "write": In(stream.Signature(data.ArrayLayout(Symbol, lanes))),
            "up": In(stream.Signature(MessageWord)),
            "down": Out(stream.Signature(MessageWord)),
            "key": Out(stream.Signature(KeyBeat)),
            "head": Out(64),
            "ack": Out(32),
            "decided": Out(1),
            "decision": Out(FrameBeat),
            "expired_count": Out(COUNTER_BITS),
            "up_corrupted": Out(COUNTER_BITS),
            "up_duplicates": Out(COUNTER_BITS),
            "frames_missing": Out(COUNTER_BITS),
            "frames_expired": Out(COUNTER_BITS),
            "up_stale": Out(COUNTER_BITS),
            **counter_ports(errors=True, missing=False),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.rx = rx = self._rx
        m.submodules.sift = sift = self._sift
        m.submodules.tx = tx = self._tx
        wiring.connect(m, wiring.flipped(self.write), sift.write)
        wiring.connect(m, wiring.flipped(self.up), rx.i)
        wiring.connect(m, rx.report, sift.report)
        wiring.connect(m, rx.frame, tx.frame)
        # The entry FIFO's level-based ready cuts the ready chain from the message builder
        # through the satellite sifting into the RND cache's block RAM enables.
        m.submodules.entries = entries = fifo.SyncFIFO(width=SiftEntry.size, depth=4)
        m.d.comb += [
            entries.w_en.eq(sift.entry.valid),
            entries.w_data.eq(sift.entry.payload),
            sift.entry.ready.eq(entries.w_rdy),
            tx.entry.valid.eq(entries.r_rdy),
            tx.entry.payload.eq(entries.r_data),
            entries.r_en.eq(tx.entry.ready),
        ]
        wiring.connect(m, tx.o, wiring.flipped(self.down))
        wiring.connect(m, sift.key, wiring.flipped(self.key))
        m.d.comb += [
            rx.head.eq(sift.head),
            tx.ack.eq(rx.ack),
            self.decided.eq(rx.frame.valid & rx.frame.ready),
            self.decision.eq(rx.frame.payload),
        ]
        forward(m, self, {
            "head": (sift, "head"), "ack": (rx, "ack"), "expired_count": (sift, "expired_count"),
            "up_corrupted": (rx, "corrupted"), "up_duplicates": (rx, "duplicates"),
            "frames_missing": (rx, "missing"), "frames_expired": (rx, "timeouts"),
            "up_stale": (rx, "stale"), "detected": (sift, "detected"),
            "errors": (sift, "errors"), "dropped": (sift, "dropped"), "packets": (sift, "packets"),
        })
        if "dram" in self.signature.members:
            forward(m, self, {"write_overflow": (sift, "write_overflow")})
            wiring.connect(m, sift.dram, wiring.flipped(self.dram))
        return m


class GroundLink(wiring.Component):
    """The ground FPGA's sifting link layer (see the module docstring).

    Latency, throughput: those of its blocks
    (:class:`~rtl.sifting.ground_report.GroundReport`,
    :class:`~rtl.sifting.uplink_framer.UplinkFramer`,
    :class:`~rtl.sifting.sift_receiver.SiftReceiver`,
    :class:`~rtl.sifting.ground_sift.GroundSift`); ``det`` and ``down`` are always ready.

    Members
    -------
    det : In(stream.Signature(DetectionRecord))
        Detection records; ``now`` : In(64), the ground's pulse time.
    up : Out(stream.Signature(MessageWord))
        Uplink words; ``down`` : In, downlink words.
    key : Out(stream.Signature(KeyBeat))
        Sifted key beats.
    ack : Out(32)
        The next sift message needed.
    overflow, late, store_full, down_corrupted, down_duplicates, down_outside, mismatch : Out
        Counters, with the sifter's.
    dram : Out(dram_port(addr_bits))
        ``memory="dram"`` only: the record store's DRAM port.
    """

    def __init__(self, frame_pulses: int = SiftConfig.frame_pulses,
                 ground_seed: int = SiftConfig.ground_seed, packet_bits: int = PACKET_BITS,
                 frame_depth: int = 8192, store_depth: int = 1024, window: int = 8,
                 slot_words: int = 512, close_lag: int = 1024, *, memory: str = "bram",
                 frame_records: int | None = None, addr_bits: int = DRAM_ADDR_BITS) -> None:
        _check_memory("GroundLink", memory)
        check_store_depth("GroundLink", store_depth, frame_records)
        self._report = GroundReport(ground_seed)
        self._framer = UplinkFramer(frame_pulses, frame_depth, close_lag=close_lag)
        extra = {}
        if memory == "dram":
            self._store = DramRecordStore(width=Report.size, depth=store_depth,
                                          frame_records=frame_records, addr_bits=addr_bits)
            extra = {"dram": Out(dram_port(addr_bits))}
        else:
            self._store = fifo.SyncFIFOBuffered(width=Report.size, depth=store_depth)
        self._store_depth = store_depth
        self._rx = SiftReceiver(frame_pulses, window, slot_words)
        self._sift = GroundSift(packet_bits)
        super().__init__(extra | {
            "det": In(stream.Signature(DetectionRecord)),
            "now": In(64),
            "up": Out(stream.Signature(MessageWord)),
            "down": In(stream.Signature(MessageWord)),
            "key": Out(stream.Signature(KeyBeat)),
            "ack": Out(32),
            "overflow": Out(COUNTER_BITS),
            "late": Out(COUNTER_BITS),
            "store_full": Out(COUNTER_BITS),
            "down_corrupted": Out(COUNTER_BITS),
            "down_duplicates": Out(COUNTER_BITS),
            "down_outside": Out(COUNTER_BITS),
            "mismatch": Out(COUNTER_BITS),
            **counter_ports(errors=False, missing=True),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.report = report = self._report
        m.submodules.framer = framer = self._framer
        m.submodules.store = store = self._store
        m.submodules.rx = rx = self._rx
        m.submodules.sift = sift = self._sift
        wiring.connect(m, wiring.flipped(self.det), report.det)
        self._store_gate(m, report, framer, store)
        wiring.connect(m, framer.o, wiring.flipped(self.up))
        m.d.comb += [
            store.w_stream.valid.eq(framer.record.valid),
            store.w_stream.payload.eq(framer.record.payload),
            framer.record.ready.eq(store.w_stream.ready),
            rx.record_in.valid.eq(store.r_stream.valid),
            rx.record_in.payload.eq(store.r_stream.payload),
            store.r_stream.ready.eq(rx.record_in.ready),
            framer.now.eq(self.now),
            framer.ack.eq(rx.ack),
        ]
        if isinstance(store, DramRecordStore):
            self._closed_after_store(m, framer, store, rx)
        else:
            m.d.comb += rx.closed.eq(framer.closed)
        wiring.connect(m, wiring.flipped(self.down), rx.i)
        wiring.connect(m, rx.record, sift.record)
        wiring.connect(m, rx.entry, sift.entry)
        wiring.connect(m, sift.key, wiring.flipped(self.key))
        forward(m, self, {
            "ack": (rx, "ack"), "overflow": (report, "overflow"), "late": (framer, "late"),
            "down_corrupted": (rx, "corrupted"), "down_duplicates": (rx, "duplicates"),
            "down_outside": (rx, "outside"), "mismatch": (rx, "mismatch"),
            "detected": (sift, "detected"), "dropped": (sift, "dropped"),
            "missing": (sift, "missing"), "packets": (sift, "packets"),
        })
        if "dram" in self.signature.members:
            wiring.connect(m, store.dram, wiring.flipped(self.dram))
        return m

    @staticmethod
    def _closed_after_store(m: Module, framer: UplinkFramer, store: DramRecordStore,
                            rx: SiftReceiver) -> None:
        """The receiver ends a "missing" message with no record waiting once a later frame has
        closed (``closed``): every record of the frame has then left the store, which holds for
        an on-chip FIFO but not for the DRAM, where records spend tens to hundreds of cycles.
        So ``closed`` reaches the receiver only while the store holds no record (its ``level``
        counts the records in flight through the DRAM), a cycle late; with records waiting the
        receiver ends the message on the first record of a later frame instead."""
        closed = Signal.like(framer.closed)
        with m.If(store.level == 0):
            m.d.sync += closed.eq(framer.closed)
        m.d.comb += rx.closed.eq(closed)

    def _store_gate(self, m: Module, report: GroundReport, framer: UplinkFramer,
                    store: fifo.SyncFIFOBuffered | DramRecordStore) -> None:
        """Reports into the framer only while the record store has a place for each: ``held``
        counts the reports let through and not yet read out of the store (the framer's ``late``
        ones, never stored, are given back); at ``store_depth`` a report is dropped and counted
        in ``store_full``. So the store is never full when the framer writes a record, and the
        framer (and the frame it fills) never waits for the satellite's sift messages."""
        depth = self._store_depth
        held = Signal(range(depth + 1))
        # `room` (held != depth) is a register, loaded exactly with the next `held`'s compare,
        # without an adder or compare between the store's read (`record_in.ready`, from the sift
        # receiver's state) and the register: the next `held` is `held + step`, step in
        # {-2..1}, and it is `depth` only for step 0 at `depth` or step 1 at `depth - 1` (held
        # never exceeds depth), two compares of `held` with constants.
        room = Signal(init=1)
        rep = report.report
        let_in = framer.report.valid & framer.report.ready
        read = store.r_stream.valid & store.r_stream.ready
        late = framer.late_step  # the framer's `late` has just grown (by one)
        m.d.comb += [
            framer.report.valid.eq(rep.valid & room),
            framer.report.payload.eq(rep.payload),
            rep.ready.eq(framer.report.ready | ~room),
        ]
        given_back = late | read
        step_up = let_in & ~given_back
        step_zero = Mux(let_in, late ^ read, ~given_back)
        m.d.sync += [
            held.eq(held + let_in - read - late),
            room.eq(~((step_up & (held == depth - 1)) | (step_zero & (held == depth)))),
        ]
        with m.If(rep.valid & ~room):
            m.d.sync += self.store_full.eq(self.store_full + 1)
