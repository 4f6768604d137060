r"""End-to-end co-simulation top (``make sim``): satellite FPGA, optical channel, ground FPGA, link.

::

    CounterQrngSource -> SatelliteTx --symbols--> SymbolSignature ---------------> capture "sig"
                           |  |  ^ query/answer (RND cache) --tap----------------> capture "ans"
                           |  |  SatelliteSift <--reports-- TimedReplay "up"  <== uplink (Python)
                           |  |      |--entry--------------------------------> capture "ent" ==>
                           |  |      `--key----------------------------------> capture "skey"
                           |  `--downlink words--> serializer --1 bit/cycle--> GroundTiming.bits
    channel (Python) ==> TimedReplay "code0".."code4" --codes--> GroundTiming (lines="ports"):
         TimeTagger --tags--> GroundRx, GroundRx.frames --> TimeTagger (sync join)
       taps: frame events -> capture "frm"; raw hits -> TapFunnel -> capture "raw";
       calibrated tags -> TapFunnel -> capture "cal"; joined sync tags -> capture "sync";
       merged tags -> capture "tag"
                                         GroundTiming --detections--> GroundReport
                                                                  capture "rep" <==|==> uplink
                                                         record FIFO <-------------'
    downlink (Python) ==> TimedReplay "dn" --entries--> GroundSift <--records-- record FIFO
                                                             `--key--------> capture "gkey"

``==>`` marks what Python carries: the codes each TDC channel's delay line samples from the
pass model's detector pulses and sync strobes (per batch, each presented in its own cycle),
uplink frames of reports and downlink sift messages (through the golden link model, per frame).
Everything else is RTL and runs free; Python wakes per replay batch (``<name>_hungry``) and on
a timer that reads the captures' record files.

Captures: :class:`rtl.simonly.batcher.StreamBatcher` with the Verilog store, each appending its
completed batches to ``capture_<name>.bin`` (:func:`rtl.simonly.tx_cosim_top.record_file`) in the
simulator's working directory; the tail of a batch (``<name>_fill`` beats) stays readable in
``<name>_batch``. Builds need :data:`VERILOG_SOURCES`. Replays read their batches from
``replay_<name>.bin`` (:func:`rtl.e2e.replay.replay_file`; the testbench appends a record, then
raises ``<name>_strobe`` with ``<name>_count``) and report ``<name>_accepted`` batches,
``<name>_dropped`` strobes (refused: non-zero means the testbench lost entries) and
``<name>_short_reads`` (a strobe with no whole record in the file: non-zero fails too).

Like :class:`rtl.simonly.tx_cosim_top.TxCosimTop` the top makes its own power-on reset and the
Python inputs are registered on entry, so Verilator evaluates the design once per edge.
``now`` counts clock edges from time 0 (the replay due cycles use it); the time tagger's cycle
``c`` is ``now = c + POWER_ON_CYCLES``.
"""

import functools
from dataclasses import dataclass

from amaranth.hdl import (
    Cat,
    ClockDomain,
    ClockSignal,
    Module,
    ResetSignal,
    Shape,
    ShapeLike,
    Signal,
    Value,
)
from amaranth.lib import data, wiring
from amaranth.lib.fifo import SyncFIFOBuffered
from amaranth.lib.wiring import In, Out, connect

from models.constants import FABRIC_CLOCK_PS, LANES, TDC_CHANNELS, TDC_TAPS
from models.framing import WORD_BITS
from models.ground.stimulus import tdc_line
from models.ground.tdc_calibration import startup_table
from rtl.e2e.funnel import TapFunnel
from rtl.e2e.replay import DUE_BITS, REPLAY_STORE_VERILOG, TimedReplay, replay_file
from rtl.e2e.signature import SignatureRecord, SymbolSignature
from rtl.ground.layouts import RawHit, Tag
from rtl.ground.sync import FrameEvent
from rtl.ground.time_tagger import (
    CALIBRATOR_COUNTERS,
    CHANNEL_COUNTERS,
    JOIN_COUNTERS,
    MERGE_COUNTERS,
)
from rtl.ground.tops import GroundTiming
from rtl.satellite.layouts import SAFE_COUNTER_BITS, CacheAnswer
from rtl.satellite.transmitter import SatelliteTx
from rtl.sifting.ground_report import GroundReport
from rtl.sifting.ground_sift import GroundSift
from rtl.sifting.layouts import KeyBeat, Report, SiftEntry
from rtl.sifting.satellite_sift import SatelliteSift
from rtl.simonly.batcher import BATCH_STORE_VERILOG, StreamBatcher, record_file
from rtl.simonly.qrng_source import CounterQrngSource
from rtl.simonly.wave_window import WAVE_WINDOW_VERILOG, add_wave_window

