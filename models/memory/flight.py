"""Flight sizes of the satellite's RND cache and the ground's record store, from a pass.

The sizes follow from four things: the pass's longest light time (its largest range), the frame
period ``P`` of the uplink reports, the detection rate (the pass's link budget, and the design
target :data:`DESIGN_DETECTION_RATE`) and the downlink outage the store has to ride through.
All times below are on the satellite's pulse clock (``f`` = 625 MHz); ``L`` is the longest
one-way light time of the pass, ``c_up`` one uplink copy of a frame, ``c_down`` one sift
message. The protocol is ``models.sifting.classical_link`` (``docs/sifting.md``).

RND cache (pulses, :attr:`FlightSizes.cache_pulses`)
    Frame ``j`` holds pulses ``[jP, (j+1)P)``; the ground closes it ``L`` after its last pulse,
    may finish a copy of the previous frame first (``c_up``), sends it (``c_up``), and it flies
    ``L`` back: the satellite looks up its first pulse ``P + 2L + 2 c_up`` after sending it
    (:attr:`FlightSizes.round_trip_pulses`, the lossless round trip; a cache life below it
    drops every frame). The ground repeats the frame until the next one closes, so the last
    copy is looked up ``2P + 2L + c_up`` after the pulse (:attr:`FlightSizes.repeat_pulses`);
    the cache is the next power of two of that (a power of two of whole DRAM words: the ring's
    index is the pulse index's low bits).
Ground record store (records)
    A record is counted from its pulse until its frame's sift message is sifted on the ground
    (the ground frames it ``L`` after the pulse; the golden model frames it at the pulse, so
    counting from the pulse bounds both). Lossless: the copy above, the satellite's next
    sending turn (the model sends at period starts: up to ``P``), ``c_down`` and ``L`` down:
    ``2P + 2L + 2 c_up + c_down``. A lost frame (an uplink outage of any length) is declared
    missing on the satellite's clock once its head reaches ``(j+1)P + cache`` (sent at the next
    period start) and the "missing" message flies down: ``ceil((P + cache)/P) P + L +
    c_missing``. A downlink outage of ``B`` adds ``B`` plus the wait
    for the next resending turn (``P``). Records in a wait ``W`` at rate ``r``: the Poisson
    bound ``rW + 6 sqrt(rW)``, rounded up.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from models.channel.config import PassConfig
from models.channel.expect import expected_rates
from models.channel.passmodel import config_slices
from models.sifting.classical_link import (
    DOWNLINK_PAYLOAD_FRACTION,
    LINK_RATE_BPS,
    SPEED_OF_LIGHT,
    WORD_BITS,
    SiftConfig,
)
from models.sifting.messages import SIFT_HEADER_WORDS, UPLINK_HEADER_WORDS

#: The detection rate the design is sized for (docs/sifting.md: 7x the link budget at 500 km).
DESIGN_DETECTION_RATE = 1e6
#: A downlink outage the record store rides through (a cloud or a pointing loss).
DOWNLINK_BURST_S = 0.05
#: The uplink outage the flight-size tests run (frames lost, declared missing on expiry).
UPLINK_BURST_S = 0.05
#: Symbols per 128-bit DRAM word of the cache (4-bit symbols).
PULSES_PER_WORD = 32
#: Standard deviations above the mean of a Poisson count that a size covers.
POISSON_SIGMAS = 6


class FlightSizeError(ValueError):
    """A pass or protocol configuration the sizes cannot be derived for."""


class MemoryConfigError(ValueError):
    """A memory whose size cannot serve the link it is built for (refused at elaboration)."""


def check_cache_life(who: str, capacity: int, round_trip: int | None) -> None:
    """Refuse an RND cache of ``capacity`` pulses whose life is shorter than the link round
    trip (``round_trip`` pulses; None: not known to the caller): every lookup would be
    EXPIRED."""
    if round_trip is not None and capacity < round_trip:
        raise MemoryConfigError(f"{who}: cache life {capacity} pulses is shorter than the link "
                                f"round trip {round_trip} pulses")


def check_store_depth(who: str, depth: int, frame_records: int | None) -> None:
    """Refuse a record store of ``depth`` records that cannot hold one frame period's
    ``frame_records`` (None: not known to the caller): every frame would overflow it."""
    if frame_records is not None and depth < frame_records:
        raise MemoryConfigError(f"{who}: {depth} records cannot hold one frame period's "
                                f"{frame_records} records")


def poisson_bound(mean: float) -> int:
    """Count that a Poisson variable of ``mean`` stays below (``POISSON_SIGMAS`` sigma)."""
    return math.ceil(mean + POISSON_SIGMAS * math.sqrt(mean))


def uplink_copy_s(reports: int) -> float:
    """Seconds of one uplink copy of ``reports`` reports (header, one word each, CRC)."""
    return (UPLINK_HEADER_WORDS + reports + 1) * WORD_BITS / LINK_RATE_BPS


def sift_message_s(entries: int) -> float:
    """Seconds of one downlink sift message of ``entries`` entries (8 per word)."""
    words = SIFT_HEADER_WORDS + -(-entries // 8) + 1
    return words * WORD_BITS / (LINK_RATE_BPS * DOWNLINK_PAYLOAD_FRACTION)


@dataclass(frozen=True)
class StoreSize:
    """One case of the ground record store: the longest wait and the records it holds."""

    wait_s: float
    records_budget: int  # at the pass's peak link-budget rate
    records_design: int  # at DESIGN_DETECTION_RATE


@dataclass(frozen=True)
class FlightSizes:
    """The RND cache and record store a pass needs (see the module docstring)."""

    label: str
    pulse_rate_hz: float
    frame_pulses: int
    range_max_m: float
    light_time_s: float
    peak_rate: float  # detections/s at the pass's best slice (link budget, background included)
    frame_records: int  # design rate, Poisson bound: what the store must hold at least
    uplink_copy_s: float  # one copy of a frame at frame_records
    round_trip_pulses: int
    repeat_pulses: int
    cache_pulses: int
    lossless: StoreSize
    uplink_outage: StoreSize
    downlink_burst: StoreSize
    downlink_burst_s: float

    @property
    def cache_bits(self) -> int:
        return 4 * self.cache_pulses

    @property
    def cache_words(self) -> int:
        return self.cache_pulses // PULSES_PER_WORD

    @property
    def store_records(self) -> int:
        """The store's flight size: the worst case at the design rate."""
        return self.downlink_burst.records_design


