"""Campaign files (``configs/campaign/*.toml``).

Format (every key optional; unknown keys are errors)::

    name = "faults-1000"
    runs = 1000                 # randomised window runs
    seed = 1                    # master seed: run i draws everything from (seed, i)
    passes = ["jinan-2022-09-25", ...]   # configs/passes stems (default: all)
    window_s = [6.0, 12.0]      # window length range (s of the pass)
    packet_bits = 20000         # sifted-key packet length of the window runs
    block_packets = [4, 6]      # packets per privacy-amplification block (range)
    [faults]                    # upper limits of the drawn fault mix (sim.campaign.faults)
    loss = 0.3  burst_rate_hz = 2.0  burst_s = 0.1  ber = 1e-5  duplicate = 0.2
    truncate = 0.1  reorder_s = 0.02  message = 0.05  cache_flip = 0.5  key_flip = 0.5
    [scenarios]                 # make sim scenarios with random seeds (fewer, longer runs)
    runs = 0  files = ["nominal", "cloud-bursts"]  frames = 64  simulator = "verilator"
    [dask]
    workers = 2  threads_per_worker = 1  scheduler = ""   # "tcp://host:8786": existing cluster
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from models.channel.config import REPO_CONFIGS
from sim.campaign.faults import FaultLimits
from sim.campaign.runs import WindowPlan

SCENARIO_DIR = REPO_CONFIGS / "scenarios"
SIMULATORS = ("verilator", "icarus")
PROBABILITIES = ("loss", "ber", "duplicate", "truncate", "message", "cache_flip", "key_flip")


class CampaignConfigError(ValueError):
    """A campaign file or option that cannot be run (one line: file and problem)."""


@dataclass(frozen=True)
class CampaignConfig:
    name: str
    path: str
    runs: int
    seed: int
    window: WindowPlan
    scenario_runs: int
    scenario_files: tuple[str, ...]
    scenario_frames: int
    simulator: str
    workers: int
    threads_per_worker: int
    scheduler: str


def _fail(path: Path, message: str) -> CampaignConfigError:
    return CampaignConfigError(f"{path}: {message}")


def _check_keys(path: Path, table: dict[str, Any], allowed: set[str], section: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise _fail(path, f"unknown key {unknown[0]!r} in {section} (allowed: "
                          f"{', '.join(sorted(allowed))})")


def _int(path: Path, where: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _fail(path, f"{where} must be an integer in {low}..{high}, not {value!r}")
    return value


def _float(path: Path, where: str, value: Any, low: float, high: float) -> float:
    if (isinstance(value, bool) or not isinstance(value, int | float)
            or not low <= value <= high or not math.isfinite(value)):
        raise _fail(path, f"{where} must be a number in {low:g}..{high:g}, not {value!r}")
    return float(value)


def _range(path: Path, where: str, value: Any, convert: Any, low: float, high: float
           ) -> tuple[Any, Any]:
    if not isinstance(value, list) or len(value) != 2:
        raise _fail(path, f"{where} must be [low, high], not {value!r}")
    a, b = (convert(path, where, v, low, high) for v in value)
    if a > b:
        raise _fail(path, f"{where} = {value!r}: low is above high")
    return a, b


def _names(path: Path, where: str, value: Any, directory: Path) -> tuple[str, ...]:
    known = sorted(p.stem for p in directory.glob("*.toml"))
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise _fail(path, f"{where} must be a non-empty list of names, not {value!r}")
    for name in value:
        if name not in known:
            raise _fail(path, f"{where}: unknown name {name!r} (known: {', '.join(known)})")
    return tuple(value)


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CampaignConfigError(f"{path}: no such campaign file") from None
    except OSError as exc:
        raise CampaignConfigError(f"{path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise CampaignConfigError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise CampaignConfigError(f"{path}: not valid TOML ({exc})") from None


def _table(path: Path, top: dict[str, Any], key: str) -> dict[str, Any]:
    value = top.get(key, {})
    if not isinstance(value, dict):
        raise _fail(path, f"[{key}] must be a table")
    return value


def _limits(path: Path, table: dict[str, Any]) -> FaultLimits:
    names = {f.name for f in fields(FaultLimits)}
    _check_keys(path, table, names, "[faults]")
    tops = {"burst_rate_hz": 100.0, "burst_s": 10.0, "reorder_s": 10.0}
    return FaultLimits(**{k: _float(path, f"faults.{k}", v, 0.0, tops.get(k, 1.0))
                          for k, v in table.items()})


def load_campaign(path: str | Path) -> CampaignConfig:
    """Read and validate a campaign file; raise :class:`CampaignConfigError` on any problem."""
    path = Path(path)
    top = _read(path)
    _check_keys(path, top, {"name", "runs", "seed", "passes", "window_s", "packet_bits",
                            "block_packets", "faults", "scenarios", "dask"}, "the top level")
    faults, scen, dask = (_table(path, top, k) for k in ("faults", "scenarios", "dask"))
    _check_keys(path, scen, {"runs", "files", "frames", "simulator"}, "[scenarios]")
    _check_keys(path, dask, {"workers", "threads_per_worker", "scheduler"}, "[dask]")
    name = top.get("name", path.stem)
    if not isinstance(name, str):
        raise _fail(path, f"name must be a string, not {name!r}")
    passes = (_names(path, "passes", top["passes"], REPO_CONFIGS / "passes") if "passes" in top
              else tuple(sorted(p.stem for p in (REPO_CONFIGS / "passes").glob("*.toml"))))
    window = WindowPlan(
        passes=passes,
        window_s=_range(path, "window_s", top.get("window_s", [6.0, 12.0]), _float, 0.1,
                        600.0),
        packet_bits=_int(path, "packet_bits", top.get("packet_bits", 20_000), 1000, 1_000_000),
        block_packets=_range(path, "block_packets", top.get("block_packets", [4, 6]), _int, 1,
                             100),
        limits=_limits(path, faults))
    scheduler = dask.get("scheduler", "")
    if not isinstance(scheduler, str):
        raise _fail(path, f"dask.scheduler must be an address string, not {scheduler!r}")
    simulator = scen.get("simulator", "verilator")
    if simulator not in SIMULATORS:
        raise _fail(path, f"scenarios.simulator must be one of {', '.join(SIMULATORS)}, "
                          f"not {simulator!r}")
    return CampaignConfig(
        name=name, path=str(path),
        runs=_int(path, "runs", top.get("runs", 100), 0, 10_000_000),
        seed=_int(path, "seed", top.get("seed", 1), 0, (1 << 63) - 1),
        window=window,
        scenario_runs=_int(path, "scenarios.runs", scen.get("runs", 0), 0, 10_000),
        scenario_files=_names(path, "scenarios.files", scen.get("files", ["nominal"]),
                              SCENARIO_DIR),
        scenario_frames=_int(path, "scenarios.frames", scen.get("frames", 64), 2, 1 << 20),
        simulator=simulator,
        workers=_int(path, "dask.workers", dask.get("workers", 2), 1, 1024),
        threads_per_worker=_int(path, "dask.threads_per_worker",
                                dask.get("threads_per_worker", 1), 1, 64),
        scheduler=scheduler)
