"""Synthesis tops of the ground timing chain (``make synth``; SPEC 8 top names ``ground_rx``,
``ground_timing``).

``ground_rx``: the sync detector on the recovered downlink bit stream; the pulse indexer + gate
on the time-tag stream, whose records go both to the squasher (detection records for sifting)
and to the calibration phase histogram (a stream fork: a record moves when both take it);
default parameters (16384-bit frames, 256-entry pending buffer). In the terminal the detector's
frame events drive the sync strobe that the time tagger stamps (channel 4); that path runs
through the TDC, outside the FPGA fabric, so detector and indexer share no fabric signal here.

Register map (host side; the control processor's CSR bus maps these ports one to one)
--------------------------------------------------------------------------------------
=============  ====  ======  =========================================================
port           dir   bits    meaning
=============  ====  ======  =========================================================
``delta``      W     27      indexer sync-to-pulse delay (TDC LSB); calibration writes it
``gate_half``  W     16      half gate (400 = the 800 ps gate; ``CAL_GATE_HALF`` while
                             calibrating)
``hist_clear`` W     1       one-cycle pulse: zero the phase histogram (160 cycles)
``hist_busy``  R     1       clearing in progress (records are held meanwhile)
``hist_addr``  W     8       bin to read (0..159) ...
``hist_data``  R     32      ... its count, one cycle after ``hist_addr``
``locked``     R     1       sync detector locked
``slips``      R     16      sync timing steps found by the indexer's bit-slip guard
                             (saturating)
=============  ====  ======  =========================================================

The calibration step that uses them is in :mod:`models.ground.calibration`; the simulation
version of the processor's routine is :func:`tb.ground.host.calibrate`. ``delta`` and
``gate_half`` are read by the indexer per detection: change them between streams (or accept
that records in flight use either value).
"""

from collections.abc import Callable

from amaranth.hdl import ClockDomain, ClockSignal, Module
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from models.constants import FABRIC_CLOCK_PS, SQUASH_SEED, TDC_CAL_PERIOD, TDC_CHANNELS, TDC_TAPS
from models.ground.calibration import BINS
from models.ground.sync import SyncConfig
from models.ground.tdc import MASK64
from models.ground.time_tagger import JOIN_DEPTH, MERGE_DEPTH
from models.ground.timing import PERIOD_BITS, IndexerConfig
from rtl.common.forward import forward_member
from rtl.common.streams import RegisterSlice
from rtl.ground.carry_chain import CarryChainLine, CarryLines
from rtl.ground.histogram import COUNT_BITS, PhaseHistogram
from rtl.ground.indexer import PulseIndexer
from rtl.ground.layouts import Tag
from rtl.ground.squash import Squasher
from rtl.ground.sync import FrameEvent, SyncDetector
from rtl.ground.sync_join import SyncJoin
from rtl.ground.tdc import TdcChannel
from rtl.ground.tdc_calibration import TdcCalibrator
from rtl.ground.tdc_merge import TimeOrderedMerge
from rtl.ground.time_tagger import TimeTagger
from rtl.sifting.layouts import DetectionRecord


class GroundRx(wiring.Component):
    """The ground timing chain: sync detector, pulse indexer with gate, squasher and phase
    histogram (see the module docstring and its register map).

    Latency, throughput: :class:`~rtl.ground.sync.SyncDetector` (one bit per cycle, event 5
    cycles after a header) and :class:`~rtl.ground.indexer.PulseIndexer` (a detection about
    16 + 15 j cycles after its interval closes), then :class:`~rtl.ground.squash.Squasher`
    (a record per 2 cycles).

    Members
    -------
    bits, frames, locked
        As :class:`~rtl.ground.sync.SyncDetector`.
    tags : In(stream.Signature(Tag))
        Time tags into the indexer.
    detections : Out(stream.Signature(DetectionRecord))
        Squashed detection records.
    delta, gate_half, slips
        Indexer registers (register map).
    hist_clear, hist_busy, hist_addr, hist_data
        Phase histogram control and read port.
    """

    bits: In(stream.Signature(1))
    frames: Out(stream.Signature(FrameEvent))
    locked: Out(1)
    tags: In(stream.Signature(Tag))
    detections: Out(stream.Signature(DetectionRecord))
    delta: In(PERIOD_BITS)
    gate_half: In(16)
    hist_clear: In(1)
    hist_busy: Out(1)
    hist_addr: In(range(BINS))
    hist_data: Out(COUNT_BITS)
    slips: Out(16)

    def __init__(self, sync_cfg: SyncConfig | None = None,
                 indexer_cfg: IndexerConfig | None = None) -> None:
        self._sync_cfg, self._indexer_cfg = sync_cfg, indexer_cfg
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        m.submodules.sync = sync = SyncDetector(self._sync_cfg)
        m.submodules.indexer = indexer = PulseIndexer(self._indexer_cfg)
        wiring.connect(m, wiring.flipped(self.bits), sync.bits)
        wiring.connect(m, sync.frames, wiring.flipped(self.frames))
        wiring.connect(m, wiring.flipped(self.tags), indexer.tags)
        m.submodules.squash = squash = Squasher(SQUASH_SEED)
        m.submodules.hist = hist = PhaseHistogram()
        wiring.connect(m, squash.detections, wiring.flipped(self.detections))
        rec = indexer.records
        m.d.comb += [
            squash.records.payload.eq(rec.payload),
            hist.records.payload.eq(rec.payload),
            squash.records.valid.eq(rec.valid & hist.records.ready),
            hist.records.valid.eq(rec.valid & squash.records.ready),
            rec.ready.eq(squash.records.ready & hist.records.ready),
            hist.clear.eq(self.hist_clear),
            self.hist_busy.eq(hist.busy),
            hist.addr.eq(self.hist_addr),
            self.hist_data.eq(hist.data),
            self.locked.eq(sync.locked),
            indexer.delta.eq(self.delta),
            indexer.gate_half.eq(self.gate_half),
            self.slips.eq(indexer.slips),
        ]
        return m


