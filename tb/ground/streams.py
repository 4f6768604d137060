"""Tag streams shared by the ground testbenches (Amaranth simulator and cocotb)."""

from __future__ import annotations

import numpy as np

from models.ground.squash import squash
from models.ground.stimulus import Stimulus, StimulusConfig, generate, ground_time_ps, linear_range
from models.ground.sync import downlink_bits
from models.ground.timing import CH_END, CH_SYNC, IndexerConfig, Record, Status, run_indexer

DELTA = 5_000


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
    sig = stim.pulse >= 0
    offset = np.full(stim.time.size, np.inf)
    offset[sig] = stim.time[sig] - ground_time_ps(cfg, stim.pulse[sig]) - DELTA
    # tags after the closing sync are truncated by the end marker, by design
    offset[stim.time > stim.time[stim.channel == CH_SYNC].max()] = np.inf
    time = np.append(stim.time, stim.time[-1:])
    channel = np.append(stim.channel, CH_END)
    frame = np.append(stim.frame, np.uint64(0))
    return stim, offset, time, channel, frame


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


def squash_case(seed: int, ground_seed: int) -> tuple[list[int], list]:
    """Indexer records of a high-rate stretch (many multi-click pulses) as flattened payloads,
    closed by a sentinel record that pushes the last pulse out, and the squashed model output."""
    cfg = StimulusConfig(frames=2, transmittance=3e-2, noise_seed=seed, background_cps=50_000.0)
    stim = generate(cfg)
    recs = run_indexer(stim.time, stim.channel, stim.frame,
                       IndexerConfig(delta=int(cfg.delta_ps), depth=8192))
    sentinel = Record((1 << 64) - 1, 0, 0, Status.ACCEPTED)
    payloads = [r.n | r.channel << 64 | (r.r16 & 0xFFFF) << 67 | int(r.status) << 83
                for r in [*recs, sentinel]]
    return payloads, squash(recs, ground_seed)
