"""Station and pass configurations (TOML, ``configs/``) with validation and one-line errors.

A pass file (``configs/passes/*.toml``) names its station; the station file
(``configs/stations/<station>.toml``) is looked up in the ``stations`` directory next to the
pass file's directory (``configs/passes/x.toml`` → ``configs/stations/``), then in the
repository's ``configs/stations``. Every table and key is checked: an unknown key, a wrong type,
probabilities that do not sum to 1, negative intensities, an unknown station or an impossible
pass raise :class:`PassConfigError` with one line naming the file and the problem. The keys and
their defaults are listed in ``docs/physics.md``.

Pass file::

    station = "jinan"                 # required: a file in configs/stations/
    date = "2022-09-25"
    max_elevation_deg = 34.1          # required unless [tle] is given
    duration_s = 300.0
    min_elevation_deg = 10.0
    step_s = 0.1                      # slice length of the channel model
    altitude_km = 500.0
    moon_in_view = false              # moonlit sky: + MOON_BACKGROUND_CPS for the whole pass
    moon_fov_s = [200.0, 209.0]       # optional: the moon in the telescope's field of view
    moon_fov_cps = 1500.0             #   (seconds from the window start) adds this background
    seed = 1                          # satellite QRNG seed (symbols, PA seeds)
    ground_seed = 2                   # ground RNG: sample seed, squash seed derived from it
    physics_seed = 3                  # photon statistics
    [tle]        line1, line2, start_utc ("2022-09-25T14:20:00Z"), span_s
    [source]     intensities = {s, d, v}, probabilities = {s, d, v}, p_z
    [link]       any field of models.channel.link_budget.LinkParams
    [detector]   any field of models.channel.events.DetectorParams
    [postprocess] packet_bits, sample_fraction, pa_block_bits, epsilon_sec, epsilon_cor, method,
                 ec_mode ("one-way", the default, or "interactive")
    [paper]      the Table 1 row (sifted_packets, qber_mean_pct, qber_min_pct, qber_max_pct,
                 final_key_bits), used by the calibration only
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.channel.events import ChannelError, DetectorParams, SourceParams
from models.channel.geometry import GeometryError
from models.channel.link_budget import LinkError, LinkParams
from models.symbols import MapperConfig

REPO_CONFIGS = Path(__file__).resolve().parents[2] / "configs"
INTENSITY_KEYS = ("s", "d", "v")
# Per-detector background before the gate by site type (calibrated, docs/calibration.md);
# a station file may give its own background_cps.
ENVIRONMENT_BACKGROUND_CPS = {"urban": 100.0, "mountain": 126.0}
MOON_BACKGROUND_CPS = 160.0
PA_BLOCKS = tuple(range(100_000, 900_001, 100_000))
METHODS = ("chernoff", "lim2014")
# = models.postprocess.ec.EC_MODES (tested); not imported, so that reading a configuration does
# not load the compiled decoder
EC_MODES = ("one-way", "interactive")


class PassConfigError(ValueError):
    """An invalid station or pass configuration (one line: file and problem)."""


@dataclass(frozen=True)
class Station:
    name: str
    latitude_deg: float
    longitude_deg: float
    height_m: float = 0.0
    environment: str = "urban"
    zenith_transmission: float = 0.85
    background_cps: float | None = None


@dataclass(frozen=True)
class Tle:
    line1: str
    line2: str
    start_utc: str
    span_s: float = 900.0

    def jd_start(self) -> float:
        t = dt.datetime.fromisoformat(self.start_utc.replace("Z", "+00:00"))
        if t.tzinfo is None:
            t = t.replace(tzinfo=dt.UTC)
        return 2440587.5 + t.timestamp() / 86400.0


@dataclass(frozen=True)
class PostConfig:
    packet_bits: int = 100_000
    sample_fraction: float = 0.1
    pa_block_bits: int = 500_000
    epsilon_sec: float = 1e-10
    epsilon_cor: float = 1e-15
    method: str = "chernoff"
    ec_mode: str = "one-way"  # error correction, SPEC 7: "one-way" (default) or "interactive"

    @property
    def sample_below(self) -> int:
        return round(self.sample_fraction * (1 << 16))


@dataclass(frozen=True)
class PassConfig:
    station: Station
    date: str = ""
    max_elevation_deg: float | None = None
    duration_s: float = 300.0
    min_elevation_deg: float = 10.0
    step_s: float = 0.1
    altitude_km: float = 500.0
    moon_in_view: bool = False
    moon_fov_s: tuple[float, float] | None = None
    moon_fov_cps: float = 0.0
    seed: int = 1
    ground_seed: int = 2
    physics_seed: int = 3
    tle: Tle | None = None
    source: SourceParams = field(default_factory=SourceParams)
    link: LinkParams = field(default_factory=LinkParams)
    detector: DetectorParams = field(default_factory=DetectorParams)
    post: PostConfig = field(default_factory=PostConfig)
    paper: dict[str, float] = field(default_factory=dict)
    path: str = ""

    @property
    def label(self) -> str:
        return f"{self.station.name} {self.date}".strip()


def _fail(where: str, message: str) -> PassConfigError:
    return PassConfigError(f"{where}: {message}")


def _take(table: dict[str, Any], allowed: dict[str, type | tuple[type, ...]], where: str,
          section: str) -> dict[str, Any]:
    """Check keys and value types of one table; ints are accepted for floats."""
    out = {}
    for key, value in table.items():
        if key not in allowed:
            raise _fail(where, f"unknown key {key!r} in {section} (allowed: "
                        f"{', '.join(sorted(allowed))})")
        kind = allowed[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if float in kinds and isinstance(value, int) and not isinstance(value, bool):
            if abs(value) > sys.float_info.max:
                raise _fail(where, f"{section} key '{key}' is out of range: {value!r}")
            value = float(value)
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            names = "/".join(k.__name__ for k in kinds)
            raise _fail(where, f"{section} key '{key}' must be {names}, not {value!r}")
        if isinstance(value, float) and not math.isfinite(value):
            raise _fail(where, f"{section} key '{key}' must be finite, not {value!r}")
        out[key] = value
    return out


def _fields(cls: type) -> dict[str, type | tuple[type, ...]]:
    kinds: dict[str, type | tuple[type, ...]] = {}
    for f in dataclasses.fields(cls):
        text = str(f.type)
        kinds[f.name] = (bool if text == "bool" else int if text == "int" else
                         str if text == "str" else float)
    return kinds


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise PassConfigError(f"{path}: no such configuration file") from None
    except tomllib.TOMLDecodeError as exc:
        raise PassConfigError(f"{path}: not valid TOML ({exc})") from None
    except UnicodeDecodeError:
        raise PassConfigError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise PassConfigError(f"{path}: cannot read ({exc.strerror})") from None


def station_dirs(pass_path: Path) -> list[Path]:
    return [pass_path.resolve().parent.parent / "stations", REPO_CONFIGS / "stations"]


def known_stations(dirs: list[Path]) -> list[str]:
    return sorted({p.stem for d in dirs if d.is_dir() for p in d.glob("*.toml")})


def load_station(name: str, dirs: list[Path]) -> Station:
    """The station file ``<name>.toml`` from the first directory of ``dirs`` that has it."""
    for d in dirs:
        path = d / f"{name.lower()}.toml"
        if path.is_file():
            break
    else:
        raise PassConfigError(f"unknown station {name!r} (known: "
                              f"{', '.join(known_stations(dirs)) or 'none'})")
    where = str(path)
    values = _take(_read_toml(path), _fields(Station) | {"background_cps": float}, where,
                   "the station file")
    for key in ("name", "latitude_deg", "longitude_deg"):
        if key not in values:
            raise _fail(where, f"missing key '{key}'")
    station = Station(**values)
    if not -90 <= station.latitude_deg <= 90 or not -180 <= station.longitude_deg <= 360:
        raise _fail(where, "latitude/longitude out of range")
    if station.environment not in ENVIRONMENT_BACKGROUND_CPS:
        raise _fail(where, f"unknown environment '{station.environment}' (known: "
                    f"{', '.join(ENVIRONMENT_BACKGROUND_CPS)})")
    if station.background_cps is not None and station.background_cps < 0:
        raise _fail(where, f"background_cps={station.background_cps} is negative")
    return station


def _intensity_table(value: Any, where: str, name: str) -> tuple[float, float, float]:
    if not isinstance(value, dict) or sorted(value) != sorted(INTENSITY_KEYS):
        raise _fail(where, f"[source] {name} must be a table with keys s, d, v")
    out = []
    for k in INTENSITY_KEYS:
        v = value[k]
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise _fail(where, f"[source] {name}.{k} must be a number, not {v!r}")
        out.append(float(v))
    return out[0], out[1], out[2]


def _source(table: dict[str, Any], where: str) -> SourceParams:
    values = _take(table, {"intensities": dict, "probabilities": dict, "p_z": float,
                           "pulse_rate_hz": float}, where, "[source]")
    mu = _intensity_table(values.get("intensities", {"s": 0.8, "d": 0.1, "v": 0.001}), where,
                          "intensities")
    probs = _intensity_table(values.get("probabilities", {"s": 0.5, "d": 0.25, "v": 0.25}),
                             where, "probabilities")
    p_z = values.get("p_z", 0.5)
    if min(mu) < 0:
        raise _fail(where, f"negative intensity in {dict(zip(INTENSITY_KEYS, mu, strict=True))}")
    if not mu[0] > mu[1] > mu[2]:
        raise _fail(where, "intensities must satisfy signal > decoy > vacuum (decoy-state bounds)")
    if mu[1] + mu[2] >= mu[0]:
        raise _fail(where, "intensities must satisfy decoy + vacuum < signal (Lim et al. 2014)")
    if min(probs) < 0 or abs(sum(probs) - 1) > 1e-9:
        raise _fail(where, f"intensity probabilities {probs} must be >= 0 and sum to 1 "
                    f"(sum is {sum(probs):.6g})")
    for p in (*probs, p_z):
        if not 0 <= p <= 1 or abs(p * 256 - round(p * 256)) > 1e-9:
            raise _fail(where, f"probability {p} is not a multiple of 1/256 in [0, 1] "
                        "(8-bit symbol mapper)")
    mapper = MapperConfig.from_probabilities(probs[0], probs[1], p_z)
    return SourceParams(intensities=mu, mapper=mapper,
                        pulse_rate_hz=values.get("pulse_rate_hz", 625e6))


def _post(table: dict[str, Any], where: str) -> PostConfig:
    post = PostConfig(**_take(table, _fields(PostConfig), where, "[postprocess]"))
    if post.packet_bits < 1000:
        raise _fail(where, f"packet_bits={post.packet_bits} is below 1000")
    if not 0 < post.sample_fraction < 1:
        raise _fail(where, f"sample_fraction={post.sample_fraction} is outside (0, 1)")
    if post.pa_block_bits % post.packet_bits or post.pa_block_bits <= 0:
        raise _fail(where, f"pa_block_bits={post.pa_block_bits} is not a positive multiple of "
                    f"packet_bits={post.packet_bits}")
    if post.packet_bits == 100_000 and post.pa_block_bits not in PA_BLOCKS:
        raise _fail(where, f"pa_block_bits={post.pa_block_bits} is not one of 100 .. 900 kbit "
                    "in steps of 100 kbit")
    for name in ("epsilon_sec", "epsilon_cor"):
        if not 0 < getattr(post, name) < 1:
            raise _fail(where, f"{name}={getattr(post, name)} is outside (0, 1)")
    if post.method not in METHODS:
        raise _fail(where, f"method {post.method!r} is not one of {', '.join(METHODS)}")
    if post.ec_mode not in EC_MODES:
        raise _fail(where, f"ec_mode {post.ec_mode!r} is not one of {', '.join(EC_MODES)}")
    return post


TOP_KEYS: dict[str, type | tuple[type, ...]] = {
    "station": str, "date": str, "max_elevation_deg": float, "duration_s": float,
    "min_elevation_deg": float, "step_s": float, "altitude_km": float, "moon_in_view": bool,
    "moon_fov_s": list, "moon_fov_cps": float,
    "seed": int, "ground_seed": int, "physics_seed": int, "tle": dict, "source": dict,
    "link": dict, "detector": dict, "postprocess": dict, "paper": dict,
}


def load_pass(path: str | Path) -> PassConfig:
    """Read and validate a pass configuration; raise :class:`PassConfigError` on any problem."""
    path = Path(path)
    where = str(path)
    raw = _take(_read_toml(path), TOP_KEYS, where, "the pass file")
    if "station" not in raw:
        raise _fail(where, "missing key 'station'")
    station = load_station(raw["station"], station_dirs(path))
    tle = None
    if "tle" in raw:
        tle_values = _take(raw["tle"], _fields(Tle), where, "[tle]")
        try:
            tle = Tle(**tle_values)
            tle.jd_start()
        except (TypeError, ValueError) as exc:
            raise _fail(where, f"[tle] needs line1, line2 and an ISO start_utc ({exc})") from None
    elif "max_elevation_deg" not in raw:
        raise _fail(where, "missing key 'max_elevation_deg' (or a [tle] table)")
    top = {k: v for k, v in raw.items() if not isinstance(v, dict) and k != "station"}
    if "moon_fov_s" in top:
        window = top["moon_fov_s"]
        if (len(window) != 2 or not all(isinstance(x, int | float) and not isinstance(x, bool)
                                         for x in window) or not 0 <= window[0] < window[1]):
            raise _fail(where, f"moon_fov_s={window} must be [start, end] seconds, "
                        "0 <= start < end")
        top["moon_fov_s"] = (float(window[0]), float(window[1]))
    if top.get("moon_fov_cps", 0.0) < 0:
        raise _fail(where, f"moon_fov_cps={top['moon_fov_cps']} is negative")
    if "altitude_km" in top and not 100 <= top["altitude_km"] <= 2000:
        raise _fail(where, f"altitude_km={top['altitude_km']} is outside 100..2000")
    for key in ("seed", "ground_seed", "physics_seed"):
        if key in top and not 0 <= top[key] < 1 << 64:
            raise _fail(where, f"{key}={top[key]} is outside 0 .. 2**64-1")
    try:
        link_values = _take(raw.get("link", {}), _fields(LinkParams), where, "[link]")
        link_values.setdefault("zenith_transmission", station.zenith_transmission)
        link = LinkParams(**link_values)
        det_values = _take(raw.get("detector", {}), _fields(DetectorParams), where,
                           "[detector]")
        if "background_cps" not in det_values:
            background = (station.background_cps if station.background_cps is not None
                          else ENVIRONMENT_BACKGROUND_CPS[station.environment])
            det_values["background_cps"] = background + (
                MOON_BACKGROUND_CPS if top.get("moon_in_view") else 0.0)
        detector = DetectorParams(**det_values)
        config = PassConfig(station=station, tle=tle, source=_source(raw.get("source", {}), where),
                            link=link, detector=detector,
                            post=_post(raw.get("postprocess", {}), where),
                            paper=_take(raw.get("paper", {}), dict.fromkeys(
                                ("sifted_packets", "qber_mean_pct", "qber_min_pct",
                                 "qber_max_pct", "final_key_bits"), float), where, "[paper]"),
                            path=where, **top)
    except (ChannelError, LinkError, GeometryError) as exc:
        raise _fail(where, str(exc)) from None
    if config.max_elevation_deg is not None and not (
            config.min_elevation_deg <= config.max_elevation_deg <= 90):
        raise _fail(where, f"max_elevation_deg={config.max_elevation_deg} is outside "
                    f"min_elevation_deg={config.min_elevation_deg} .. 90")
    if not 0 < config.duration_s <= 3600 or not 0 < config.step_s <= config.duration_s:
        raise _fail(where, f"duration_s={config.duration_s} / step_s={config.step_s}: need "
                    "0 < step_s <= duration_s <= 3600")
    return config
