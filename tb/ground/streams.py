"""Tag streams shared by the ground testbenches (Amaranth simulator and cocotb)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.constants import FABRIC_CLOCK_PS
from models.ground.squash import Detection, squash
from models.ground.stimulus import Stimulus, StimulusConfig, generate, ground_time_ps, linear_range
from models.ground.sync import SyncConfig, detect, downlink_bits
from models.ground.timing import (
    CH_END,
    CH_SYNC,
    NOMINAL_PERIOD_PS,
    IndexerConfig,
    Record,
    Status,
    run_indexer,
)

DELTA = 5_000
SLIP_LSB = FABRIC_CLOCK_PS  # one link bit (one per fabric cycle) in TDC LSB


def doppler_stream(rate: float, ppm: float, frames: int = 3, seed: int = 2
                   ) -> tuple[Stimulus, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A stretch at range rate ``rate`` and clock offset ``ppm``, closed by an end marker.

    Returns ``(stimulus, true_offset, time, channel, frame)``; ``true_offset`` is each tag's
    delay from its photon's jitter-free arrival + ``DELTA`` (inf for non-signal tags and for
    tags after the last sync).
    """
    cfg = StimulusConfig(frames=frames, first_frame=77, range_m=linear_range(900e3, rate),
                         clock_ppm=ppm, delta_ps=DELTA, noise_seed=seed,
                         background_cps=50_000.0)
    stim = generate(cfg)
    offset = true_offset(cfg, stim)
    time = np.append(stim.time, stim.time[-1:])
    channel = np.append(stim.channel, CH_END)
    frame = np.append(stim.frame, np.uint64(0))
    return stim, offset, time, channel, frame


def true_offset(cfg: StimulusConfig, stim: Stimulus) -> np.ndarray:
    """Each tag's delay from its photon's jitter-free arrival + ``cfg.delta_ps`` (inf for
    non-signal tags and for tags after the last sync, which the end marker truncates)."""
    sig = stim.pulse >= 0
    offset = np.full(stim.time.size, np.inf)
    offset[sig] = stim.time[sig] - ground_time_ps(cfg, stim.pulse[sig]) - cfg.delta_ps
    offset[stim.time > stim.time[stim.channel == CH_SYNC].max()] = np.inf
    return offset


