"""The lossy classical laser link and both endpoints of the sifting protocol (SPEC 4.4, 5).

Link model (one direction, :class:`Link`)
-----------------------------------------
156.25 Mbit/s (the downlink gives 508 of every 512 words to payload, the rest are sync words:
:data:`DOWNLINK_PAYLOAD_FRACTION`), a one-way latency (constant or a function of time, e.g. the
pass range over c: :func:`latency_from_range`), and per message copy: random loss, loss inside
bursts (explicit ``(start, duration)`` intervals, e.g. a cloud, plus Poisson-distributed random
bursts of ``burst_s``), bit errors at rate ``ber`` (flipped in the words, caught by the CRC-32),
duplication, truncation (``truncate``: a copy loses its last words, caught by the length and
CRC-32 checks) and reordering (``reorder_s``: each copy is held back by a further uniform 0 to
``reorder_s`` seconds, so later copies may overtake it). Without ``reorder_s`` the copies of one
direction arrive in sending order. The fault draws of ``truncate`` and ``reorder_s`` are only
made when they are non-zero, so links without them draw the same faults as before they existed.

Protocol (:func:`run_sifting`)
------------------------------
Time is cut into frame periods of ``frame_pulses`` pulses. In period ``k`` the ground sends uplink
frame ``k - 1`` (the reports of the previous period), repeated as often as the link capacity of the
period allows (the paper's "repeated until the next frame is ready"), each copy carrying the
ground's acknowledgement (next sift message it needs). The satellite processes uplink frames in
sequence order, each once (duplicates and stale copies dropped by sequence number): it looks up
the RND cache at the arrival time (expired lookups are dropped, on both sides, through the sift
entry), sifts, and queues the sift message. A frame the satellite never gets is declared missing:
on a sequence gap (a later frame arrived) or, on the satellite's own clock, once its RND cache has
overwritten every pulse of the frame (:func:`missing_deadline`: it could not sift the frame any
more), whichever comes first; the satellite queues a "missing" sift message, both sides drop the
frame's detections, and a copy of it arriving later is stale (dropped and counted). So the
satellite decides every frame within one cache life, whatever the uplink does.
The satellite repeats every unacknowledged sift message in every period (oldest first, as capacity
allows); the ground buffers out-of-order sift messages and sifts them strictly in sequence order.

The ground keeps each framed report in its record store until the frame's sift message is sifted.
With a finite store (``SiftConfig.store_depth``) a report that finds the store full is dropped
before it is framed: never sent, never sifted on either side (counted in ``store_dropped``).

So both sides sift the same frames with the same entries in the same order: the ground's packets
are a prefix of the satellite's. At the end of the pass (after ``drain_s`` of retransmissions) the
packets closed on both sides (:attr:`SiftingRun.agreed`) go on to error correction; the others are
dropped, as is each side's partial packet.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from models.constants import FABRIC_CLOCK_HZ, SAMPLE_SEED
from models.framing import FRAME_WORDS, PAYLOAD_WORDS
from models.qrng import qrng_words
from models.rnd_cache import cache_lookup
from models.sifting.entries import (
    SAMPLE_BELOW_DEFAULT,
    Reports,
    SiftCode,
    SiftResult,
    ground_sift,
    make_reports,
    satellite_sift,
)
from models.sifting.messages import (
    decode_sift,
    decode_uplink,
    encode_sift,
    encode_uplink,
)
from models.sifting.packets import PACKET_BITS, Packet, Packetizer
from models.symbols import MapperConfig, Symbols, map_symbols

SPEED_OF_LIGHT = 299_792_458.0
LINK_RATE_BPS = FABRIC_CLOCK_HZ  # one link bit per fabric cycle
DOWNLINK_PAYLOAD_FRACTION = PAYLOAD_WORDS / FRAME_WORDS
WORD_BITS = 32
MISSING_HEAD = -1


class SiftingConfigError(ValueError):
    """A link or protocol parameter is out of range."""


class SiftingProtocolError(RuntimeError):
    """The two sides' views became inconsistent (should never happen: a bug, not a link fault)."""


def missing_deadline(seq: int, frame_pulses: int, cache_pulses: int) -> int:
    """Satellite RND-cache head (pulses written) from which uplink frame ``seq`` is declared
    missing if it has not arrived: the frame's last pulse ``(seq + 1) P - 1`` has left the cache
    (EXPIRED once ``n < head - cache_pulses``), so no lookup of the frame could succeed."""
    return (seq + 1) * frame_pulses + cache_pulses


def latency_from_range(range_m: float) -> float:
    """One-way light time (s) over ``range_m`` metres."""
    return range_m / SPEED_OF_LIGHT