#: Members of the time tagger and of the timing chain that :class:`GroundTiming` wires inside
#: (the codes come from its lines; frame events go from the sync detector to the tagger, tags
#: from the tagger to the indexer); every other member is a port of the top.
_INNER = {"codes", "events", "tags", "frames"}
LINES = ("carry", "ports")


class GroundTiming(wiring.Component):
    """The ground FPGA's timing front end and chain (SPEC 4 items 0 to 3): the time tagger
    (:class:`rtl.ground.time_tagger.TimeTagger`: five TDC channels with calibration, the
    sync-strobe join and the time-ordered merge) feeding :class:`GroundRx` (sync detector,
    indexer with gate, squasher, calibration histogram); the sync detector's frame events go
    to the tagger's join.

    ``lines="carry"`` (synthesis, ``ground_timing``): the five delay lines are ECP5 carry
    chains with their calibration muxes (:class:`rtl.ground.carry_chain.CarryLines`); the
    detector and sync-strobe pins are ``inputs``, the first sampling rank is clocked by
    ``tdc_clk``, which the board drives from the fabric clock (``clk``). The code of an edge
    reaches the channels one cycle later than a behavioural line's, so the tagger's coarse
    counter starts one period earlier (``epoch - FABRIC_CLOCK_PS``): a tag's coarse time is
    still the edge that sampled it. ``lines="ports"`` (simulation): the sampled codes are the
    input port ``codes``, one per channel per cycle, as :class:`rtl.simonly.delay_line.
    DelayLineReplay` or the e2e's replay gives them.

    Latency, throughput, stream contract: those of :class:`~rtl.ground.time_tagger.TimeTagger`
    (tags in time order, one per 5 cycles) and of :class:`GroundRx` (``bits`` in, squashed
    ``detections`` out), plus one cycle for the tags in the
    :class:`~rtl.common.streams.RegisterSlice` between them (its registered ``ready`` keeps the
    indexer's state off the merge's release logic); ``carry`` adds the line's cycle
    (:class:`~rtl.ground.carry_chain.CarryChainLine`).

    Attributes ``tagger`` and ``rx`` are the two blocks (for probes and waves).

    Members
    -------
    codes : In(ArrayLayout(taps, 5))
        ``lines="ports"`` only: the sampled codes.
    inputs : In(5)
        ``lines="carry"`` only: detector pins 0..3 and the sync-strobe pin 4.
    tdc_clk : In(1)
        ``lines="carry"`` only: the first sampling rank's clock (the fabric clock).
    bits, detections, locked, delta, gate_half, hist_*, slips
        As :class:`GroundRx`.
    now_ps, registers and counters of the tagger
        As :class:`~rtl.ground.time_tagger.TimeTagger` (its ``codes``, ``events`` and
        ``tags`` are wired inside).
    """

    def __init__(self, lines: str = "carry", *, taps: int = TDC_TAPS, epoch: int = 0,
                 cal_period: int = TDC_CAL_PERIOD, sync_cfg: SyncConfig | None = None,
                 indexer_cfg: IndexerConfig | None = None, **tagger: object) -> None:
        if lines not in LINES:
            raise ValueError(f"GroundTiming: lines must be one of {', '.join(LINES)}, "
                             f"not {lines!r}")
        self._lines, self._taps, self._cal_period = lines, taps, cal_period
        shift = FABRIC_CLOCK_PS if lines == "carry" else 0
        self.tagger = TimeTagger(taps=taps, epoch=(epoch - shift) & MASK64,
                                  cal_period=cal_period, **tagger)
        self.rx = GroundRx(sync_cfg, indexer_cfg)
        members = ({"inputs": In(TDC_CHANNELS), "tdc_clk": In(1)} if lines == "carry"
                   else {"codes": In(data.ArrayLayout(taps, TDC_CHANNELS))})
        for inner in (self.rx, self.tagger):
            members |= {name: member for name, member in inner.signature.members.items()
                        if name not in _INNER}
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        m.submodules.tagger = tagger = self.tagger
        m.submodules.rx = rx = self.rx
        if self._lines == "carry":
            m.domains.tdc = ClockDomain("tdc", reset_less=True)
            m.submodules.lines = lines = CarryLines(self._taps, cal_period=self._cal_period)
            m.d.comb += [ClockSignal("tdc").eq(self.tdc_clk), lines.inputs.eq(self.inputs),
                         tagger.codes.eq(lines.codes), lines.sync_skip.eq(tagger.cal_skip)]
        else:
            m.d.comb += tagger.codes.eq(self.codes)
        wiring.connect(m, rx.frames, tagger.events)
        # The tag stream's ready runs from the indexer's state through the merge tree to the
        # merge FIFO's level across the die: the slice cuts it (and the tag payload) in two.
        m.submodules.tag_slice = tag_slice = RegisterSlice(Tag)
        wiring.connect(m, tagger.tags, tag_slice.i)
        wiring.connect(m, tag_slice.o, rx.tags)
        for inner in (rx, tagger):
            for name in inner.signature.members:
                if name not in _INNER:
                    forward_member(m, self, inner, name)
        return m


