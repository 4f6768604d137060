r"""End-to-end co-simulation top (``make sim``): satellite FPGA, optical channel, ground FPGA, link.

::

    CounterQrngSource -> SatelliteTx --symbols--> SymbolSignature ---------------> capture "sig"
                           |  |  ^ query/answer (RND cache) --tap----------------> capture "ans"
                           |  |  SatelliteSift <--reports-- UplinkReceiver <-- PhyRx "up"
                           |  |      |--entry--> SiftSender --> PhyTx "dn"   ^ words, cache head
                           |  |      `--key--> capture "skey"       |        |   -> capture "upw"
                           |  |           frame decisions -> "dec"  |      replay "upr" <==
                           |  `--downlink words--> serializer --1 bit/cycle--> GroundTiming.bits
    channel (Python) ==> TimedReplay "code0".."code4" --codes--> GroundTiming (lines="ports"):
         TimeTagger --tags--> GroundRx, GroundRx.frames --> TimeTagger (sync join)
       taps: frame events -> capture "frm"; raw hits -> TapFunnel -> capture "raw";
       calibrated tags -> TapFunnel -> capture "cal"; joined sync tags -> capture "sync";
       merged tags -> capture "tag"
                        GroundTiming --detections--> GroundLink (GroundReport: tap -> "rep",
                             UplinkFramer, record store, SiftReceiver, GroundSift: key -> "gkey")
                        GroundLink.up --> PhyTx "up" --blocks--> capture "upl" ==>
    replay "dnr" ==> PhyRx "dn" --words--> GroundLink.down  (words -> "dnw", sync -> "dsy")
    PhyTx "dn" --blocks (SYNC k per sync frame)--> capture "dnl" ==>

``==>`` marks what Python carries: the codes each TDC channel's delay line samples from the
pass model's detector pulses and sync strobes (per batch, each presented in its own cycle), and
the line bits of the link PHY both ways: each transmitter's blocks (one per
:data:`LINE_CYCLES`) are captured, the bit channel acts on their bits, and the received 34-bit
words go back through a replay into the other FPGA's receiver. Messages are framed, delimited,
lost and cut on the line; the link layers decide everything else. Everything else is RTL and
runs free; Python wakes per replay batch (``<name>_hungry``) and on a timer that reads the
captures' record files.

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
    DomainRenamer,
    Elaboratable,
    Module,
    Mux,
    ResetSignal,
    Shape,
    ShapeLike,
    Signal,
    Value,
)
from amaranth.lib import data, wiring
from amaranth.lib.fifo import AsyncFIFO, SyncFIFO
from amaranth.lib.wiring import In, Out, connect

from models.constants import FABRIC_CLOCK_PS, FRAME_PULSES, LANES, TDC_CHANNELS, TDC_TAPS
from models.framing import WORD_BITS
from models.ground.stimulus import tdc_line
from models.ground.tdc_calibration import startup_table
from models.link.line_code import ARG_BITS, BLOCK_BITS
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
from rtl.link.layouts import Block, RxWord, SyncWord
from rtl.link.rx import RX_COUNTERS, PhyRx
from rtl.link.tx import PhyTx
from rtl.memory.dram_cache import PULSES_PER_WORD, DramRndCache
from rtl.satellite.layouts import SAFE_COUNTER_BITS, CacheAnswer
from rtl.satellite.transmitter import SatelliteTx
from rtl.sifting.layouts import KeyBeat, Report, SiftEntry
from rtl.sifting.link_layer import GroundLink
from rtl.sifting.satellite_sift import SatelliteSift
from rtl.sifting.sift_sender import SiftSender
from rtl.sifting.uplink_receiver import FrameBeat, UplinkReceiver
from rtl.simonly.batcher import BATCH_STORE_VERILOG, StreamBatcher, record_file
from rtl.simonly.dram_port_model import DRAM_WORDS_VERILOG, DramPortModel
from rtl.simonly.qrng_source import CounterQrngSource
from rtl.simonly.wave_window import WAVE_WINDOW_VERILOG, add_wave_window

POWER_ON_CYCLES = 2
# Every captured beat carries the cycle it was taken at (``now``) above its payload, so a
# scoreboard can say when a mismatching beat happened (48 bits: 2**48 cycles = 20 days).
STAMP_BITS = 48

# The clocks of the top (domain -> clock input): the ground FPGA's fabric (``sync``, the
# TDC's clock too), the satellite FPGA's fabric (``sat``), the ground's recovered downlink
# clock (``dnrec``, the CDR's block clock) and the satellite's recovered uplink clock
# (``uprec``). The simulator makes each from a schedule file (``sim.e2e``), so one build
# serves every clock scenario.
CLOCKS = {"sync": "clk", "sat": "sat_clk", "dnrec": "dnrec_clk", "uprec": "uprec_clk"}
# The satellite's blocks and captures run in ``sat``; the rest of the top in ``sync``.
SAT_CAPTURES = ("sig", "ans", "ent", "skey", "dec", "upw", "dnl")
# Each link direction's receiver runs in its recovered clock (``PhyRx(rx_domain=...)``) and
# hands its words to the fabric of the receiving FPGA.
LINE_DOMAINS = {"up": ("uprec", "sat"), "dn": ("dnrec", "sync")}
# A line replay's entry: two of the deserialiser's words (one per recovered cycle), each 34
# bits with the CDR's lock pin above it, the first in the low bits. A replay moves a batch into
# its FIFO one entry per cycle and takes a cycle per strobe, so it could not keep up with one
# entry per cycle; two words an entry leave it half its cycles.
LINE_WORD_BITS = BLOCK_BITS + 1
LINE_ENTRY_WORDS = 2
LINE_ENTRY_BITS = LINE_ENTRY_WORDS * LINE_WORD_BITS
# The sync marker (the satellite framer's words, serialised one bit per ground cycle into the
# sync detector) crosses from ``sat`` to ``sync`` through an AsyncFIFO of MARKER_DEPTH words;
# the ground's serialiser starts at ``now`` = MARKER_START, when MARKER_START // 32 words or so
# wait, so that the two fabric clocks may differ by 2 ppm over 2**27 cycles before the FIFO
# runs dry or full (``marker_slips`` counts either; it must stay 0).
MARKER_DEPTH = 64
MARKER_START = 1024
# A satellite PHY receiver's word with the RND cache head of its cycle: the golden satellite
# judges each uplink copy at the head its CRC word arrived at.
UpWord = data.StructLayout({"word": RxWord, "head": 64})
# Capture name -> payload layout; replay name -> payload layout.
CAPTURES = {
    "sig": SignatureRecord, "frm": FrameEvent, "rep": Report, "ans": CacheAnswer, "ent": SiftEntry,
    "skey": KeyBeat, "gkey": KeyBeat, "raw": RawHit, "cal": Tag, "sync": Tag, "tag": Tag,
    "upl": Block, "dnl": Block, "upw": UpWord, "dnw": RxWord, "dec": FrameBeat, "dsy": SyncWord,
}
# The link PHY: each transmitter's line blocks are captured ("upl", "dnl"), the bit channel
# acts on them in Python, and the received 34-bit words come back through a replay into the
# other FPGA's receiver ("upr", "dnr").
LINE_CAPTURES = {"up": "upl", "dn": "dnl"}
LINE_REPLAYS = {"up": "upr", "dn": "dnr"}
# One line block per LINE_CYCLES fabric cycles: 34 line bits per 32 cycles, 166 Mbaud.
LINE_CYCLES = 32
# The downlink PhyTx is asked for a SYNC block with counter k every FRAME_CYCLES cycles, from the
# first cycle after the power-on reset on (sync frame k of the satellite).
FRAME_CYCLES = FRAME_PULSES // LANES
# Counters of the time tagger, forwarded to the top (per channel or per merge input: five
# 32-bit counters in one vector; the join's single ones).
TDC_COUNTERS = (*CHANNEL_COUNTERS, *CALIBRATOR_COUNTERS, *MERGE_COUNTERS)
SYNC_COUNTERS = tuple(JOIN_COUNTERS)
# Registers of the sync join and the merge, set by the testbench per scenario.
TDC_REGISTERS = ("offset_ps", "tolerance_ps", "strobe_lag_ps", "max_lag_ps")
# The sampled delay-line code of TDC channel k comes from replay ``code<k>`` (TDC_TAPS bits).
CODE_REPLAYS = tuple(f"code{k}" for k in range(TDC_CHANNELS))
REPLAYS = {**dict.fromkeys(LINE_REPLAYS.values(), LINE_ENTRY_BITS),
           **dict.fromkeys(CODE_REPLAYS, TDC_TAPS)}
# Frame k's sync event reaches the time tagger at TDC cycle SYNC_EVENT_CYCLE + k * FRAME_BITS
# (the downlink serializer sends the framer's words from the power-on reset on, one bit per
# cycle; the detector reports frames from SYNC_FIRST_FRAME on, having locked on frame 0). The
# TDC's cycle 0 is ``now`` = POWER_ON_CYCLES: a code due at ``now`` = c + POWER_ON_CYCLES is
# sampled by the channels in their cycle c.
SYNC_FIRST_FRAME = 1
SYNC_EVENT_CYCLE = 135 + MARKER_START - 2
CAPTURE_PORTS = ("batch", "done", "batches", "fill")
# The batch itself goes through ``replay_<name>.bin`` (TimedReplay load_file), not a port.
REPLAY_INPUTS = ("count", "strobe")
REPLAY_OUTPUTS = ("hungry", "released", "accepted", "dropped", "short_reads")
# Link-layer status on the top: name -> (block, port); block "tx" is SatelliteTx, "up_rx" the
# uplink receiver, "sat_sift" the satellite sifting, "gnd" the ground's GroundLink.
LINK_STATUS = {
    "sat_head": ("tx", "cache_head"), "sat_ack": ("up_rx", "ack"),
    "sat_up_corrupted": ("up_rx", "corrupted"), "sat_up_duplicates": ("up_rx", "duplicates"),
    "sat_frames_missing": ("up_rx", "missing"), "sat_frames_expired": ("up_rx", "timeouts"),
    "sat_up_stale": ("up_rx", "stale"), "sat_packets": ("sat_sift", "packets"),
    "sat_dropped": ("sat_sift", "dropped"), "gnd_packets": ("gnd", "packets"),
    "gnd_missing": ("gnd", "missing"), "gnd_ack": ("gnd", "ack"),
    "report_overflow": ("gnd", "overflow"), "gnd_late": ("gnd", "late"),
    "gnd_store_full": ("gnd", "store_full"), "gnd_down_corrupted": ("gnd", "down_corrupted"),
    "gnd_down_duplicates": ("gnd", "down_duplicates"),
    "gnd_down_outside": ("gnd", "down_outside"), "gnd_mismatch": ("gnd", "mismatch"),
}
# Each PHY receiver's lock and counters: ``<direction>_<name>`` on the top.
PHY_STATUS = ("locked", "offset", *RX_COUNTERS, "cdr_locked", "cdr_lock_losses")
VERILOG_SOURCES = [BATCH_STORE_VERILOG, REPLAY_STORE_VERILOG,  # run_cocotb(extra_sources=...)
                   WAVE_WINDOW_VERILOG, DRAM_WORDS_VERILOG]
# memory="dram": the transmitter's own cache is not looked up; it keeps a small one.
UNUSED_TX_ROWS = 1024


@dataclass(frozen=True)
class E2eParams:
    """Knobs of the e2e top (documented in ``docs/e2e.md``)."""

    seed: int = 1
    lanes: int = LANES
    cache_rows: int = 1 << 16  # 4 lanes x 65536 rows = 2**18 pulses = 4 sync frames
    # "bram": the transmitter's RND cache and GroundLink's FIFO store on chip; "dram": the
    # DRAM-backed cache and store (rtl/memory) of the flight sizes, each FPGA's on a behavioural
    # DRAM port model (sim.e2e_scenario.scenario_params, docs/memory.md)
    memory: str = "bram"
    packet_bits: int = 100_000
    delta: int = 5_000  # sync-to-pulse delay of the indexer (ps), from the calibration
    gate_half: int = 400
    signature_beats: int = 1024
    replay_batch: int = 32
    link_depth: int = 1024
    # ground records waiting for their sift message: the cloud-bursts window peaks at ~2,700 in
    # its 2 ms downlink burst (docs/e2e.md)
    record_depth: int = 4096
    # The ground's pulse time (GroundLink ``now``) trails the top's cycle count by this many
    # cycles: the timing chain's latency from a pulse to its detection record (arrival delay,
    # TDC, merge, indexer) is well below it.
    report_lag_cycles: int = 2048
    close_lag: int = 16384  # pulses after its end before an uplink frame closes (squash waits)
    uplink_rx_depth: int = 4096  # words per bank of the satellite's uplink receiver
    sender_depth: int = 8192  # words of the satellite's sift-message ring
    sender_window: int = 64
    ground_window: int = 8
    depth_upl: int = 16
    depth_dnl: int = 16
    depth_upw: int = 16
    depth_dnw: int = 16
    depth_dec: int = 4
    depth_dsy: int = 1
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


def own_reset_domains(m: Module, clk: Signal, domain: str = "sync", por: str = "por") -> None:
    """``domain`` (held in reset for :data:`POWER_ON_CYCLES` after time 0) and the reset-less
    ``por``, both clocked by ``clk``: the top needs no reset input."""
    m.domains += ClockDomain(domain)
    m.domains += ClockDomain(por, reset_less=True)
    countdown = Signal(POWER_ON_CYCLES, init=(1 << POWER_ON_CYCLES) - 1, name=f"{por}_countdown")
    m.d[por] += countdown.eq(countdown >> 1)
    m.d.comb += [ClockSignal(domain).eq(clk), ClockSignal(por).eq(clk),
                 ResetSignal(domain).eq(countdown[0])]


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
    clk, sat_clk, dnrec_clk, uprec_clk : In(1)
        The clocks (:data:`CLOCKS`); each domain's reset is made inside.
    now, sat_now : Out(DUE_BITS)
        Edges of the ground's and the satellite's fabric clock since time 0 (the capture
        stamps; ``now`` is the code replays' due cycle).
    upr_hold, dnr_hold : In(1)
        Stop the line into the satellite's / the ground's PHY receiver (the window's end:
        the receivers' status then settles for the testbench to read).
    marker_slips : Out(32)
        Sync-marker words lost to a full crossing or missing when the ground's serialiser
        needed one (must stay 0).
    locked : Out(1)
        The ground sync detector's lock.
    sat_safe : Out(SAFE_COUNTER_BITS)
        Pulses the laser sent with the safe symbol (any cause; 0 in a run whose QRNG never
        stalls).
    sat_*, gnd_*, report_overflow : Out
        The link layers' status and counters (:data:`LINK_STATUS`).
    up_<name>, dn_<name> : Out
        Each PHY receiver's lock, bit offset and counters (:data:`PHY_STATUS`).
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
        dram = p.memory == "dram"
        self.tx = SatelliteTx(p.lanes, UNUSED_TX_ROWS if dram else p.cache_rows)
        self.drams: dict[str, DramPortModel] = {}
        self.cache, self.cache_head = self.tx, self.tx.cache_head
        gnd_memory = {}
        if dram:
            cache_words = p.lanes * p.cache_rows // PULSES_PER_WORD
            store_words = 1 << (p.record_depth - 1).bit_length()
            self.cache = DramRndCache(capacity=p.lanes * p.cache_rows, round_trip=None,
                                      addr_bits=cache_words.bit_length() - 1, lanes=p.lanes)
            self.cache_head = self.cache.head
            self.drams = {name: DramPortModel(words.bit_length() - 1, 1, words, verilog=True)
                          for name, words in (("sat", cache_words), ("gnd", store_words))}
            gnd_memory = {"memory": "dram", "addr_bits": store_words.bit_length() - 1}
        self.signer = SymbolSignature(p.lanes, p.signature_beats)
        # start-up calibration tables of the lines (the model's, unless given: they take
        # seconds to compute, so sim.e2e passes cached ones)
        self.ground = GroundTiming("ports", initial=tables or startup_tables())
        self.tagger = self.ground.tagger
        self.sat_sift = SatelliteSift(p.packet_bits)
        self.up_rx = UplinkReceiver(FRAME_PULSES, p.uplink_rx_depth,
                                    cache_pulses=p.lanes * p.cache_rows)
        self.sender = SiftSender(p.sender_depth, p.sender_window)
        self.gnd = GroundLink(FRAME_PULSES, packet_bits=p.packet_bits,
                              store_depth=p.record_depth, window=p.ground_window,
                              close_lag=p.close_lag, **gnd_memory)
        # the link PHY, one transmitter and one receiver per direction, the receiver in the
        # recovered clock of its direction
        self.phy_tx = {d: PhyTx() for d in LINE_CAPTURES}
        self.phy_rx = {d: PhyRx(rx_domain="rxrec") for d in LINE_CAPTURES}
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
            **{clk: In(1) for clk in CLOCKS.values()},
            "now": Out(DUE_BITS), "sat_now": Out(DUE_BITS), "marker_slips": Out(32),
            "locked": Out(1), "tap_overflow": Out(32),
            **{f"{name}_hold": In(1) for name in LINE_REPLAYS.values()},
            "sat_safe": Out(SAFE_COUNTER_BITS),
            **{name: Out(64 if name == "sat_head" else 32) for name in LINK_STATUS},
        }
        for d, rx in self.phy_rx.items():
            for name in PHY_STATUS:
                members[f"{d}_{name}"] = Out(rx.signature.members[name].shape)
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
        self.counts = {}  # domain -> its edges since time 0
        for domain, clk in CLOCKS.items():
            por = "por" if domain == "sync" else f"{domain}_por"
            own_reset_domains(m, getattr(self, clk), domain, por)
            count = {"sync": self.now, "sat": self.sat_now}.get(domain)
            if count is None:
                count = Signal(DUE_BITS, name=f"{domain}_now")
            m.d[por] += count.eq(count + 1)
            self.counts[domain] = count
        if p.wave_start_cycle is not None:
            add_wave_window(m, p.wave_start_cycle * FABRIC_CLOCK_PS, p.wave_file)

        def capture(name: str, valid, payload, ready=None) -> None:
            """Beats of a stream (or a tap on one, ``ready`` None) into capture ``name``,
            stamped with the cycle of its domain."""
            into = self.captures[name].i
            stamp = self.counts["sat" if name in SAT_CAPTURES else "sync"][:STAMP_BITS]
            m.d.comb += [into.valid.eq(valid), into.payload.eq(Cat(payload, stamp))]
            if ready is not None:
                m.d.comb += ready.eq(into.ready)

        def capture_stream(name: str, source) -> None:
            capture(name, source.valid, source.payload, source.ready)

        blocks = {"qrng": self.qrng, "tx": self.tx, "signer": self.signer,
                  "ground": self.ground, "sat_sift": self.sat_sift, "up_rx": self.up_rx,
                  "sender": self.sender, "gnd": self.gnd}
        for name, block in blocks.items():
            m.submodules[name] = on_satellite(block) if name in SAT_BLOCKS else block
        tx, ground, cap = self.tx, self.ground, self.captures

        # Satellite: the laser sends a beat every cycle (the modulators never stall) and every
        # beat is signed.
        connect(m, self.qrng.o, tx.qrng)
        connect(m, tx.symbols, self.signer.i)
        m.d.comb += self.sat_safe.eq(tx.safe.underflow + tx.safe.alarm)
        capture_stream("sig", self.signer.o)
        m.d.comb += tx.link_payload.valid.eq(0)  # sift messages go on the link PHY

        self.sync_marker(m)

        # Ground timing chain: channel tags in, squashed detections to the ground link layer.
        replay_domain = {LINE_REPLAYS[d]: rec for d, (rec, _) in LINE_DOMAINS.items()}
        for name, replay in self.replays.items():
            domain = replay_domain.get(name, "sync")
            m.submodules[f"replay_{name}"] = DomainRenamer(domain)(replay)
            m.d.comb += replay.now.eq(self.counts[domain])
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
        self.link_layers(m, capture, capture_stream)
        self.link_phy(m, capture)

        capture_stream("raw", self.raw_funnel.o)
        capture_stream("cal", self.cal_funnel.o)
        for name, batcher in cap.items():
            m.submodules[f"capture_{name}"] = (on_satellite(batcher) if name in SAT_CAPTURES
                                               else batcher)
            for port in CAPTURE_PORTS:
                m.d.comb += getattr(self, f"{name}_{port}").eq(getattr(batcher, port))
        return m

    def sync_marker(self, m: Module) -> None:
        """The satellite framer's downlink words to one bit per ground cycle (MSB first), the
        ground sync detector's input. The satellite takes a word whenever a serialiser at its
        rate would (one per 32 of its cycles) into an :class:`AsyncFIFO` to the ground, whose
        serialiser starts at ``now`` = :data:`MARKER_START` and takes one per 32 ground cycles
        from then on: the events come at fixed ground cycles whatever the clocks' phase.
        A word that finds the FIFO full, or a serialiser that finds it empty, counts in
        ``marker_slips``."""
        tx, ground = self.tx, self.ground
        m.submodules.marker = marker = AsyncFIFO(width=WORD_BITS, depth=MARKER_DEPTH,
                                                 w_domain="sat", r_domain="sync")
        pace = Signal(range(WORD_BITS + 1))  # the satellite's serialiser, bits left
        full = Signal(16)
        m.d.comb += [tx.downlink.ready.eq(pace <= 1), marker.w_data.eq(tx.downlink.payload.data),
                     marker.w_en.eq(tx.downlink.valid & tx.downlink.ready)]
        with m.If(tx.downlink.valid & tx.downlink.ready):
            m.d.sat += pace.eq(WORD_BITS)
            with m.If(~marker.w_rdy):
                m.d.sat += full.eq(full + 1)
        with m.Elif(pace != 0):
            m.d.sat += pace.eq(pace - 1)

        shift = Signal(WORD_BITS)
        left = Signal(range(WORD_BITS + 1))
        started = Signal()
        empty = Signal(16)
        m.d.comb += [ground.bits.valid.eq(left != 0), ground.bits.payload.eq(shift[-1]),
                     marker.r_en.eq(started & (left <= 1))]
        with m.If(self.now == MARKER_START):
            m.d.sync += started.eq(1)
        with m.If(marker.r_en & marker.r_rdy):
            m.d.sync += [shift.eq(marker.r_data), left.eq(WORD_BITS)]
        with m.Else():
            with m.If(left != 0):
                m.d.sync += [shift.eq(shift << 1), left.eq(left - 1)]
            with m.If(marker.r_en):
                m.d.sync += empty.eq(empty + 1)
        m.d.comb += self.marker_slips.eq(full + empty)

    def link_layers(self, m: Module, capture, capture_stream) -> None:
        """The sifting link layer of both FPGAs. Ground: :class:`~rtl.sifting.link_layer.
        GroundLink` on the timing chain's detections (reports, uplink framer, record store,
        sift receiver, ground sifting). Satellite: the blocks of
        :class:`~rtl.sifting.link_layer.SatelliteLink` around the RND cache inside
        :class:`~rtl.satellite.transmitter.SatelliteTx` (uplink receiver, satellite sifting,
        sift-message sender); ``SatelliteLink`` itself carries a cache of its own. With
        ``memory="dram"`` the lookups go to the DRAM-backed cache, written with every beat the
        laser sends, and each FPGA's memory is on its own DRAM port model."""
        p, tx, gnd, up_rx, sift = self.params, self.tx, self.gnd, self.up_rx, self.sat_sift
        cache = self.cache
        if self.drams:
            m.submodules.cache = on_satellite(cache)
            m.d.comb += [cache.write.valid.eq(tx.symbols.valid),
                         cache.write.payload.eq(tx.symbols.payload.symbol)]
            m.submodules.sat_dram = on_satellite(self.drams["sat"])
            m.submodules.gnd_dram = self.drams["gnd"]
            connect(m, cache.dram, self.drams["sat"].port0)
            connect(m, gnd.dram, self.drams["gnd"].port0)
        connect(m, self.ground.detections, gnd.det)
        # the ground's pulse time: the top's, less the timing chain's latency
        lag = p.report_lag_cycles + POWER_ON_CYCLES
        m.d.comb += gnd.now.eq(Mux(self.now > lag, (self.now - lag) * p.lanes, 0))
        # GroundLink has no report port of its own: tap its reporting block's output
        rep = gnd._report.report
        capture("rep", rep.valid & rep.ready, rep.payload)
        capture_stream("gkey", gnd.key)

        connect(m, up_rx.report, sift.report)
        connect(m, sift.query, cache.query)
        connect(m, cache.answer, sift.answer)
        capture("ans", cache.answer.valid & cache.answer.ready, cache.answer.payload)
        capture("ent", sift.entry.valid & sift.entry.ready, sift.entry.payload)
        capture_stream("skey", sift.key)
        connect(m, up_rx.frame, self.sender.frame)
        capture("dec", up_rx.frame.valid & up_rx.frame.ready, up_rx.frame.payload)
        m.d.comb += [up_rx.head.eq(self.cache_head), self.sender.ack.eq(up_rx.ack)]
        # A level-based ready between the sifting and the message builder, as in SatelliteLink.
        entries = SyncFIFO(width=SiftEntry.size, depth=4)
        m.submodules.entries = on_satellite(entries)
        m.d.comb += [
            entries.w_en.eq(sift.entry.valid), entries.w_data.eq(sift.entry.payload),
            sift.entry.ready.eq(entries.w_rdy),
            self.sender.entry.valid.eq(entries.r_rdy), self.sender.entry.payload.eq(entries.r_data),
            entries.r_en.eq(self.sender.entry.ready),
        ]
        blocks = {"tx": tx, "up_rx": up_rx, "sat_sift": sift, "gnd": gnd}
        for name, (block, port) in LINK_STATUS.items():
            value = self.cache_head if name == "sat_head" else getattr(blocks[block], port)
            m.d.comb += getattr(self, name).eq(value)

    def link_phy(self, m: Module, capture) -> None:
        """The link PHY both ways: ``GroundLink.up`` and the sift-message sender into a
        :class:`~rtl.link.tx.PhyTx` each, whose serialiser takes one block per
        :data:`LINE_CYCLES` (captured, ``upl`` / ``dnl``); the received words (replays ``upr``
        / ``dnr``) into a :class:`~rtl.link.rx.PhyRx` each, whose messages go to the uplink
        receiver / ``GroundLink.down`` (captured, ``upw`` with the cache head / ``dnw``). The
        downlink carries a SYNC block with counter ``k`` per sync frame; the ground receiver's
        sync counters are captured (``dsy``). A cut message reaches its link layer as a
        truncated copy (``MessageWord`` has no ``abort``), which the CRC-32 rejects."""
        sources = {"up": self.gnd.up, "dn": self.sender.o}
        sinks = {"up": self.up_rx.i, "dn": self.gnd.down}
        for d, name in LINE_CAPTURES.items():
            phy_tx, phy_rx = self.phy_tx[d], self.phy_rx[d]
            rec, fabric = LINE_DOMAINS[d]
            tx_domain = "sat" if fabric == "sync" else "sync"  # the other FPGA sends
            m.submodules[f"{d}_phy_tx"] = DomainRenamer(tx_domain)(phy_tx)
            m.submodules[f"{d}_phy_rx"] = DomainRenamer({"rxrec": rec, "sync": fabric})(phy_rx)
            connect(m, sources[d], phy_tx.msg)
            tick = Signal(range(LINE_CYCLES), name=f"{d}_tick")
            m.d[tx_domain] += tick.eq(tick + 1)
            m.d.comb += phy_tx.o.ready.eq(tick == 0)
            capture(name, phy_tx.o.valid & phy_tx.o.ready, phy_tx.o.payload)
            # the deserialiser's words, one per recovered cycle (an entry holds two), each with
            # the CDR's lock pin (held between words)
            entry = self.replays[LINE_REPLAYS[d]].o
            hold = getattr(self, f"{LINE_REPLAYS[d]}_hold")
            second = Signal(LINE_WORD_BITS, name=f"{d}_second")
            pending = Signal(name=f"{d}_pending")
            pin = Signal(name=f"{d}_cdr_pin")
            valid = pending | (entry.valid & ~hold)
            word = Mux(pending, second, entry.payload[:LINE_WORD_BITS])
            m.d.comb += entry.ready.eq(~pending & ~hold)
            with m.If(pending):
                m.d[rec] += pending.eq(0)
            with m.Elif(entry.valid & entry.ready):
                m.d[rec] += [second.eq(entry.payload[LINE_WORD_BITS:]), pending.eq(1)]
            m.d[rec] += pin.eq(phy_rx.cdr_lock)
            m.d.comb += [phy_rx.i.valid.eq(valid), phy_rx.i.payload.eq(word[:BLOCK_BITS]),
                         phy_rx.cdr_lock.eq(Mux(valid, word[BLOCK_BITS], pin))]
            out, sink = phy_rx.o, sinks[d]
            m.d.comb += [sink.valid.eq(out.valid), sink.payload.data.eq(out.payload.data),
                         sink.payload.last.eq(out.payload.last), out.ready.eq(sink.ready)]
            for status in PHY_STATUS:
                m.d.comb += getattr(self, f"{d}_{status}").eq(getattr(phy_rx, status))
        taken = self.phy_rx["up"].o.valid & self.phy_rx["up"].o.ready
        capture("upw", taken, Cat(self.phy_rx["up"].o.payload, self.cache_head))
        dn = self.phy_rx["dn"].o
        capture("dnw", dn.valid & dn.ready, dn.payload)
        sync = self.phy_rx["dn"].sync
        m.d.comb += sync.ready.eq(1)
        capture("dsy", sync.valid, sync.payload)
        # a SYNC block per sync frame on the downlink, none on the uplink
        m.d.comb += self.phy_tx["up"].sync.valid.eq(0)
        request = self.phy_tx["dn"].sync
        frame_cycle = Signal(range(FRAME_CYCLES))
        frame = Signal(ARG_BITS)
        m.d.sat += frame_cycle.eq(frame_cycle + 1)
        with m.If(request.valid & request.ready):
            m.d.sat += [request.valid.eq(0), frame.eq(frame + 1)]
        with m.If(frame_cycle == 0):
            m.d.sat += request.valid.eq(1)
        m.d.comb += request.payload.counter.eq(frame)

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


SAT_BLOCKS = ("qrng", "tx", "signer", "sat_sift", "up_rx", "sender")


def on_satellite(block: Elaboratable) -> Elaboratable:
    """``block`` clocked by the satellite's fabric (``sat``)."""
    return DomainRenamer("sat")(block)


@functools.cache
def startup_tables() -> tuple[tuple[int, ...], ...]:
    """Start-up calibration table of each channel's line
    (:func:`models.ground.tdc_calibration.startup_table` of :func:`models.ground.stimulus.
    tdc_line`): the tables the time tagger starts with."""
    return tuple(tuple(int(x) for x in startup_table(tdc_line(k), channel=k))
                 for k in range(TDC_CHANNELS))
