"""Scenarios of the end-to-end co-simulation (``configs/scenarios/*.toml``) and their stimulus.

A scenario picks a window of a pass (``pass``, ``offset_s`` into its data collection) and says
how the run is compressed and disturbed. The optical channel of the window comes from the pass
model (:mod:`models.channel`: range, range rate and link efficiency at the window start, the
detector's dark and background counts, the moon) and is turned into ground time tags by
:func:`models.ground.stimulus.generate` (Doppler, clock offset, sync jitter, detector response,
dead time). The expected ground detection records are :func:`models.ground.timing.run_indexer` +
:func:`models.ground.squash.squash` of those tags: the golden output of the ground timing chain.

Compression (``docs/e2e.md``): all click rates (signal transmittance, dark, background) are
multiplied by ``rate_scale`` so that a window of seconds of simulated pulses holds the
detections of minutes of a pass; the classical link's latency is divided by ``time_scale`` so
that the report round trip fits the simulated RND cache (4 sync frames).

File format (every key optional except ``pass``; unknown keys are errors)::

    name = "nominal"            description = "..."
    pass = "configs/passes/jinan-2022-09-25.toml"    # relative to the repository
    offset_s = 150.0            frames = 2048        seed = 1
    rate_scale = 250.0          time_scale = 32.0
    clock_ppm = 0.5             clock_offset_ps = 0.0
    satellite_ppm = 0.0         range_rate_m_s = -7500.0    cdr_pull_in_ppm = 100.0
    extra_background_cps = 0.0  # per detector, before rate_scale (a moon surge)
    memory = "compressed"       # or "flight": the RND cache and record store of the FPGA tops
    [uplink]   / [downlink]     # the laser link's line bits (models.link.channel, line_channels)
    loss = 0.0  ber = 0.0  slip_rate = 0.0  bursts = [[t0_s, duration_s], ...]  (simulated time)

``ber``: line bit errors; ``loss``: short fades (:data:`FADE_BLOCKS` blocks of noise, too short to
cost the lock) at a rate that cuts a 32-word copy with probability ``loss``; ``bursts``: loss of
signal (noise bits) over the given intervals; ``slip_rate``: bit slips of the receiver's clock
recovery per line bit (either way).

Clocks (:mod:`sim.e2e_clocks`): ``clock_ppm`` is the ground's clock against the satellite's
(the TDC reads the arrivals with it); ``satellite_ppm`` the satellite's oscillator against its
nominal 156.25 MHz, so the ground's runs at ``satellite_ppm + clock_ppm``. ``range_rate_m_s``
replaces the pass window's range rate (the Doppler of the arrivals and of both links' recovered
clocks); ``cdr_pull_in_ppm`` is the tuning range of both receivers' clock recovery
(:class:`models.link.cdr.CdrConfig`).

Memories: ``memory = "compressed"`` runs the top's default RND cache (4 sync frames) and record
store (4,096 records); ``"flight"`` the sizes the FPGA tops build for a real pass
(:func:`models.memory.flight.flight_pass_sizes`: a 2^24-pulse cache, 89,923 records) in DRAM
behind the behavioural port model, with a
sift-message sender that keeps every message of an uplink outage of
:data:`models.memory.flight.UPLINK_BURST_S` plus the cache life unacknowledged
(:func:`scenario_params`); ``configs/scenarios/flight.toml`` runs them at the real light time.
"""

from __future__ import annotations

import hashlib
import math
import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from models.channel.config import PassConfigError, load_pass
from models.channel.passmodel import config_slices
from models.constants import (
    FABRIC_CLOCK_PS,
    FRAME_PULSES,
    LANES,
    SQUASH_SEED,
    TDC_CHANNELS,
)
from models.ground.squash import squash
from models.ground.stimulus import (
    StimulusConfig,
    StimulusError,
    generate,
    ground_time_ps,
    linear_range,
    tdc_line,
)
from models.ground.strobe_guard import guarded_input
from models.ground.sync_join import JoinConfig
from models.ground.tdc import (
    ChannelConfig,
    ChannelResult,
    channel_input,
    default_pulses,
    run_channel,
)
from models.ground.time_tagger import TaggerConfig, TaggerResult, run_time_tagger_hits
from models.ground.timing import CH_SYNC, IndexerConfig, Status, run_indexer
from models.link.channel import line_faults
from models.link.line_code import BLOCK_BITS
from models.memory.flight import UPLINK_BURST_S, flight_pass_sizes
from models.sifting.classical_link import SPEED_OF_LIGHT
from rtl.e2e.top import (
    LINE_CYCLES,
    POWER_ON_CYCLES,
    SYNC_EVENT_CYCLE,
    SYNC_FIRST_FRAME,
    E2eParams,
    startup_tables,
)
from rtl.ground.time_tagger import (
    CALIBRATOR_COUNTERS,
    CHANNEL_COUNTERS,
    JOIN_COUNTERS,
    MERGE_COUNTERS,
)
from tb.e2e.cocotb_e2e import DRAIN_FRAMES