@dataclass(frozen=True)
class LinkConfig:
    """One direction of the classical laser link."""

    rate_bps: float = LINK_RATE_BPS
    payload_fraction: float = 1.0
    latency_s: float | Callable[[float], float] = 2.0e-3
    loss: float = 0.0
    burst_rate_hz: float = 0.0
    burst_s: float = 0.05
    bursts: tuple[tuple[float, float], ...] = ()
    ber: float = 0.0
    duplicate: float = 0.0
    truncate: float = 0.0
    reorder_s: float = 0.0

    def __post_init__(self) -> None:
        for name in ("loss", "ber", "duplicate", "truncate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise SiftingConfigError(f"link {name}={getattr(self, name)} is outside 0..1")
        if self.rate_bps <= 0 or not 0 < self.payload_fraction <= 1:
            raise SiftingConfigError(
                f"link rate {self.rate_bps} bit/s x payload fraction {self.payload_fraction}"
                " must be positive")
        if self.burst_rate_hz < 0 or self.burst_s < 0:
            raise SiftingConfigError("link burst rate and duration must not be negative")
        if not self.reorder_s >= 0:
            raise SiftingConfigError(f"link reorder_s={self.reorder_s} must not be negative")

    def latency(self, t: float) -> float:
        return self.latency_s(t) if callable(self.latency_s) else self.latency_s


def downlink_config(**kwargs: object) -> LinkConfig:
    """A downlink :class:`LinkConfig`: payload shares the link with the sync words."""
    return LinkConfig(payload_fraction=DOWNLINK_PAYLOAD_FRACTION, **kwargs)  # type: ignore[arg-type]


@dataclass
class LinkStats:
    sent: int = 0
    lost: int = 0
    corrupted: int = 0
    duplicated: int = 0
    truncated: int = 0


class Link:
    """One direction: :meth:`send` returns the copies that arrive, with their arrival times."""

    def __init__(self, config: LinkConfig, seed: int, horizon_s: float) -> None:
        self.config = config
        self.rng = np.random.default_rng(seed)
        starts = [b[0] for b in config.bursts]
        ends = [b[0] + b[1] for b in config.bursts]
        n_random = self.rng.poisson(config.burst_rate_hz * horizon_s)
        random_starts = np.sort(self.rng.uniform(0.0, horizon_s, n_random))
        starts += random_starts.tolist()
        ends += (random_starts + config.burst_s).tolist()
        order = np.argsort(starts)
        self._starts = np.asarray(starts, dtype=float)[order]
        self._ends = np.maximum.accumulate(np.asarray(ends, dtype=float)[order]) \
            if len(order) else np.zeros(0)
        self.stats = LinkStats()

    @property
    def bits_per_s(self) -> float:
        return self.config.rate_bps * self.config.payload_fraction

    def in_burst(self, t: float) -> bool:
        i = int(np.searchsorted(self._starts, t, side="right")) - 1
        return i >= 0 and t < self._ends[i]

    def send(self, words: np.ndarray, t_send: float) -> list[tuple[float, np.ndarray]]:
        """Send one copy of ``words`` starting at ``t_send``."""
        cfg = self.config
        self.stats.sent += 1
        end = t_send + len(words) * WORD_BITS / self.bits_per_s
        if self.in_burst(t_send) or self.in_burst(end) or self.rng.random() < cfg.loss:
            self.stats.lost += 1
            return []
        copies = 2 if self.rng.random() < cfg.duplicate else 1
        self.stats.duplicated += copies - 1
        arrival = end + cfg.latency(t_send)
        out = []
        bits = len(words) * WORD_BITS
        for _ in range(copies):
            flips = self.rng.binomial(bits, cfg.ber) if cfg.ber else 0
            copy = words
            if flips:
                self.stats.corrupted += 1
                copy = words.copy()
                where = self.rng.integers(0, bits, flips)
                np.bitwise_xor.at(copy, where // WORD_BITS,
                                  (np.uint32(1) << (where % WORD_BITS).astype(np.uint32)))
            if cfg.truncate and len(copy) > 1 and self.rng.random() < cfg.truncate:
                self.stats.truncated += 1
                copy = copy[:int(self.rng.integers(1, len(copy)))]
            out.append((arrival + self.rng.uniform(0.0, cfg.reorder_s) if cfg.reorder_s
                        else arrival, copy))
        return out


@dataclass(frozen=True)
class SiftConfig:
    """Protocol parameters (see ``docs/sifting.md`` for the defaults)."""

    frame_pulses: int = 1 << 21
    packet_bits: int = PACKET_BITS
    cache_pulses: int = 1 << 24
    pulse_rate_hz: float = 625e6
    ground_seed: int = SAMPLE_SEED  # the ground's sampling hash (models.sifting.entries)
    sample_below: int = SAMPLE_BELOW_DEFAULT
    drain_s: float = 0.5
    max_repeats: int = 8
    rx_window: int = 1024
    store_depth: int | None = None  # ground record store (reports); None: unlimited

    def __post_init__(self) -> None:
        p = self.frame_pulses
        if p < 2 or p & (p - 1) or p > 1 << 29:
            raise SiftingConfigError(f"frame_pulses={p} must be a power of two in 2..2**29")
        if self.max_repeats < 1 or self.rx_window < 1 or self.drain_s < 0:
            raise SiftingConfigError("max_repeats and rx_window must be >= 1, drain_s >= 0")
        if self.cache_pulses < 1:
            raise SiftingConfigError(f"cache_pulses={self.cache_pulses} must be >= 1")
        if self.store_depth is not None and self.store_depth < 1:
            raise SiftingConfigError(f"store_depth={self.store_depth} must be >= 1 (or None)")

    @property
    def frame_s(self) -> float:
        return self.frame_pulses / self.pulse_rate_hz


def qrng_symbols(seed: int, mapper: MapperConfig = MapperConfig()
                 ) -> Callable[[np.ndarray], Symbols]:
    """The satellite's symbol of any pulse index, from the counter-based QRNG model."""
    return lambda pulse: map_symbols(qrng_words(seed, pulse), mapper)


@dataclass
class SideTotals:
    """Counters of one side: sampled detections / errors [basis, intensity], drops."""

    detected: np.ndarray = field(default_factory=lambda: np.zeros((2, 3), dtype=np.int64))
    errors: np.ndarray = field(default_factory=lambda: np.zeros((2, 3), dtype=np.int64))
    dropped: int = 0
    missing: int = 0
    sifted_bits: int = 0
    frames: int = 0

    def add(self, result: SiftResult) -> None:
        self.detected += result.detected
        self.errors += result.errors
        self.dropped += result.dropped
        self.missing += result.missing
        self.sifted_bits += len(result.key)
        self.frames += 1


@dataclass
class SiftingRun:
    satellite_packets: list[Packet]
    ground_packets: list[Packet]
    satellite: SideTotals
    ground: SideTotals
    satellite_partial_bits: int
    ground_partial_bits: int
    frames: int
    missing_frames: int
    unsifted: int
    uplink: LinkStats
    downlink: LinkStats
    end_s: float
    # The satellite's decisions in order: (frame, RND cache head at its lookups), head
    # MISSING_HEAD for a frame that never arrived; replayed by the cocotb co-simulation.
    satellite_log: list[tuple[int, int]] = field(default_factory=list)
    ground_frames: int = 0  # frames the ground has sifted (a prefix of satellite_log)
    timeout_frames: int = 0  # of missing_frames: declared on the cache deadline, not on a gap
    stale_frames: int = 0  # uplink copies of a frame already declared missing, dropped
    store_dropped: int = 0  # reports dropped because the ground's record store was full
    store_peak: int = 0  # the most reports the store held at once (0 without a store_depth)

    @property
    def agreed(self) -> int:
        """Packets closed on both sides."""
        return min(len(self.satellite_packets), len(self.ground_packets))


class _Satellite:
    """The satellite endpoint. ``pulses``: the pass length, where the RND cache head stops."""

    def __init__(self, sift: SiftConfig, symbols: Callable[[np.ndarray], Symbols],
                 pulses: int | None = None) -> None:
        self.sift = sift
        self.symbols = symbols
        self.pulses = pulses
        self.next_frame = 0
        self.accepted_end = 0  # one past the last frame accepted
        self.ack = 0
        self.messages: list[np.ndarray] = []
        self.missing_frames = 0
        self.timeouts = 0
        self.stale = 0
        self.totals = SideTotals()
        self.packetizer = Packetizer(sift.packet_bits)
        self.log: list[tuple[int, int]] = []

    def head_at(self, t: float) -> int:
        head = int(t * self.sift.pulse_rate_hz)
        return head if self.pulses is None else min(head, self.pulses)

    def _declare_missing(self, seq: int) -> None:
        self.messages.append(encode_sift(seq, None))
        self.missing_frames += 1
        self.log.append((seq, MISSING_HEAD))

    def advance(self, head: int) -> None:
        """The cache head has reached ``head``: declare every frame past its deadline missing."""
        s = self.sift
        while missing_deadline(self.next_frame, s.frame_pulses, s.cache_pulses) <= head:
            self._declare_missing(self.next_frame)
            self.timeouts += 1
            self.next_frame += 1

    def receive(self, t: float, words: np.ndarray) -> None:
        """A copy whose last word arrives at ``t`` (head ``head_at(t)``): the deadlines up to
        that head are applied first, then the copy is judged."""
        head = self.head_at(t)
        self.advance(head)
        frame = decode_uplink(words)
        if frame is None:
            return
        self.ack = max(self.ack, frame.ack)
        if frame.seq < self.next_frame:
            self.stale += frame.seq >= self.accepted_end
            return
        for seq in range(self.next_frame, frame.seq):
            self._declare_missing(seq)
        pulse = np.uint64(frame.seq * self.sift.frame_pulses) + frame.offset
        status = cache_lookup(pulse, np.uint64(head), self.sift.cache_pulses)
        sym = self.symbols(pulse)
        reports = Reports(pulse, frame.basis, frame.sampled, frame.bit)
        result = satellite_sift(reports, status, sym.intensity, sym.basis, sym.bit)
        self.packetizer.push(result.key_bit, result.key_basis, result.key_intensity,
                             pulse[result.key])
        self.totals.add(result)
        self.messages.append(encode_sift(frame.seq, result.code))
        self.log.append((frame.seq, head))
        self.next_frame = self.accepted_end = frame.seq + 1


class _Ground:
    """The ground endpoint: frames its reports, sifts the satellite's messages in order."""

    def __init__(self, sift: SiftConfig, reports: Reports, bit: np.ndarray, frames: int) -> None:
        self.sift = sift
        self.reports = reports
        self.bit = bit
        self.bounds = np.searchsorted(
            reports.pulse, np.arange(frames + 1, dtype=np.uint64) * np.uint64(sift.frame_pulses))
        self.next_sift = 0
        self.buffer: dict[int, np.ndarray | None] = {}
        self.totals = SideTotals()
        self.packetizer = Packetizer(sift.packet_bits)
        # Record store: which reports were framed, reports held, (time, count) of each release.
        self.kept = np.ones(len(reports), dtype=bool)
        self.admitted = 0
        self.held = 0
        self.peak = 0  # the most reports held at once (with a store_depth)
        self.releases: list[tuple[float, int]] = []
        self.store_dropped = 0

    def admit(self, seq: int) -> None:
        """Frames up to ``seq`` enter the record store: each report at its pulse time, in time
        order with the releases (frames sifted) recorded so far; one that finds the store full
        (``store_depth``) is dropped, neither framed nor sifted."""
        depth = self.sift.store_depth
        while self.admitted <= seq:
            lo, hi = int(self.bounds[self.admitted]), int(self.bounds[self.admitted + 1])
            self.admitted += 1
            if depth is None:
                continue
            times = self.reports.pulse[lo:hi].astype(np.float64) / self.sift.pulse_rate_hz
            pos = 0
            for t_release, count in [*self.releases, (np.inf, 0)]:
                end = int(np.searchsorted(times, t_release))  # reports framed before it
                take = min(end - pos, depth - self.held)
                self.kept[lo + pos + take:lo + end] = False
                self.held += take
                self.peak = max(self.peak, self.held)
                self.held -= count
                pos = end
            self.releases = []
            self.store_dropped += hi - lo - int(np.count_nonzero(self.kept[lo:hi]))

    def rows(self, seq: int) -> np.ndarray:
        """Indices of the reports framed in frame ``seq``."""
        self.admit(seq)
        lo, hi = int(self.bounds[seq]), int(self.bounds[seq + 1])
        return lo + np.flatnonzero(self.kept[lo:hi])

    def frame_words(self, seq: int) -> np.ndarray:
        rows = self.rows(seq)
        r = self.reports
        offset = r.pulse[rows] - np.uint64(seq * self.sift.frame_pulses)
        return encode_uplink(seq, self.next_sift, offset, r.basis[rows], r.sampled[rows],
                             r.bit[rows], (self.sift.frame_pulses - 1).bit_length())

    def receive(self, words: np.ndarray, t: float = 0.0) -> None:
        """A sift-message copy arriving at ``t`` (the record store's release time)."""
        msg = decode_sift(words)
        if msg is None or msg.seq < self.next_sift or msg.seq in self.buffer:
            return
        if msg.seq >= self.next_sift + self.sift.rx_window:
            return
        self.buffer[msg.seq] = msg.code
        while self.next_sift in self.buffer:
            self._sift(self.next_sift, self.buffer.pop(self.next_sift), t)
            self.next_sift += 1

    def _sift(self, seq: int, code: np.ndarray | None, t: float) -> None:
        rows = self.rows(seq)
        if code is None:
            code = np.full(len(rows), SiftCode.MISSING, dtype=np.uint8)
        if len(code) != len(rows):
            raise SiftingProtocolError(
                f"sift message {seq} has {len(code)} entries for {len(rows)} detections")
        r = self.reports
        result = ground_sift(r.basis[rows], self.bit[rows], r.sampled[rows], code)
        self.packetizer.push(result.key_bit, result.key_basis, result.key_intensity,
                             r.pulse[rows][result.key])
        self.totals.add(result)
        if self.sift.store_depth is not None:
            self.releases.append((t, len(rows)))


def _burst_send(link: Link, queue: list, messages: list[np.ndarray], t0: float,
                budget_bits: float, max_repeats: int) -> None:
    """Send ``messages`` in order, cycling up to ``max_repeats`` times, within the budget."""
    t, used = t0, 0.0
    for _ in range(max_repeats):
        for words in messages:
            bits = len(words) * WORD_BITS
            if used and used + bits > budget_bits:
                return
            for arrival in link.send(words, t):
                heapq.heappush(queue, (arrival[0], len(queue), arrival[1]))
            t += bits / link.bits_per_s
            used += bits


def _deliver(queue: list, until: float, receive: Callable[[float, np.ndarray], None]) -> None:
    while queue and queue[0][0] < until:
        t, _, words = heapq.heappop(queue)
        receive(t, words)


def run_sifting(pulse: np.ndarray, basis: np.ndarray, bit: np.ndarray,
                satellite_symbols: Callable[[np.ndarray], Symbols], *,
                sift: SiftConfig = SiftConfig(), uplink: LinkConfig = LinkConfig(),
                downlink: LinkConfig | None = None, seed: int = 0,
                pulses: int | None = None) -> SiftingRun:
    """Sift a pass: ground detection records (ascending ``pulse``, ``basis``, measured ``bit``)
    against the satellite's symbols, through both lossy links. ``pulses``: pass length (default
    the last detection + 1)."""
    downlink = downlink if downlink is not None else downlink_config()
    reports = make_reports(pulse, basis, bit, sift.ground_seed, sift.sample_below)
    bit = np.asarray(bit, dtype=np.uint8) & 1
    last = int(reports.pulse[-1]) + 1 if len(reports) else 0
    pulses = last if pulses is None else pulses
    if pulses < last:
        raise SiftingConfigError(f"pass length {pulses} pulses ends before detection {last - 1}")
    frames = -(-pulses // sift.frame_pulses)
    period = sift.frame_s
    drain_periods = int(np.ceil(sift.drain_s / period))
    horizon = (frames + drain_periods + 1) * period
    up = Link(uplink, seed * 2 + 1, horizon)
    down = Link(downlink, seed * 2 + 2, horizon)
    sat = _Satellite(sift, satellite_symbols, pulses)
    gnd = _Ground(sift, reports, bit, frames)
    up_queue: list = []
    down_queue: list = []

    k = 0
    for k in range(frames + drain_periods + 1):
        t0 = k * period
        _deliver(up_queue, t0, sat.receive)
        _deliver(down_queue, t0, lambda t, words: gnd.receive(words, t))
        sat.advance(sat.head_at(t0))  # the satellite's own clock: expired frames are missing
        if k > frames and gnd.next_sift >= frames and not up_queue and not down_queue:
            break
        if frames and k:
            _burst_send(up, up_queue, [gnd.frame_words(min(k, frames) - 1)], t0,
                        period * up.bits_per_s, sift.max_repeats)
        _burst_send(down, down_queue, sat.messages[sat.ack:], t0, period * down.bits_per_s,
                    sift.max_repeats)

    if len(gnd.packetizer.packets) > len(sat.packetizer.packets):
        raise SiftingProtocolError("the ground closed more packets than the satellite")
    concluded = int(gnd.bounds[gnd.next_sift]) if frames else 0
    return SiftingRun(
        satellite_packets=sat.packetizer.packets,
        ground_packets=gnd.packetizer.packets,
        satellite=sat.totals,
        ground=gnd.totals,
        satellite_partial_bits=sat.packetizer.partial_bits,
        ground_partial_bits=gnd.packetizer.partial_bits,
        frames=frames,
        missing_frames=sat.missing_frames,
        unsifted=len(reports) - concluded,
        uplink=up.stats,
        downlink=down.stats,
        end_s=k * period,
        satellite_log=sat.log,
        ground_frames=gnd.next_sift,
        timeout_frames=sat.timeouts,
        stale_frames=sat.stale,
        store_dropped=gnd.store_dropped,
        store_peak=gnd.peak,
    )