POWER_ON_CYCLES = 2
# Every captured beat carries the cycle it was taken at (``now``) above its payload, so a
# scoreboard can say when a mismatching beat happened (48 bits: 2**48 cycles = 20 days).
STAMP_BITS = 48

# Capture name -> payload layout; replay name -> payload layout.
CAPTURES = {
    "sig": SignatureRecord, "frm": FrameEvent, "rep": Report, "ans": CacheAnswer, "ent": SiftEntry,
    "skey": KeyBeat, "gkey": KeyBeat, "raw": RawHit, "cal": Tag, "sync": Tag, "tag": Tag,
}
# Counters of the time tagger, forwarded to the top (per channel or per merge input: five
# 32-bit counters in one vector; the join's single ones).
TDC_COUNTERS = (*CHANNEL_COUNTERS, *CALIBRATOR_COUNTERS, *MERGE_COUNTERS)
SYNC_COUNTERS = tuple(JOIN_COUNTERS)
# Registers of the sync join and the merge, set by the testbench per scenario.
TDC_REGISTERS = ("offset_ps", "tolerance_ps", "strobe_lag_ps", "max_lag_ps")
# The sampled delay-line code of TDC channel k comes from replay ``code<k>`` (TDC_TAPS bits).
CODE_REPLAYS = tuple(f"code{k}" for k in range(TDC_CHANNELS))
REPLAYS = {"up": Report, "dn": SiftEntry, **dict.fromkeys(CODE_REPLAYS, TDC_TAPS)}
# Frame k's sync event reaches the time tagger at TDC cycle SYNC_EVENT_CYCLE + k * FRAME_BITS
# (the downlink serializer sends the framer's words from the power-on reset on, one bit per
# cycle; the detector reports frames from SYNC_FIRST_FRAME on, having locked on frame 0). The
# TDC's cycle 0 is ``now`` = POWER_ON_CYCLES: a code due at ``now`` = c + POWER_ON_CYCLES is
# sampled by the channels in their cycle c.
SYNC_FIRST_FRAME = 1
SYNC_EVENT_CYCLE = 135
CAPTURE_PORTS = ("batch", "done", "batches", "fill")
# The batch itself goes through ``replay_<name>.bin`` (TimedReplay load_file), not a port.
REPLAY_INPUTS = ("count", "strobe")
REPLAY_OUTPUTS = ("hungry", "released", "accepted", "dropped", "short_reads")
VERILOG_SOURCES = [BATCH_STORE_VERILOG, REPLAY_STORE_VERILOG,  # run_cocotb(extra_sources=...)
                   WAVE_WINDOW_VERILOG]


@dataclass(frozen=True)
class E2eParams:
    """Knobs of the e2e top (documented in ``docs/e2e.md``)."""

    seed: int = 1
    lanes: int = LANES
    cache_rows: int = 1 << 16  # 4 lanes x 65536 rows = 2**18 pulses = 4 sync frames
    packet_bits: int = 100_000
    delta: int = 5_000  # sync-to-pulse delay of the indexer (ps), from the calibration
    gate_half: int = 400
    signature_beats: int = 1024
    replay_batch: int = 32
    link_depth: int = 1024
    # ground records waiting for their sift message: the cloud-bursts window peaks at ~2,700 in
    # its 2 ms downlink burst (docs/e2e.md, "Slow runs")
    record_depth: int = 4096
    depth_sig: int = 1
    depth_frm: int = 1
    depth_rep: int = 8
    depth_ans: int = 8
    depth_ent: int = 8
    depth_skey: int = 16
    depth_gkey: int = 16
    depth_raw: int = 16
    depth_cal: int = 16
    depth_sync: int = 1
    depth_tag: int = 16
    code_depth: int = 256  # sampled codes waiting in each code replay (~3 per pulse)
    # Waves of a window only (``make sim WAVES=mismatch``): the dump opens at this cycle and
    # goes to ``wave_file`` (the run's end closes it); None: no window instance.
    wave_start_cycle: int | None = None
    wave_file: str = "window.fst"

    def capture_depth(self, name: str) -> int:
        return getattr(self, f"depth_{name}")