class TdcChannelPath(wiring.Component):
    """One TDC channel's path for block synthesis (``python -m sim.synth tdc_channel``): a
    carry-chain line (:class:`rtl.ground.carry_chain.CarryChainLine`, first rank on
    ``tdc_clk``), its :class:`rtl.ground.tdc.TdcChannel` and its
    :class:`rtl.ground.tdc_calibration.TdcCalibrator`, with the channel's and the calibrator's
    registers and counters as ports, as in :class:`GroundTiming`. Latency, throughput, stream
    contract: those of the three blocks in a row.

    Members
    -------
    line : In(1)
        The line input.
    tdc_clk : In(1)
        The first sampling rank's clock (the fabric clock).
    tags : Out(stream.Signature(Tag))
        The calibrator's tags.
    the channel's and the calibrator's other members
        As there (one ``clear`` for both).
    """

    def __init__(self, taps: int = TDC_TAPS) -> None:
        self.channel = TdcChannel(0, taps=taps)
        self.calibrator = TdcCalibrator(0, taps=taps)
        members = {"line": In(1), "tdc_clk": In(1)}
        for inner, inside in self._inner():
            members |= {name: member for name, member in inner.signature.members.items()
                        if name not in inside}
        self._taps = taps
        super().__init__(members)

    def _inner(self) -> tuple:
        """The blocks and, per block, the members wired inside (the calibrator's ``clear`` is
        the channel's)."""
        return ((self.channel, {"taps", "hits"}), (self.calibrator, {"hits", "clear"}))

    def elaborate(self, platform):
        m = Module()
        m.domains.tdc = ClockDomain("tdc", reset_less=True)
        m.submodules.line = line = CarryChainLine(self._taps, sample_domain="tdc")
        m.submodules.channel = channel = self.channel
        m.submodules.calibrator = cal = self.calibrator
        m.d.comb += [ClockSignal("tdc").eq(self.tdc_clk), line.line.eq(self.line),
                     channel.taps.eq(line.taps), cal.clear.eq(self.clear)]
        wiring.connect(m, channel.hits, cal.hits)
        for inner, inside in self._inner():
            for name in inner.signature.members:
                if name not in inside:
                    forward_member(m, self, inner, name)
        return m


SYNTH_TOPS: dict[str, Callable[[], wiring.Component]] = {
    "ground_rx": GroundRx,
    "ground_timing": lambda: GroundTiming(lines="carry"),
}
#: Tops that need a larger part than ``sim.synth.DEVICE`` (the LFE5U-25F): a row of the 25F holds
#: 276 carry cells, fewer than a delay line's 321, so nextpnr would split each line.
SYNTH_DEVICES: dict[str, str] = {"ground_timing": "LFE5U-45F-8", "tdc_channel": "LFE5U-45F-8"}
#: Blocks of ``ground_timing`` that ``python -m sim.synth`` runs when named (not by default):
#: a block's Fmax out of context in a few minutes, against the whole top's half hour.
BLOCK_TOPS: dict[str, Callable[[], wiring.Component]] = {
    "tdc_channel": TdcChannelPath,
    "sync_join": lambda: SyncJoin(JOIN_DEPTH),
    "tdc_merge": lambda: TimeOrderedMerge(TDC_CHANNELS, MERGE_DEPTH,
                                          frame_inputs=(TDC_CHANNELS - 1,)),
}
