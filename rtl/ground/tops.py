"""Synthesis tops of the ground timing chain (``make synth``; SPEC 8 top name ``ground_rx``).

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

from amaranth.hdl import Module
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from models.constants import SQUASH_SEED
from models.ground.calibration import BINS
from models.ground.sync import SyncConfig
from models.ground.timing import PERIOD_BITS, IndexerConfig
from rtl.ground.histogram import COUNT_BITS, PhaseHistogram
from rtl.ground.indexer import PulseIndexer
from rtl.ground.layouts import Tag
from rtl.ground.squash import Squasher
from rtl.ground.sync import FrameEvent, SyncDetector
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


SYNTH_TOPS: dict[str, Callable[[], wiring.Component]] = {"ground_rx": GroundRx}