ROOT = Path(__file__).resolve().parent.parent
SCENARIO_DIR = ROOT / "configs" / "scenarios"
CLOCK_PS = FABRIC_CLOCK_PS
CYCLE_S = CLOCK_PS * 1e-12
FADE_BLOCKS = 8  # a fade (``loss``): 8 line blocks of noise, far below the 16 bad headers of
# a lost lock
LOSS_COPY_BITS = 32 * BLOCK_BITS  # ``loss`` is the chance that a fade cuts a 32-word copy
REPLAY_SLACK_CYCLES = 64  # the window's first pulse arrives at least this long after reset
JOIN_MARGIN_PS = 20_000  # a strobe's window reaches this far beyond the spread of its lead
TABLE_SOURCES = ("constants.py", "ground/tdc.py", "ground/tdc_calibration.py",
                 "ground/stimulus.py")
FRAME_BITS = FRAME_PULSES // LANES  # downlink bits (one per cycle) per sync frame
# The code a line samples at cycle c is due at replay cycle c + CODE_DUE_CYCLES: the e2e top's
# cycle counter ``now`` runs POWER_ON_CYCLES ahead of the TDC's, whose coarse time of cycle c is
# c * FABRIC_CLOCK_PS.
CODE_DUE_CYCLES = POWER_ON_CYCLES


class ScenarioError(ValueError):
    """A scenario file that cannot be run (the message names the file and the problem)."""


@dataclass(frozen=True)
class LinkSide:
    loss: float = 0.0
    ber: float = 0.0
    slip_rate: float = 0.0
    bursts: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True)
class Scenario:
    name: str
    path: str
    pass_file: str
    description: str = ""
    offset_s: float = 150.0
    frames: int = 2048
    seed: int = 1
    rate_scale: float = 250.0
    time_scale: float = 32.0
    clock_ppm: float = 0.5
    clock_offset_ps: float = 0.0
    extra_background_cps: float = 0.0
    satellite_ppm: float = 0.0
    range_rate_m_s: float | None = None
    cdr_pull_in_ppm: float = 100.0
    memory: str = "compressed"
    uplink: LinkSide = field(default_factory=LinkSide)
    downlink: LinkSide = field(default_factory=LinkSide)


_TOP_FLOATS = ("offset_s", "rate_scale", "time_scale", "clock_ppm", "clock_offset_ps",
               "extra_background_cps", "satellite_ppm", "range_rate_m_s", "cdr_pull_in_ppm")
MAX_OSCILLATOR_PPM = 100.0  # a TCXO, not a broken oscillator
MAX_RANGE_RATE_M_S = 12_000.0  # faster than any low-Earth-orbit pass
_TOP_INTS = ("frames", "seed")
_TOP_STRS = ("name", "description", "pass", "memory")
MEMORIES = ("compressed", "flight")


def _fail(path: Path, message: str) -> ScenarioError:
    return ScenarioError(f"{path}: {message}")


def _number(path: Path, where: str, key: str, value: Any, kind: type) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(path, f"{where}'{key}' must be a number, not {value!r}")
    if kind is int and not isinstance(value, int):
        raise _fail(path, f"{where}'{key}' must be an integer, not {value!r}")
    try:
        number = kind(value)
    except OverflowError:  # an integer beyond the float range
        raise _fail(path, f"{where}'{key}' is out of range: {value!r}") from None
    if isinstance(number, float) and not math.isfinite(number):
        raise _fail(path, f"{where}'{key}' must be finite, not {value!r}")
    return number