def peak_detection_rate(config: PassConfig) -> float:
    """Detections per second (all intensities, background included) at the pass's best slice,
    from the link budget (the expected rates of :mod:`models.channel.expect`)."""
    slices = config_slices(config)
    rates = expected_rates(slices.eta, config.source, config.detector,
                           slices.extra_background_cps)
    return float(rates.detected.sum(axis=1).max() * config.source.pulse_rate_hz)


def flight_sizes(config: PassConfig, sift: SiftConfig | None = None, *,
                 design_rate: float = DESIGN_DETECTION_RATE,
                 downlink_burst_s: float = DOWNLINK_BURST_S) -> FlightSizes:
    """Cache and store sizes for ``config`` with the frame period of ``sift``."""
    sift = sift or SiftConfig(pulse_rate_hz=config.source.pulse_rate_hz)
    if not design_rate > 0 or downlink_burst_s < 0:
        raise FlightSizeError(f"design rate {design_rate}/s must be positive and downlink "
                              f"burst {downlink_burst_s} s not negative")
    f, p = sift.pulse_rate_hz, sift.frame_pulses
    slices = config_slices(config)
    range_max = float(np.max(slices.track.range_m))
    light = range_max / SPEED_OF_LIGHT
    peak = peak_detection_rate(config)
    frame_s = p / f
    frame_records = poisson_bound(design_rate * frame_s)
    copy = uplink_copy_s(frame_records)
    round_trip = math.ceil((frame_s + 2 * light + 2 * copy) * f)
    repeat = math.ceil((2 * frame_s + 2 * light + copy) * f)
    cache = max(1 << (repeat - 1).bit_length(), PULSES_PER_WORD)

    def store(wait: float) -> StoreSize:
        return StoreSize(wait, poisson_bound(peak * wait), poisson_bound(design_rate * wait))

    lossless = 2 * frame_s + 2 * light + 2 * copy + sift_message_s(frame_records)
    expiry = math.ceil((p + cache) / p) * frame_s + light + sift_message_s(0)
    worst = max(lossless, expiry) + downlink_burst_s + frame_s
    return FlightSizes(
        label=config.label, pulse_rate_hz=f, frame_pulses=p, range_max_m=range_max,
        light_time_s=light, peak_rate=peak, frame_records=frame_records, uplink_copy_s=copy,
        round_trip_pulses=round_trip, repeat_pulses=repeat, cache_pulses=cache,
        lossless=store(lossless), uplink_outage=store(expiry), downlink_burst=store(worst),
        downlink_burst_s=downlink_burst_s)