def replay_depth(params: E2eParams, name: str) -> int:
    """FIFO entries of replay ``name``."""
    return params.code_depth if name in CODE_REPLAYS else params.link_depth


def own_reset_domains(m: Module, clk: Signal) -> None:
    """``sync`` (held in reset for :data:`POWER_ON_CYCLES` after time 0) and the reset-less
    ``por``, both clocked by ``clk``: the top needs no reset input."""
    m.domains.sync = ClockDomain("sync")
    m.domains.por = ClockDomain("por", reset_less=True)
    countdown = Signal(POWER_ON_CYCLES, init=(1 << POWER_ON_CYCLES) - 1)  # ones shifted out
    m.d.por += countdown.eq(countdown >> 1)
    m.d.comb += [ClockSignal("sync").eq(clk), ClockSignal("por").eq(clk),
                 ResetSignal("sync").eq(countdown[0])]


def payload_bits(layout: ShapeLike | int) -> int:
    """Bits of a stream's payload or a port: a layout's or shape's width, or a plain width."""
    return layout if isinstance(layout, int) else Shape.cast(layout).width


def capture_layout(name: str) -> data.StructLayout:
    """Beats of capture ``name``: the stream's payload, then the cycle it was captured at."""
    return data.StructLayout({"payload": CAPTURES[name], "cycle": STAMP_BITS})


def capture_bits(name: str) -> int:
    return capture_layout(name).size