@dataclass(frozen=True)
class Perturbed:
    """A tag stream with link faults applied, closed by an end marker; ``pulse`` and
    ``offset`` are the truth of each tag (see :func:`true_offset`)."""

    time: np.ndarray
    channel: np.ndarray
    frame: np.ndarray
    pulse: np.ndarray
    offset: np.ndarray

    @property
    def tags(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.time, self.channel, self.frame


def perturb(cfg: StimulusConfig, slips: dict[int, float] | None = None,
            lost: tuple[int, int] | None = None,
            sync_frames: np.ndarray | None = None) -> Perturbed:
    """The stretch of ``cfg`` with link faults.

    ``slips`` maps a frame counter to a bit slip (in link bits, 6.4 ns each; a fraction makes a
    timing fault that is no slip) of the recovered clock just before that sync: its strobe and
    all later ones move by the accumulated slip, until a sync word is lost (the sync detector
    re-acquires on the true positions, so the slip is gone after the gap). ``lost = (first,
    last)``: a cloud burst from the sync of frame ``first`` to that of ``last`` (excluded):
    neither sync tags nor detections in between. ``sync_frames``: only these frames have a sync
    tag (the frame events of the sync detector).
    """
    stim = generate(cfg)
    offset = true_offset(cfg, stim)
    time = stim.time.astype(np.int64)
    keep = np.ones(time.size, dtype=bool)
    sync = stim.channel == CH_SYNC
    if lost is not None:
        t0, t1 = (time[sync & (stim.frame == k)][0] for k in lost)
        keep &= ~((time > t0) & (time < t1)) & ~(sync & (stim.frame == lost[0]))
    if sync_frames is not None:
        keep &= ~sync | np.isin(stim.frame, sync_frames)
    accumulated = 0.0
    for k in np.sort(stim.frame[sync]).tolist():
        if lost is not None and k == lost[1]:
            accumulated = 0
        accumulated += (slips or {}).get(k, 0)
        time[sync & (stim.frame == k)] += round(accumulated * SLIP_LSB)
    order = np.argsort(time[keep], kind="stable")
    fields = [a[keep][order] for a in (time, stim.channel, stim.frame, stim.pulse, offset)]
    return Perturbed(np.append(fields[0], fields[0][-1]).astype(np.uint64),
                     np.append(fields[1], CH_END), np.append(fields[2], np.uint64(0)),
                     np.append(fields[3], -1), np.append(fields[4], np.inf))


def wrongly_indexed(p: Perturbed, records: list[Record], sources: list[int] | None = None
                    ) -> int:
    """ACCEPTED records of signal photons (true delay within a pulse period) whose index is
    not the photon's pulse; ``sources``: the tag of each record (``IndexerResult.sources``),
    by default the detection tags of ``p`` in order (true without OVERFLOW/ORDER records)."""
    det = np.flatnonzero(p.channel < CH_SYNC) if sources is None else np.asarray(sources)
    n = np.array([r.n for r in records], dtype=np.int64)
    ok = np.array([r.status == Status.ACCEPTED for r in records])
    close = np.abs(p.offset[det]) < 800
    return int(np.sum(ok & close & (n != p.pulse[det])))


def garbage_stream(seed: int, count: int = 300) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mostly ordered random tags with every seventh time scrambled, all channel codes."""
    rng = np.random.default_rng(seed)
    time = np.sort(rng.integers(0, 1 << 28, count)).astype(np.uint64)
    time[::7] = rng.integers(0, 1 << 28, time[::7].size)
    return time, rng.integers(0, 8, count), rng.integers(0, 3, count).astype(np.uint64)


def sync_scenario(seed: int, frames: int = 90, frame_bits: int = 256
                  ) -> tuple[np.ndarray, int, int]:
    """Downlink bits with BER 1e-3, a burst of 20 lost sync words (frames 8..27) and an outage
    of 27 (frames 40..66); returns ``(bits, lead_bits, first_frame)``."""
    lead, first = 77, 1000
    lost = tuple(range(8, 28)) + tuple(range(40, 67))
    bits = downlink_bits(first, frames, frame_bits, seed, ber=1e-3, lost=lost, lead_bits=lead)
    return bits, lead, first


def squash_case(seed: int, squash_seed: int) -> tuple[list[Record], list[Detection]]:
    """Indexer records of a high-rate stretch (many multi-click pulses), closed by a sentinel
    record that pushes the last pulse out, and the squashed model output."""
    cfg = StimulusConfig(frames=3, transmittance=3e-2, noise_seed=seed, background_cps=50_000.0)
    stim = generate(cfg)
    recs = run_indexer(stim.time, stim.channel, stim.frame,
                       IndexerConfig(delta=int(cfg.delta_ps), depth=8192))
    sentinel = Record((1 << 64) - 1, 0, 0, Status.ACCEPTED)
    return [*recs, sentinel], squash(recs, squash_seed)


def cloud_burst(burst_frames: int, before: int = 3, after: int = 4, seed: int = 5
                ) -> tuple[Perturbed, int]:
    """A cloud burst through the sync detector model and the tag stimulus: the downlink (real
    16384-bit frames, BER 1e-3) loses ``burst_frames`` sync words and the light of that time;
    sync tags exist only for the detector's frame events (its flywheel, loss of lock and
    re-acquisition). Returns the tag stream and the first frame after the burst."""
    first = 900
    total = before + burst_frames + after
    back = first + before + burst_frames
    lost = tuple(range(before, before + burst_frames))
    bits = downlink_bits(first, total, 1 << 14, seed, ber=1e-3, lost=lost, lead_bits=77)
    events = detect(bits, SyncConfig()).events
    cfg = StimulusConfig(frames=total, first_frame=first, delta_ps=DELTA, noise_seed=seed,
                         transmittance=2e-4, background_cps=20_000.0)
    frames = np.array([e.frame for e in events], dtype=np.uint64)
    return perturb(cfg, lost=(first + before, back), sync_frames=frames), back


CAL_TRUE_DELAY = 5_300.0


def closed(stim: Stimulus) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(time, channel, frame)`` of ``stim`` closed by an end marker."""
    return (np.append(stim.time, stim.time[-1:]), np.append(stim.channel, CH_END),
            np.append(stim.frame, np.uint64(0)))


def calibration_stream(seed: int) -> tuple[StimulusConfig, tuple[np.ndarray, ...]]:
    """Six frames, ~700 indexed signal detections (true delay ``CAL_TRUE_DELAY``, -3 ppm)."""
    cfg = StimulusConfig(frames=6, first_frame=40, delta_ps=CAL_TRUE_DELAY, noise_seed=seed,
                         transmittance=5e-3, background_cps=20_000.0, clock_ppm=-3.0)
    return cfg, closed(generate(cfg))