def _link_side(path: Path, section: str, table: Any) -> LinkSide:
    if not isinstance(table, dict):
        raise _fail(path, f"[{section}] must be a table")
    allowed = {f.name for f in fields(LinkSide)}
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in allowed:
            raise _fail(path, f"unknown key {key!r} in [{section}] "
                        f"(allowed: {', '.join(sorted(allowed))})")
        if key == "bursts":
            if not isinstance(value, list) or not all(
                    isinstance(b, list) and len(b) == 2 for b in value):
                raise _fail(path, f"[{section}] bursts must be a list of [start_s, duration_s]")
            bursts = tuple((_number(path, f"[{section}] ", "bursts", b[0], float),
                            _number(path, f"[{section}] ", "bursts", b[1], float))
                           for b in value)
            if any(start < 0 or length <= 0 for start, length in bursts):
                raise _fail(path, f"[{section}] bursts need start >= 0 and duration > 0")
            values[key] = bursts
        else:
            number = _number(path, f"[{section}] ", key, value, float)
            if not 0.0 <= number <= 1.0:
                raise _fail(path, f"[{section}] {key}={number} is outside 0..1")
            values[key] = number
    return LinkSide(**values)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; raise :class:`ScenarioError` on any problem."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise _fail(path, "no such scenario file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(path, f"cannot read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise _fail(path, f"not valid TOML ({exc})") from None
    values: dict[str, Any] = {"name": path.stem, "path": str(path)}
    for key, value in raw.items():
        if key in ("uplink", "downlink"):
            values[key] = _link_side(path, key, value)
        elif key in _TOP_FLOATS:
            values[key] = _number(path, "", key, value, float)
        elif key in _TOP_INTS:
            values[key] = _number(path, "", key, value, int)
        elif key in _TOP_STRS:
            if not isinstance(value, str):
                raise _fail(path, f"'{key}' must be a string, not {value!r}")
            values["pass_file" if key == "pass" else key] = value
        else:
            allowed = sorted((*_TOP_FLOATS, *_TOP_INTS, *_TOP_STRS, "uplink", "downlink"))
            raise _fail(path, f"unknown key {key!r} (allowed: {', '.join(allowed)})")
    if "pass_file" not in values:
        raise _fail(path, "missing key 'pass' (the pass configuration of the window)")
    scenario = Scenario(**values)
    checks = [
        (scenario.frames >= 2, f"frames={scenario.frames} must be at least 2"),
        (scenario.offset_s >= 0, f"offset_s={scenario.offset_s} must not be negative"),
        (scenario.rate_scale > 0, f"rate_scale={scenario.rate_scale} must be positive"),
        (scenario.time_scale >= 1, f"time_scale={scenario.time_scale} must be >= 1"),
        (scenario.extra_background_cps >= 0,
         f"extra_background_cps={scenario.extra_background_cps} must not be negative"),
        (abs(scenario.satellite_ppm) <= MAX_OSCILLATOR_PPM,
         f"satellite_ppm={scenario.satellite_ppm} is beyond +-{MAX_OSCILLATOR_PPM:g} ppm"),
        (scenario.range_rate_m_s is None or abs(scenario.range_rate_m_s) <= MAX_RANGE_RATE_M_S,
         f"range_rate_m_s={scenario.range_rate_m_s} is beyond +-{MAX_RANGE_RATE_M_S:g} m/s"),
        (0 < scenario.cdr_pull_in_ppm <= 10_000,
         f"cdr_pull_in_ppm={scenario.cdr_pull_in_ppm} must be in (0, 10000]"),
        (scenario.memory in MEMORIES,
         f"memory={scenario.memory!r} must be one of {', '.join(map(repr, MEMORIES))}"),
    ]
    for ok, message in checks:
        if not ok:
            raise _fail(path, message)
    return scenario


def scenario_params(scenario: Scenario, params: E2eParams | None = None) -> E2eParams:
    """The top's parameters for ``scenario`` (``params``, default :class:`E2eParams`, with the
    scenario's memories). ``memory = "flight"``: the DRAM-backed RND cache and record store of
    the FPGA tops at their sizes, on the behavioural DRAM port model (``E2eParams.memory``);
    the sift-message sender's window holds the messages built while an uplink outage of
    :data:`UPLINK_BURST_S` and the cache life keep the acknowledgements away (the e2e's sync
    frame is 32 times shorter than the flight frame period, so many more messages wait), its
    ring 16 words per message (a header, a sequence word, a CRC, ~100 entries 8 per word)."""
    params = params or E2eParams()
    if scenario.memory != "flight":
        return params
    sizes = flight_pass_sizes()
    waiting = (UPLINK_BURST_S * sizes.pulse_rate_hz + sizes.cache_pulses) / FRAME_PULSES
    window = 1 << math.ceil(waiting).bit_length()
    return replace(params, memory="dram", cache_rows=sizes.cache_pulses // params.lanes,
                   record_depth=sizes.store_records, sender_window=window,
                   sender_depth=16 * window)


def pass_path(scenario: Scenario) -> Path:
    path = Path(scenario.pass_file)
    return path if path.is_absolute() else ROOT / path


@dataclass(frozen=True)
class Window:
    """The channel of a scenario's window, as the pass model gives it (before compression)."""

    range_m: float
    range_rate_m_s: float
    elevation_deg: float
    eta: float
    dark_cps: float
    background_cps: float
    dead_time_ps: float
    polarization_error: float
    station: str


def pass_window(scenario: Scenario) -> Window:
    try:
        config = load_pass(pass_path(scenario))
        slices = config_slices(config)
    except PassConfigError as exc:
        raise ScenarioError(f"{scenario.path}: pass: {exc}") from None
    edges_s = slices.edges / config.source.pulse_rate_hz
    if not scenario.offset_s < edges_s[-1]:
        raise ScenarioError(f"{scenario.path}: offset_s={scenario.offset_s} is beyond the "
                            f"{edges_s[-1]:.0f} s of data collection")
    i = int(np.searchsorted(edges_s, scenario.offset_s, side="right")) - 1
    det = config.detector
    rate = slices.track.range_rate_m_s[i] if scenario.range_rate_m_s is None \
        else scenario.range_rate_m_s
    return Window(
        range_m=float(slices.track.range_m[i]),
        range_rate_m_s=float(rate),
        elevation_deg=float(slices.track.elevation_deg[i]),
        eta=float(slices.eta[i]),
        dark_cps=det.dark_cps,
        background_cps=det.background_cps + float(slices.extra_background_cps[i])
        + scenario.extra_background_cps,
        dead_time_ps=det.dead_time_ns * 1e3,
        polarization_error=det.pol_error,
        station=config.station.name,
    )


def stimulus_config(scenario: Scenario, window: Window, frames: int, qrng_seed: int
                    ) -> StimulusConfig:
    transmittance = window.eta * scenario.rate_scale
    if not 0 < transmittance <= 1:
        raise ScenarioError(f"{scenario.path}: rate_scale={scenario.rate_scale} makes the "
                            f"transmittance {transmittance:.3g} (must be in (0, 1])")
    try:
        return StimulusConfig(
            qrng_seed=qrng_seed, noise_seed=scenario.seed, first_frame=0, frames=frames,
            range_m=linear_range(window.range_m, window.range_rate_m_s),
            clock_ppm=scenario.clock_ppm, clock_offset_ps=scenario.clock_offset_ps,
            transmittance=transmittance, dark_cps=window.dark_cps * scenario.rate_scale,
            background_cps=window.background_cps * scenario.rate_scale,
            dead_time_ps=window.dead_time_ps, polarization_error=window.polarization_error)
    except StimulusError as exc:
        raise ScenarioError(f"{scenario.path}: {exc}") from None


def line_channels(scenario: Scenario, window: Window, cycles: int) -> dict[str, dict]:
    """The bit channel of each direction (``"up"``, ``"dn"``) over a run of ``cycles``: the
    light time in cycles (range / c, compressed by ``time_scale``) and the faults by line bit
    index (:func:`models.link.channel.line_faults`, seeded from the scenario)."""
    latency = window.range_m / SPEED_OF_LIGHT / scenario.time_scale
    bits_per_cycle = BLOCK_BITS / LINE_CYCLES
    bits = int(cycles * bits_per_cycle) + BLOCK_BITS
    out = {}
    for k, (d, side) in enumerate((("up", scenario.uplink), ("dn", scenario.downlink))):
        seed = scenario.seed * 2 + k
        bursts = tuple((int(start / CYCLE_S * bits_per_cycle),
                        max(1, int(length / CYCLE_S * bits_per_cycle)))
                       for start, length in side.bursts)
        faults = line_faults(bits, seed, ber=side.ber, fade_rate=side.loss / LOSS_COPY_BITS,
                             fade_bits=FADE_BLOCKS * BLOCK_BITS, bursts=bursts,
                             slip_rate=side.slip_rate)
        out[d] = {"latency_cycles": round(latency / CYCLE_S),
                  # loss of signal (the clock recovery sees no light): (first bit, bits)
                  "dark": [list(b) for b in bursts],
                  "faults": {"flips": list(faults.flips),
                             "bursts": [list(b) for b in faults.bursts],
                             "slips": [list(s) for s in faults.slips], "seed": faults.seed}}
    return out


def build_stimulus(scenario: Scenario, frames: int, qrng_seed: int, delta: int | None = None
                   ) -> dict[str, Any]:
    """The analog arrivals of a window of ``frames`` at the TDC inputs, the codes the delay
    lines sample from them, and what the golden models expect: raw hits, calibrated tags,
    joined sync tags and merged tags of the time tagger, then the detection records.

    ``delta`` is the indexer's sync-to-pulse delay; by default the calibrated value (the
    stimulus delay plus the peak of the detector response).
    """
    window = pass_window(scenario)
    cfg = stimulus_config(scenario, window, frames, qrng_seed)
    stim = generate(cfg)
    if delta is None:
        assert cfg.response is not None
        delta = round(cfg.delta_ps + cfg.response.mode_ps(cfg.sync_fwhm_ps))
    origin = float(ground_time_ps(cfg, np.zeros(1))[0])
    sync = stim.channel == CH_SYNC
    # The TDC's clock reads 0 at the first cycle after reset; the window's pulse 0 arrives
    # REPLAY_SLACK_CYCLES later, or later still so that every sync strobe comes after the
    # frame event it joins (the join opens its window at the event).
    lead = (sync_event_cycles(stim.frame[sync]) * CLOCK_PS - (stim.arrival[sync] - origin))
    slack = max(REPLAY_SLACK_CYCLES, int(np.ceil((lead.max() + JOIN_MARGIN_PS) / CLOCK_PS)))
    arrival = stim.arrival - origin + slack * CLOCK_PS
    last = int(np.ceil(arrival.max() / CLOCK_PS))
    cycles = last + DRAIN_FRAMES * FRAME_PULSES // LANES  # the TDC cycles of the window
    tdc, hits = tdc_stimulus(arrival, stim.channel, cycles)
    join = join_config(stim.frame[sync], arrival[sync])
    tagger = TaggerConfig(initial=cached_startup_tables(), join=join)
    frames_seen = np.arange(SYNC_FIRST_FRAME, frames + DRAIN_FRAMES + 1)
    events = sync_event_cycles(frames_seen)
    keep = events < cycles
    model = run_time_tagger_hits(hits, frames_seen[keep].tolist(), events[keep].tolist(),
                                 cycles, tagger)
    tags = model.tags
    records = run_indexer(tags.time, tags.channel, tags.frame, IndexerConfig(delta=delta))
    # The squasher (SPEC 4.3, rtl.ground.squash) lets a pulse go with the next accepted
    # detection, so the window's last pulse is still inside the ground FPGA when the window
    # ends; models.ground.squash, given a finished list, emits it. It belongs to the next window.
    dets = squash(records, SQUASH_SEED)[:-1]
    statuses = np.array([int(r.status) for r in records], dtype=np.int64)
    for k, cal in enumerate(model.calibrators):
        tdc[f"cal{k}_time"] = cal.time.astype(np.uint64)
    detector = tags.channel < CH_SYNC
    return {
        "arrival": arrival, "arrival_channel": stim.channel.astype(np.uint64),
        "end_cycle": cycles + CODE_DUE_CYCLES,
        "sync_time": model.join.time.astype(np.uint64),
        "sync_frame": model.join.frame.astype(np.uint64),
        "tag_time": tags.time.astype(np.uint64), "tag_channel": tags.channel.astype(np.uint64),
        "tag_frame": tags.frame.astype(np.uint64),
        "det_pulse": np.array([d.n for d in dets], dtype=np.uint64),
        "det_basis": np.array([d.basis for d in dets], dtype=np.uint8),
        "det_bit": np.array([d.bit for d in dets], dtype=np.uint8),
        "delta": delta,
        "record_status": {s.name.lower(): int(np.count_nonzero(statuses == s)) for s in Status},
        "signal_tags": int(np.count_nonzero(stim.signal)),
        "window": window,
        "pulses": frames * FRAME_PULSES,
        "join": join,
        "max_lag_ps": tagger.lags(),
        "tdc_counters": tagger_counters(model),
        "tdc_error_ps": tdc_errors(tags.time[detector], tags.channel[detector], arrival,
                                   stim.channel),
        "sync_error_ps": tdc_errors(model.join.time, np.full(len(model.join.time), CH_SYNC),
                                    arrival, stim.channel),
        **tdc,
    }


def cached_startup_tables() -> tuple[tuple[int, ...], ...]:
    """:func:`rtl.e2e.top.startup_tables` (seconds of code-density simulation per channel),
    kept in ``build/cache`` under a digest of the model sources that make them."""
    digest = hashlib.sha256(b"".join(
        (ROOT / "models" / name).read_bytes() for name in TABLE_SOURCES)).hexdigest()[:16]
    path = ROOT / "build" / "cache" / f"tdc_startup_tables_{digest}.npy"
    if path.exists():
        return tuple(tuple(int(x) for x in row) for row in np.load(path))
    tables = startup_tables()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.npy")
    np.save(partial, np.array(tables, dtype=np.int64))
    partial.replace(path)
    return tables


def sync_event_cycles(frame: np.ndarray) -> np.ndarray:
    """TDC cycle at which the sync detector's event of frame ``frame`` reaches the time tagger:
    the downlink bit stream runs at one bit per cycle from the satellite framer, so frame
    ``k``'s event comes a fixed :data:`SYNC_EVENT_CYCLE` after ``k * FRAME_BITS`` (the same in
    every scenario: the downlink bits are the framer's; the sync scoreboard checks each
    event's cycle)."""
    return SYNC_EVENT_CYCLE + np.asarray(frame, dtype=np.int64) * FRAME_BITS


def join_config(frame: np.ndarray, arrival: np.ndarray) -> JoinConfig:
    """The join's registers for this window: ``offset_ps`` the middle and ``tolerance_ps``
    half the spread (plus :data:`JOIN_MARGIN_PS`) of the strobe's arrival minus its event's
    stamp over the window. In hardware that latency is fixed; here the strobes follow the
    pass's Doppler and the events the simulated clock (docs/e2e.md)."""
    seen = frame >= SYNC_FIRST_FRAME
    lead = arrival[seen] - sync_event_cycles(frame[seen]) * CLOCK_PS
    low, high = float(lead.min()), float(lead.max())
    return JoinConfig(offset_ps=round((low + high) / 2),
                      tolerance_ps=int(np.ceil((high - low) / 2)) + JOIN_MARGIN_PS)


def tagger_counters(model: TaggerResult) -> dict[str, list[int] | int]:
    """The time tagger's counters as the model gives them (names of the RTL's ports)."""
    out: dict[str, list[int] | int] = {}
    for name in CHANNEL_COUNTERS:
        out[name] = [int(getattr(h, name)) if hasattr(h, name) else 0 for h in model.channels]
    for name in CALIBRATOR_COUNTERS:
        out[name] = [int(getattr(c, name)) for c in model.calibrators]
    for ours, theirs in MERGE_COUNTERS.items():
        out[ours] = [int(x) for x in getattr(model.tags, theirs)]
    for ours, theirs in JOIN_COUNTERS.items():
        out[ours] = int(getattr(model.join, theirs))
    return out


def tdc_stimulus(arrival: np.ndarray, channel: np.ndarray, cycles: int,
                 cfg: ChannelConfig | None = None
                 ) -> tuple[dict[str, np.ndarray], list[ChannelResult]]:
    """What the TDC channels sample and what their model makes of it over ``cycles`` cycles,
    per channel ``k``: ``code<k>_cycle`` / ``code<k>_due`` (the cycles whose sampled code is
    not zero, and the replay cycle each is due at), ``code<k>`` (the codes, packed bytes),
    ``raw<k>_coarse`` / ``raw<k>_fine`` / ``raw<k>_calibration`` / ``raw<k>_cycle`` (the
    model's raw hits and their sampling cycles); and the channel model's results.
    ``arrival``: analog times at the detector outputs on the TDC's clock (cycle c's sampling
    edge at c * FABRIC_CLOCK_PS); each channel's line input is its detector behind the
    calibration mux (:func:`models.ground.tdc.channel_input`; the sync strobe's behind its
    strobe guard, :func:`models.ground.strobe_guard.guarded_input`)."""
    cfg = cfg or ChannelConfig()
    out: dict[str, np.ndarray] = {}
    results = []
    for k in range(TDC_CHANNELS):
        rises = np.sort(arrival[channel == k])
        # calibration slots from the first one the replays can deliver in time (the
        # testbench loads its first batches a few cycles after the power-on reset)
        span = (REPLAY_SLACK_CYCLES, cycles - REPLAY_SLACK_CYCLES)
        skipped = None
        if k == CH_SYNC:  # the sync strobe's mux is guarded (models.ground.strobe_guard)
            sync = guarded_input(rises, default_pulses(rises), *span, tdc_line(k),
                                 cfg.cal_period, channel=k)
            rows, codes, skipped = sync.cycle, sync.codes, sync.guard.skipped
        else:
            line_input = channel_input(rises, default_pulses(rises), *span, cfg.cal_period,
                                       channel=k)
            rows, codes = tdc_line(k).sparse_codes(*line_input, cycles)
        hits = run_channel(codes, replace(cfg, channel=k), rows, cycles, skipped)
        results.append(hits)
        cycle, code = replay_codes(rows, codes, cycles)
        out.update({
            f"code{k}_cycle": cycle, f"code{k}_due": cycle + CODE_DUE_CYCLES,
            f"code{k}": np.packbits(code, axis=1, bitorder="little"),
            f"raw{k}_coarse": hits.coarse, f"raw{k}_fine": hits.fine.astype(np.uint64),
            f"raw{k}_calibration": hits.calibration.astype(np.uint64),
            f"raw{k}_cycle": hits.cycle,
        })
    return out, results


def replay_codes(rows: np.ndarray, codes: np.ndarray, cycles: int
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Run-length coded codes (:meth:`models.ground.tdc.DelayLine.sparse_codes`: row ``i``
    holds from cycle ``rows[i]`` to ``rows[i + 1]``) as one code per cycle, only the cycles
    whose code is not zero (the replay presents zero in every other cycle)."""
    busy = np.flatnonzero(codes.any(axis=1))
    length = np.diff(np.append(rows, cycles))[busy]
    if np.any(length > 1 << 20):
        raise ScenarioError("a TDC line input stays high for more than 2**20 cycles")
    first = np.repeat(rows[busy] - np.cumsum(length) + length, length)
    cycle = first + np.arange(int(length.sum()))
    return cycle, codes[np.repeat(busy, length)]


def tdc_errors(time_ps: np.ndarray, channel: np.ndarray, arrival: np.ndarray,
               arrival_channel: np.ndarray) -> np.ndarray:
    """Error (ps) of each TDC tag against the analog arrival it measured: the nearest arrival
    on its channel (pulses on one channel are at least a dead time apart, far more than the
    error)."""
    out = np.full(len(time_ps), np.nan)
    for k in np.unique(channel).tolist():
        mine = np.flatnonzero(channel == k)
        ref = np.sort(arrival[arrival_channel == k])
        if not len(ref):
            continue
        t = time_ps[mine].astype(np.float64)
        i = np.clip(np.searchsorted(ref, t), 1, len(ref) - 1) if len(ref) > 1 else np.zeros(
            len(t), dtype=np.int64)
        before, after = t - ref[np.maximum(i - 1, 0)], t - ref[i]
        out[mine] = np.where(np.abs(before) < np.abs(after), before, after)
    return out