class E2eTop(wiring.Component):
    """End-to-end co-simulation top (see the module docstring for the diagram).

    Latency, throughput: those of its blocks; the clock runs inside the simulator and Python wakes
    per replay batch and per capture record.

    Members
    -------
    clk : In(1)
        The only clock; reset is made inside.
    now : Out(DUE_BITS)
        Clock edges since time 0 (the replays' due cycles).
    locked, report_overflow, sat_packets, gnd_packets, gnd_missing, sat_dropped, record_level : Out
        Status of the ground sync detector and the sifting.
    sat_safe : Out(SAFE_COUNTER_BITS)
        Pulses the laser sent with the safe symbol (any cause; 0 in a run whose QRNG never
        stalls).
    <capture>_batch, _done, _batches, _fill (, _batch_tag) : Out
        Per capture, the :class:`~rtl.simonly.batcher.StreamBatcher` ports.
    <replay>_count, _strobe : In; <replay>_hungry, _accepted, _dropped, _short_reads, ... : Out
        Per replay, the :class:`~rtl.e2e.replay.TimedReplay` ports.
    tdc_offset_ps, tdc_tolerance_ps, tdc_strobe_lag_ps, tdc_max_lag_ps : In
        The time tagger's join and merge registers (set once per window by the testbench).
    tdc_<counter> : Out
        The time tagger's counters (:data:`TDC_COUNTERS`, :data:`SYNC_COUNTERS`).
    tap_overflow : Out(32)
        Beats lost by the capture funnels (must stay 0).

    Parameters
    ----------
    tables
        Start-up calibration table of each TDC channel; default :func:`startup_tables`.
    """

    def __init__(self, params: E2eParams = E2eParams(),
                 tables: tuple[tuple[int, ...], ...] | None = None) -> None:
        p = params
        self.params = p
        self.qrng = CounterQrngSource(p.seed, p.lanes)
        self.tx = SatelliteTx(p.lanes, p.cache_rows)
        self.signer = SymbolSignature(p.lanes, p.signature_beats)
        # start-up calibration tables of the lines (the model's, unless given: they take
        # seconds to compute, so sim.e2e passes cached ones)
        self.ground = GroundTiming("ports", initial=tables or startup_tables())
        self.tagger = self.ground.tagger
        self.report = GroundReport()
        self.sat_sift = SatelliteSift(p.packet_bits)
        self.gnd_sift = GroundSift(p.packet_bits)
        self.raw_funnel = TapFunnel(TDC_CHANNELS, payload_bits(RawHit))
        self.cal_funnel = TapFunnel(TDC_CHANNELS, payload_bits(Tag))
        self.captures = {
            name: StreamBatcher(capture_bits(name), p.capture_depth(name), seed=p.seed + i,
                                verilog_store=True, record_file=record_file(name))
            for i, name in enumerate(CAPTURES)
        }
        self.replays = {
            name: TimedReplay(payload_bits(layout), p.replay_batch, replay_depth(p, name),
                              load_file=replay_file(name))
            for name, layout in REPLAYS.items()
        }
        members = {
            "clk": In(1), "now": Out(DUE_BITS), "locked": Out(1), "report_overflow": Out(32),
            "sat_packets": Out(32), "gnd_packets": Out(32), "gnd_missing": Out(32),
            "sat_dropped": Out(32), "record_level": Out(16), "tap_overflow": Out(32),
            "sat_safe": Out(SAFE_COUNTER_BITS),
        }
        # plain vectors (an array-shaped top port is copied element by element at every eval)
        tagger = self.tagger.signature.members
        for name in TDC_REGISTERS:
            members[f"tdc_{name}"] = In(payload_bits(tagger[name].shape))
        for name in (*TDC_COUNTERS, *SYNC_COUNTERS):
            members[f"tdc_{name}"] = Out(payload_bits(tagger[name].shape))
        for name, batcher in self.captures.items():
            for port in CAPTURE_PORTS:
                members[f"{name}_{port}"] = Out(batcher.signature.members[port].shape)
        for name, replay in self.replays.items():
            for port in REPLAY_INPUTS:
                members[f"{name}_{port}"] = In(replay.signature.members[port].shape)
            for port in REPLAY_OUTPUTS:
                members[f"{name}_{port}"] = Out(replay.signature.members[port].shape)
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        p = self.params
        own_reset_domains(m, self.clk)
        m.d.por += self.now.eq(self.now + 1)
        if p.wave_start_cycle is not None:
            add_wave_window(m, p.wave_start_cycle * FABRIC_CLOCK_PS, p.wave_file)
        stamp = self.now[:STAMP_BITS]

        def capture(name: str, valid, payload, ready=None) -> None:
            """Beats of a stream (or a tap on one, ``ready`` None) into capture ``name``."""
            into = self.captures[name].i
            m.d.comb += [into.valid.eq(valid), into.payload.eq(Cat(payload, stamp))]
            if ready is not None:
                m.d.comb += ready.eq(into.ready)

        def capture_stream(name: str, source) -> None:
            capture(name, source.valid, source.payload, source.ready)

        blocks = {"qrng": self.qrng, "tx": self.tx, "signer": self.signer,
                  "ground": self.ground, "report": self.report, "sat_sift": self.sat_sift,
                  "gnd_sift": self.gnd_sift}
        for name, block in blocks.items():
            m.submodules[name] = block
        tx, ground, cap = self.tx, self.ground, self.captures

        # Satellite: the laser sends a beat every cycle (the modulators never stall) and every
        # beat is signed.
        connect(m, self.qrng.o, tx.qrng)
        connect(m, tx.symbols, self.signer.i)
        m.d.comb += self.sat_safe.eq(tx.safe.underflow + tx.safe.alarm)
        capture_stream("sig", self.signer.o)
        m.d.comb += tx.link_payload.valid.eq(0)  # sift messages travel in the link model

        # Downlink words to one bit per cycle (MSB first), the ground sync detector's input.
        shift = Signal(WORD_BITS)
        left = Signal(range(WORD_BITS + 1))
        m.d.comb += [
            ground.bits.valid.eq(left != 0),
            ground.bits.payload.eq(shift[-1]),
            tx.downlink.ready.eq(left <= 1),
        ]
        with m.If(tx.downlink.valid & tx.downlink.ready):
            m.d.sync += [shift.eq(tx.downlink.payload.data), left.eq(WORD_BITS)]
        with m.Elif(left != 0):
            m.d.sync += [shift.eq(shift << 1), left.eq(left - 1)]

        # Ground timing chain: channel tags in, squashed detections to the reporting block.
        for name, replay in self.replays.items():
            m.submodules[f"replay_{name}"] = replay
            m.d.comb += replay.now.eq(self.now)
            for port in REPLAY_INPUTS:
                m.d.comb += getattr(replay, port).eq(getattr(self, f"{name}_{port}"))
            for port in REPLAY_OUTPUTS:
                m.d.comb += getattr(self, f"{name}_{port}").eq(getattr(replay, port))
        self.time_tagger(m, capture)
        rx = ground.rx
        capture("tag", rx.tags.valid & rx.tags.ready, rx.tags.payload)
        capture("frm", rx.frames.valid & rx.frames.ready, rx.frames.payload)
        m.d.comb += [ground.delta.eq(p.delta), ground.gate_half.eq(p.gate_half),
                     self.locked.eq(ground.locked)]
        connect(m, ground.detections, self.report.det)

        # Reports: to the uplink capture (always ready) and to the ground's record FIFO.
        m.submodules.records = records = SyncFIFOBuffered(
            width=payload_bits(Report), depth=p.record_depth)
        rep = self.report.report
        capture("rep", rep.valid & records.w_rdy, rep.payload)
        m.d.comb += [
            records.w_en.eq(rep.valid & cap["rep"].i.ready),
            records.w_data.eq(rep.payload),
            rep.ready.eq(records.w_rdy & cap["rep"].i.ready),
            self.report_overflow.eq(self.report.overflow),
            self.record_level.eq(records.level),
        ]

        # Satellite sifting: uplinked reports, RND cache lookups (answers tapped), entries, key.
        connect(m, self.replays["up"].o, self.sat_sift.report)
        connect(m, self.sat_sift.query, tx.query)
        connect(m, tx.answer, self.sat_sift.answer)
        answer = tx.answer
        capture("ans", answer.valid & answer.ready, answer.payload)
        capture_stream("ent", self.sat_sift.entry)
        capture_stream("skey", self.sat_sift.key)

        # Ground sifting: own records joined with the downlinked sift entries.
        gnd = self.gnd_sift
        m.d.comb += [
            gnd.record.valid.eq(records.r_rdy),
            gnd.record.payload.eq(records.r_data),
            records.r_en.eq(gnd.record.ready),
        ]
        connect(m, self.replays["dn"].o, gnd.entry)
        capture_stream("gkey", gnd.key)
        m.d.comb += [
            self.sat_packets.eq(self.sat_sift.packets), self.sat_dropped.eq(self.sat_sift.dropped),
            self.gnd_packets.eq(gnd.packets), self.gnd_missing.eq(gnd.missing),
        ]

        capture_stream("raw", self.raw_funnel.o)
        capture_stream("cal", self.cal_funnel.o)
        for name, batcher in cap.items():
            m.submodules[f"capture_{name}"] = batcher
            for port in CAPTURE_PORTS:
                m.d.comb += getattr(self, f"{name}_{port}").eq(getattr(batcher, port))
        return m



    def time_tagger(self, m: Module, capture) -> None:
        """The ground timing top's time tagger on the replayed codes: replay ``code<k>``
        presents each code in its cycle (zero in every other cycle) to channel ``k``; the
        channels' raw hits and the calibrators' tags are tapped into one capture each, the
        joined sync tags into one."""
        tagger, ground = self.tagger, self.ground
        m.submodules.raw_funnel = raw = self.raw_funnel
        m.submodules.cal_funnel = cal = self.cal_funnel
        for k, name in enumerate(CODE_REPLAYS):
            code = self.replays[name].o
            m.d.comb += [code.ready.eq(1),
                         ground.codes[k].eq(code.payload & code.valid.replicate(TDC_TAPS))]
            for funnel, source in ((raw, tagger.channels[k].hits),
                                   (cal, tagger.calibrators[k].tags)):
                m.d.comb += [funnel.taps[k].valid.eq(source.valid & source.ready),
                             funnel.taps[k].payload.eq(source.payload)]
        join = tagger.join.o
        capture("sync", join.valid & join.ready, join.payload)
        # registers from the testbench, held in reset-less flops (no top input in the design)
        for name in TDC_REGISTERS:
            held = Signal(len(getattr(self, f"tdc_{name}")), reset_less=True)
            m.d.por += held.eq(getattr(self, f"tdc_{name}"))
            m.d.comb += Value.cast(getattr(ground, name)).eq(held)
        for name in (*TDC_COUNTERS, *SYNC_COUNTERS):
            m.d.comb += getattr(self, f"tdc_{name}").eq(Value.cast(getattr(ground, name)))
        m.d.comb += self.tap_overflow.eq(raw.overflow + cal.overflow)


@functools.cache
def startup_tables() -> tuple[tuple[int, ...], ...]:
    """Start-up calibration table of each channel's line
    (:func:`models.ground.tdc_calibration.startup_table` of :func:`models.ground.stimulus.
    tdc_line`): the tables the time tagger starts with."""
    return tuple(tuple(int(x) for x in startup_table(tdc_line(k), channel=k))
                 for k in range(TDC_CHANNELS))