def fault_stream(seed: int) -> Perturbed:
    """Nine frames after the calibration stretch: +1 bit slip, a lost sync word, -1 bit slip;
    max Doppler and a -20 ppm clock."""
    cfg = StimulusConfig(frames=9, first_frame=60, range_m=linear_range(900e3, -7_000.0),
                         clock_ppm=-20.0, delta_ps=CAL_TRUE_DELAY, noise_seed=seed,
                         background_cps=20_000.0, transmittance=1e-3)
    return perturb(cfg, slips={63: 1, 68: -1}, lost=(64, 65))


def _tags(*rows):
    t, c, f = zip(*rows, strict=True)
    return np.array(t, dtype=np.uint64), np.array(c), np.array(f)


def bad_stream() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tags exercising every status (with delta 0, pending depth 2)."""
    B = 1000 + NOMINAL_PERIOD_PS + 1600  # sync 7, one period after sync 6
    return _tags(
        (100, 0, 0),                 # before any sync
        (1000, CH_SYNC, 6),          # its interval: the guard's reference, on probation
        (B, CH_SYNC, 7),
        (B + 1600 * 5, 1, 0),        # pulse 7 * 2**16 + 5
        (B + 1600 * 9 + 500, 2, 0),  # outside the gate
        (B + 1600 * 10, 3, 0),       # pending buffer full
        (50, 0, 0),                  # older than the previous tag
        (B + 1600 * 11, 5, 0),       # no such channel
        (B + NOMINAL_PERIOD_PS, CH_SYNC, 8),
        (B + NOMINAL_PERIOD_PS + 3200, 0, 0),
        (B + 3 * NOMINAL_PERIOD_PS, CH_SYNC, 10),  # frame 9 missing: counter gap
        (B + 3 * NOMINAL_PERIOD_PS + 1600, 0, 0),
        (B + 4 * NOMINAL_PERIOD_PS + 99_999, CH_SYNC, 11),  # period too long
        (B + 4 * NOMINAL_PERIOD_PS + 200_000, 1, 0),
        (0, CH_END, 0),
    )


def link_fault_stream(seed: int) -> Perturbed:
    """Slips of +1 and -2 bits (re-anchored), a timing fault that is no slip (hold), lost sync
    words and re-acquisition (hold and shift cleared), at maximum Doppler and -20 ppm."""
    cfg = StimulusConfig(frames=11, first_frame=300, range_m=linear_range(900e3, -7_000.0),
                         clock_ppm=-20.0, delta_ps=DELTA, noise_seed=seed,
                         background_cps=20_000.0, transmittance=1e-3)
    return perturb(cfg, slips={303: 1, 305: -2, 307: 0.4}, lost=(308, 309))


def _doppler_tags(rate: float, ppm: float, frames: int = 3, seed: int = 2
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    _, _, *tags = doppler_stream(rate, ppm, frames, seed)
    return tuple(tags)


TAG_STREAMS = {
    "doppler": _doppler_tags,
    "bad": bad_stream,
    "garbage": garbage_stream,
    "link_faults": lambda seed: link_fault_stream(seed).tags,
}
"""Tag streams by name, for test bodies whose parameters must be JSON (:mod:`tb.dual`)."""


def tag_stream(specs: list[dict]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The streams of ``specs`` (``{"kind": name, **arguments}`` of :data:`TAG_STREAMS`) one
    after the other: ``(time, channel, frame)``."""
    parts = [TAG_STREAMS[spec["kind"]](**{k: v for k, v in spec.items() if k != "kind"})
             for spec in specs]
    return tuple(np.concatenate([part[i] for part in parts]) for i in range(3))


def sync_bits(seed: int, frames: int = 90, drop: tuple[int, int] | None = None,
              jump_seed: int | None = None) -> np.ndarray:
    """Downlink bits of :func:`sync_scenario` with ``drop = (at, count)`` bits lost (a bit
    slip: re-acquisition) and, with ``jump_seed``, six frames of a counter jump to 5000 (a
    satellite reset: lock lost) appended."""
    bits, _, _ = sync_scenario(seed=seed, frames=frames)
    if drop is not None:
        bits = np.concatenate([bits[:drop[0]], bits[drop[0] + drop[1]:]])
    if jump_seed is not None:
        bits = np.concatenate([bits, downlink_bits(5000, 6, 256, seed=jump_seed)])
    return bits