#: The pass the flight memories are sized for (the paper's Jinan pass, ``docs/memory.md``).
FLIGHT_PASS = "jinan-2022-09-25.toml"


@functools.cache
def flight_pass_sizes() -> FlightSizes:
    """:func:`flight_sizes` of :data:`FLIGHT_PASS`: what the FPGA tops build."""
    from models.channel.config import REPO_CONFIGS, load_pass
    return flight_sizes(load_pass(REPO_CONFIGS / "passes" / FLIGHT_PASS))


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms"


def _n(value: float) -> str:
    return f"{value:,.0f}"


def flight_table(s: FlightSizes) -> str:
    """The Markdown table of ``docs/memory.md`` for ``s``."""
    f = s.pulse_rate_hz
    rows = [
        ("largest range, light time L", f"{s.range_max_m / 1e3:,.1f} km, {_ms(s.light_time_s)}"),
        ("frame period P", f"{_n(s.frame_pulses)} pulses, {_ms(s.frame_pulses / f)}"),
        ("peak detection rate (link budget)", f"{_n(s.peak_rate)} /s"),
        ("records per frame at the design rate (bound)", _n(s.frame_records)),
        ("uplink copy of such a frame c_up", _ms(s.uplink_copy_s)),
        ("lossless round trip P + 2L + 2 c_up",
         f"{_n(s.round_trip_pulses)} pulses, {_ms(s.round_trip_pulses / f)}"),
        ("last repeat looked up, 2P + 2L + c_up",
         f"{_n(s.repeat_pulses)} pulses, {_ms(s.repeat_pulses / f)}"),
        ("**RND cache**", f"**{_n(s.cache_pulses)} pulses (2^{s.cache_pulses.bit_length() - 1}),"
         f" {_ms(s.cache_pulses / f)}, {s.cache_bits / 2**20:.0f} Mbit, "
         f"{_n(s.cache_words)} words**"),
    ]
    for name, size in (("store, lossless link", s.lossless),
                       ("store, uplink outage of any length (expiry)", s.uplink_outage),
                       (f"store, plus a {s.downlink_burst_s * 1e3:.0f} ms downlink outage",
                        s.downlink_burst)):
        rows.append((name, f"wait {_ms(size.wait_s)}: {_n(size.records_budget)} records "
                     f"(link budget), {_n(size.records_design)} (design rate)"))
    rows.append(("**record store**", f"**{_n(s.store_records)} records, "
                 f"{s.store_records * 128 / 2**20:.1f} Mbit of DRAM words**"))
    lines = [f"| {s.label} | |", "|---|---|"] + [f"| {a} | {b} |" for a, b in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``python -m models.memory.flight [pass.toml ...]``: the table of each pass."""
    import sys

    from models.channel.config import PassConfigError, load_pass
    for path in (sys.argv[1:] if argv is None else argv) or [
            "configs/passes/jinan-2022-09-25.toml"]:
        try:
            print(flight_table(flight_sizes(load_pass(path))))
        except (PassConfigError, FlightSizeError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
