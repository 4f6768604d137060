"""Ground time-tag stimulus for a stretch of a pass.

The satellite emits pulse ``n`` at ``n * 1600 ps`` of its own clock; sync word ``k`` goes with
pulse ``k * 2**16``. A pulse emitted at ``te`` reaches the ground at ``ta = te + R(te + R(te)/c)/c``
(one light-time iteration; ``R`` is the slant range, a function of emission time). The ground
clock reads ``ta * (1 + clock_ppm * 1e-6) + clock_offset_ps``; the TDC truncates to its LSB.

* sync tags: the ground time of pulse ``k * 2**16`` plus Gaussian sync jitter (100 ps FWHM);
* signal detections: pulses drawn in O(detections) (geometric gaps at the highest click
  probability, thinned per intensity), their symbols from the counter-based QRNG
  (:func:`models.qrng.qrng_words`, :func:`models.symbols.map_symbols`), so the true pulse index,
  intensity, basis and bit of every photon are known; Poisson photon number behind a click
  (multi-click pulses happen), passive 50/50 basis choice, polarisation error;
  tag = ground time + ``delta_ps`` + detector response (:class:`DetectorResponse`);
* dark and background counts: uniform in time, per detector;
* detector dead time: non-paralysable, per detector.

Tags come out merged and sorted by time, with the truth of each tag alongside.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.signal import fftconvolve

from models.constants import FRAME_PULSES, PULSE_PERIOD_PS, TDC_LINE_SEED
from models.ground.tdc import DelayLine
from models.ground.timing import CH_SYNC, DETECTORS
from models.qrng import qrng_words
from models.symbols import MapperConfig, map_symbols

C_M_S = 299_792_458.0
FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))
INTENSITY_MU = (0.8, 0.1, 0.001)


class StimulusError(ValueError):
    """A stimulus parameter outside its physical or supported range."""


def linear_range(range0_m: float = 1_000_000.0, rate_m_s: float = 7_500.0
                 ) -> Callable[[np.ndarray], np.ndarray]:
    """Kinematic default: range ``range0_m + rate_m_s * t`` (7.5 km/s is the maximum Doppler)."""
    if abs(rate_m_s) > 7_500.0 + 1e-9:
        raise StimulusError(f"range rate {rate_m_s} m/s exceeds the 7.5 km/s of a 500 km orbit")
    return lambda t: range0_m + rate_m_s * np.asarray(t, dtype=np.float64)


@dataclass(frozen=True)
class DetectorResponse:
    """Timing response of a thick-junction Si SPAD at 850 nm plus laser and fibre spread (ps).

    Offset of a detection tag from the pulse's arrival = Gaussian core (``core_fwhm_ps``) +, with
    probability ``tail_fraction``, an exponential diffusion delay (``tail_tau_ps``: carriers made
    in the undepleted layer diffuse before they trigger an avalanche) + laser pulse (Gaussian,
    ``laser_fwhm_ps``) + multimode-fibre modal spread (uniform over ``fibre_spread_ps``, centred).
    Sources and reasoning for the defaults: ``docs/ground.md``.
    """

    core_fwhm_ps: float = 350.0
    tail_fraction: float = 0.30
    tail_tau_ps: float = 800.0
    laser_fwhm_ps: float = 60.0
    fibre_spread_ps: float = 110.0

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        core = np.hypot(self.core_fwhm_ps, self.laser_fwhm_ps) / FWHM_PER_SIGMA
        out = rng.normal(0.0, core, size)
        out += rng.uniform(-self.fibre_spread_ps / 2, self.fibre_spread_ps / 2, size)
        tail = rng.random(size) < self.tail_fraction
        out[tail] += rng.exponential(self.tail_tau_ps, int(tail.sum()))
        return out

    def pdf(self, grid_ps: np.ndarray, sync_fwhm_ps: float = 0.0) -> np.ndarray:
        """Density on a uniform grid (symmetric around 0), including the sync jitter."""
        step = float(grid_ps[1] - grid_ps[0])
        sigma = np.sqrt(self.core_fwhm_ps**2 + self.laser_fwhm_ps**2 + sync_fwhm_ps**2)
        sigma /= FWHM_PER_SIGMA
        core = np.exp(-0.5 * (grid_ps / sigma) ** 2)
        box = (np.abs(grid_ps) <= self.fibre_spread_ps / 2).astype(np.float64)
        tail = np.where(grid_ps >= 0, np.exp(-np.clip(grid_ps, 0, None) / self.tail_tau_ps), 0.0)
        prompt = np.zeros_like(grid_ps)
        prompt[grid_ps.size // 2] = 1.0
        delay = (1 - self.tail_fraction) * prompt + self.tail_fraction * tail / tail.sum()
        density = np.clip(fftconvolve(fftconvolve(core, box, "same"), delay, "same"), 0, None)
        return density / (density.sum() * step)

    def mode_ps(self, sync_fwhm_ps: float = 0.0) -> float:
        """Peak of the response (where the calibration centres the gate), 1 ps resolution."""
        grid = np.arange(-4000.0, 4001.0)
        return float(grid[np.argmax(self.pdf(grid, sync_fwhm_ps))])


@dataclass(frozen=True)
class StimulusConfig:
    """A stretch of frames ``first_frame .. first_frame + frames`` (sync tags at both ends)."""

    qrng_seed: int = 1
    noise_seed: int = 2
    first_frame: int = 0
    frames: int = 4
    range_m: Callable[[np.ndarray], np.ndarray] = field(default_factory=linear_range)
    clock_ppm: float = 1.0
    clock_offset_ps: float = 0.0
    delta_ps: float = 5_000.0
    transmittance: float = 2e-3
    dark_cps: float = 100.0
    background_cps: float = 2_000.0
    dead_time_ps: float = 22_000.0
    sync_fwhm_ps: float = 100.0
    response: DetectorResponse | None = field(default_factory=DetectorResponse)
    polarization_error: float = 0.003
    tdc_lsb_ps: float = 1.0
    tdc_rms_ps: float = 0.0
    mapper: MapperConfig = field(default_factory=MapperConfig)

    def __post_init__(self) -> None:
        if self.frames < 1 or self.first_frame < 0:
            raise StimulusError(f"frames={self.frames}, first_frame={self.first_frame}: need "
                                "frames >= 1 and first_frame >= 0")
        if abs(self.clock_ppm) > 100:
            raise StimulusError(f"ground clock offset {self.clock_ppm} ppm is not a TCXO/GPSDO")
        if not 0 < self.transmittance <= 1:
            raise StimulusError(f"transmittance {self.transmittance} is outside (0, 1]")
        if min(self.dark_cps, self.background_cps, self.dead_time_ps, self.sync_fwhm_ps) < 0:
            raise StimulusError("rates, dead time and jitter must not be negative")


@dataclass(frozen=True)
class Stimulus:
    """Merged tag stream (sorted by time) with the truth of every tag.

    ``pulse`` is the true pulse index of a signal click (-1 for dark/background and sync tags);
    ``intensity``/``basis``/``bit`` the satellite's symbol of that pulse (0 where ``pulse`` < 0).
    """

    time: np.ndarray
    arrival: np.ndarray
    channel: np.ndarray
    frame: np.ndarray
    pulse: np.ndarray
    intensity: np.ndarray
    basis: np.ndarray
    bit: np.ndarray

    @property
    def signal(self) -> np.ndarray:
        return self.pulse >= 0


def ground_time_ps(cfg: StimulusConfig, pulse: np.ndarray) -> np.ndarray:
    """Jitter-free ground-clock arrival time (ps, float64) of pulse indices ``pulse``."""
    te_ps = np.asarray(pulse, dtype=np.float64) * PULSE_PERIOD_PS
    te_s = te_ps * 1e-12
    first = cfg.range_m(te_s) / C_M_S
    flight_ps = cfg.range_m(te_s + first) / C_M_S * 1e12
    ta_ps = te_ps + flight_ps
    return ta_ps + ta_ps * (cfg.clock_ppm * 1e-6) + cfg.clock_offset_ps


def _dead_time(time: np.ndarray, channel: np.ndarray, dead_ps: float) -> np.ndarray:
    keep = np.ones(time.size, dtype=bool)
    for ch in range(DETECTORS):
        idx = np.flatnonzero(channel == ch)
        idx = idx[np.argsort(time[idx], kind="stable")]
        last = -np.inf
        for i in idx.tolist():
            if time[i] - last < dead_ps:
                keep[i] = False
            else:
                last = time[i]
    return keep


def _signal_clicks(cfg: StimulusConfig, rng: np.random.Generator
                   ) -> tuple[np.ndarray, np.ndarray]:
    first = cfg.first_frame * FRAME_PULSES
    count = cfg.frames * FRAME_PULSES
    p_det = 1.0 - np.exp(-np.asarray(INTENSITY_MU) * cfg.transmittance)
    p_max = float(p_det.max())
    expected = count * p_max
    gaps = rng.geometric(p_max, size=int(expected + 10 * np.sqrt(expected) + 100))
    cand = np.cumsum(gaps) - 1
    cand = cand[cand < count] + first
    sym = map_symbols(qrng_words(cfg.qrng_seed, cand.astype(np.uint64)), cfg.mapper)
    keep = rng.random(cand.size) < p_det[sym.intensity] / p_max
    pulses = cand[keep]
    mu_eta = np.asarray(INTENSITY_MU)[sym.intensity[keep]] * cfg.transmittance
    photons = 1 + rng.poisson(mu_eta)
    pulses = np.repeat(pulses, photons)
    sym = map_symbols(qrng_words(cfg.qrng_seed, pulses.astype(np.uint64)), cfg.mapper)
    rx_basis = rng.integers(0, 2, pulses.size)
    flip = rng.random(pulses.size) < cfg.polarization_error
    rx_bit = np.where(rx_basis == sym.basis, sym.bit ^ flip, rng.integers(0, 2, pulses.size))
    return pulses, (2 * rx_basis + rx_bit).astype(np.uint8)


def generate(cfg: StimulusConfig) -> Stimulus:
    """Tags of the stretch described by ``cfg`` (see the module docstring)."""
    rng = np.random.default_rng(cfg.noise_seed)
    frames = np.arange(cfg.first_frame, cfg.first_frame + cfg.frames + 1, dtype=np.int64)
    sync_sigma = cfg.sync_fwhm_ps / FWHM_PER_SIGMA
    t_sync = ground_time_ps(cfg, frames * FRAME_PULSES) + rng.normal(0, sync_sigma, frames.size)

    pulses, channel = _signal_clicks(cfg, rng)
    t_sig = ground_time_ps(cfg, pulses) + cfg.delta_ps
    if cfg.response is not None:
        t_sig += cfg.response.sample(rng, pulses.size)

    t0, t1 = ground_time_ps(cfg, frames[[0, -1]] * FRAME_PULSES)
    noise_rate = (cfg.dark_cps + cfg.background_cps) * 1e-12 * DETECTORS
    noise_n = rng.poisson(noise_rate * (t1 - t0))
    t_noise = rng.uniform(t0, t1, noise_n)
    ch_noise = rng.integers(0, DETECTORS, noise_n).astype(np.uint8)

    times = np.concatenate([t_sig, t_noise])
    chans = np.concatenate([channel, ch_noise])
    truth = np.concatenate([pulses, np.full(noise_n, -1, dtype=np.int64)])
    keep = _dead_time(times, chans, cfg.dead_time_ps)
    times, chans, truth = times[keep], chans[keep], truth[keep]

    times = np.concatenate([t_sync, times])
    chans = np.concatenate([np.full(frames.size, CH_SYNC, dtype=np.uint8), chans])
    frame = np.concatenate([frames, np.zeros(truth.size, dtype=np.int64)])
    truth = np.concatenate([np.full(frames.size, -1, dtype=np.int64), truth])
    order = np.argsort(times, kind="stable")
    arrival = times[order]
    tdc_error = rng.normal(0.0, cfg.tdc_rms_ps, arrival.size) if cfg.tdc_rms_ps else 0.0
    tags = np.floor((arrival + tdc_error) / cfg.tdc_lsb_ps)
    if tags[0] < 0:
        raise StimulusError("the stretch starts before ground time 0: raise clock_offset_ps")
    truth = truth[order]
    sym = map_symbols(qrng_words(cfg.qrng_seed, np.maximum(truth, 0).astype(np.uint64)),
                      cfg.mapper)
    real = truth >= 0
    return Stimulus(
        time=tags.astype(np.uint64), arrival=arrival, channel=chans[order],
        frame=frame[order].astype(np.uint64),
        pulse=truth, intensity=np.where(real, sym.intensity, 0).astype(np.uint8),
        basis=np.where(real, sym.basis, 0).astype(np.uint8),
        bit=np.where(real, sym.bit, 0).astype(np.uint8))



def tdc_line(channel: int) -> DelayLine:
    """The behavioural delay line of TDC channel ``channel`` in the co-simulation (one seed per
    line)."""
    return DelayLine(seed=TDC_LINE_SEED + channel)
