"""The two kinds of campaign run; each returns one row of the campaign table.

**Window run** (:func:`window_run`, most of a campaign): a randomly drawn stretch of a Table 1
pass through the real chain with faults injected everywhere a fault can enter:

1. a pass configuration, a window of ``window_s`` seconds starting anywhere in its
   data collection, and fresh QRNG, sampling and physics seeds; the pass model's detections of
   the window (:func:`models.channel.events.generate_detections`, O(detections));
2. sifting on both sides through the lossy classical link in both directions
   (:func:`models.sifting.classical_link.run_sifting`) with a drawn fault mix (random and burst
   loss, bit errors, duplicates, truncated and reordered copies), and with one bit of one cached
   symbol flipped in the satellite's RND cache in some runs;
3. post-processing of the packets closed on both sides (:func:`models.postprocess.pipeline.distill`:
   error correction, verification, finite-key length, privacy amplification, confirmation), its
   authenticated messages tampered with, replayed or truncated at a drawn rate;
4. both final keys stored as key files with their integrity records, one bit of one of them
   flipped in some runs, and both read back.

Sampled counters: the lossy-link sifting counts the sampled (basis, intensity) detections and
errors of the whole window; each packet gets an equal share of them (a window is seconds long,
so its QBER barely changes inside it).

Checks per run (columns of the table): ``mismatched_keys_accepted`` (PA blocks confirmed on both
sides whose keys differ), ``unauthenticated_accepted`` (altered messages whose packet or block
was not abandoned as ``auth_failed``), ``key_flip_undetected`` (a corrupted key file read back
without error), ``unexplained`` (a dropped packet or abandoned block without a known reason),
``error`` (an exception: a crash).

**Scenario run** (:func:`scenario_run`): ``make sim``'s end-to-end co-simulation of a scenario
with a random seed, run as ``python -m sim.e2e`` in a subprocess (so a simulator failure cannot
take the worker down); the row takes its mismatches and counts from the run's summary JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from models.channel.config import REPO_CONFIGS, load_pass
from models.channel.events import generate_detections
from models.channel.passmodel import config_slices
from models.constants import pass_squash_seed
from models.postprocess.keyfile import KeyFileError, read_key, write_key
from models.postprocess.pipeline import DistillConfig, PacketPair, distill
from models.sifting.classical_link import SiftConfig, qrng_symbols, run_sifting
from sim.campaign.faults import (
    LINK_FAULTS,
    SYMBOL_FIELDS,
    FaultLimits,
    MessageFaults,
    draw_link_faults,
    flip_cached_symbol,
    flip_stored_bit,
    link_pair,
)

ROOT = Path(__file__).resolve().parents[2]
PACKET_REASONS = frozenset({"boundary_mismatch", "qber_too_high", "auth_failed",
                            "decode_failed", "verify_failed"})
BLOCK_REASONS = frozenset({"no_key", "auth_failed", "crc_mismatch"})
FRAME_PULSES = 1 << 25  # 54 ms frames: few Python steps per simulated second
CACHE_PULSES = 1 << 27
# Copies of each message per frame period (SiftConfig.max_repeats, default 8): fewer copies make
# lost frames (declared missing) common under 30 % loss, and cost less time.
MAX_REPEATS = (2, 4)
LINK_LATENCY_S = 2.0e-3
SCENARIO_TIMEOUT_S = 3600


@dataclass(frozen=True)
class WindowPlan:
    """Everything a campaign file fixes about its window runs."""

    passes: tuple[str, ...]
    window_s: tuple[float, float]
    packet_bits: int
    block_packets: tuple[int, int]
    limits: FaultLimits


@dataclass(frozen=True)
class ScenarioPlan:
    """A ``make sim`` scenario run: file, window in sync frames, seed, simulator."""

    scenario: str
    frames: int
    seed: int
    simulator: str = "verilator"


def _reasons(statuses: list[str]) -> str:
    """``reason:count`` pairs of the non-ok statuses, sorted (one table cell)."""
    counts = Counter(s for s in statuses if s != "ok")
    return ";".join(f"{k}:{v}" for k, v in sorted(counts.items()))


def _failure(row: dict[str, Any], start: float) -> dict[str, Any]:
    """Record the exception being handled as the run's crash (last line of the traceback)."""
    lines = traceback.format_exc().strip().splitlines()
    row.update(outcome="crash", error=lines[-1][:300], wall_s=round(time.perf_counter() - start,
                                                                    3))
    return row


def window_run(plan: WindowPlan, seed: int, run: int) -> dict[str, Any]:
    """One randomised window run (module docstring); never raises: a crash is a row."""
    start = time.perf_counter()
    rng = np.random.default_rng([seed, run])
    row: dict[str, Any] = {"run": run, "kind": "window", "seed": seed, "error": ""}
    try:
        _window(plan, rng, row)
    except Exception:  # a crash is a campaign result, recorded in the table
        return _failure(row, start)
    row["wall_s"] = round(time.perf_counter() - start, 3)
    return row


def _window(plan: WindowPlan, rng: np.random.Generator, row: dict[str, Any]) -> None:
    limits = plan.limits
    name = plan.passes[int(rng.integers(len(plan.passes)))]
    config = load_pass(REPO_CONFIGS / "passes" / f"{name}.toml")
    config = replace(config, seed=int(rng.integers(1 << 32)),
                     ground_seed=int(rng.integers(1 << 32)),
                     physics_seed=int(rng.integers(1 << 32)))
    slices = config_slices(config)
    length = round(float(rng.uniform(*plan.window_s)) / config.step_s)
    length = max(1, min(length, len(slices.eta)))
    first = int(rng.integers(0, len(slices.eta) - length + 1))
    edges = slices.edges[first:first + length + 1] - slices.edges[first]
    det = generate_detections(config.seed, pass_squash_seed(config.ground_seed), edges,
                              slices.eta[first:first + length], config.source, config.detector,
                              rng_seed=config.physics_seed,
                              extra_background_cps=slices.extra_background_cps[
                                  first:first + length])
    uplink, downlink = link_pair(draw_link_faults(rng, limits, LINK_LATENCY_S))
    row["pass"] = name
    row.update(window_start_s=round(first * config.step_s, 1),
               window_s=round(length * config.step_s, 1), detections=len(det.pulse),
               **{name: getattr(uplink, name) for name in LINK_FAULTS})
    symbols = qrng_symbols(config.seed, config.source.mapper)
    row["cache_flip"] = ""
    if len(det.pulse) and rng.random() < limits.cache_flip:
        bit = int(rng.integers(len(SYMBOL_FIELDS)))
        pulse = int(det.pulse[int(rng.integers(len(det.pulse)))])
        symbols = flip_cached_symbol(symbols, pulse, bit)
        row["cache_flip"] = f"{SYMBOL_FIELDS[bit]}@{pulse}"
    repeats = int(rng.integers(MAX_REPEATS[0], MAX_REPEATS[1] + 1))
    row["max_repeats"] = repeats
    sift = SiftConfig(frame_pulses=FRAME_PULSES, cache_pulses=CACHE_PULSES,
                      packet_bits=plan.packet_bits, ground_seed=config.ground_seed,
                      sample_below=config.post.sample_below, max_repeats=repeats)
    sifted = run_sifting(det.pulse, det.basis, det.bit, symbols, sift=sift, uplink=uplink,
                         downlink=downlink, seed=int(rng.integers(1 << 31)),
                         pulses=int(edges[-1]))
    agreed = sifted.agreed
    row.update(frames=sifted.frames, missing_frames=sifted.missing_frames,
               copies_sent=sifted.uplink.sent + sifted.downlink.sent,
               copies_lost=sifted.uplink.lost + sifted.downlink.lost,
               copies_corrupted=sifted.uplink.corrupted + sifted.downlink.corrupted,
               copies_duplicated=sifted.uplink.duplicated + sifted.downlink.duplicated,
               copies_truncated=sifted.uplink.truncated + sifted.downlink.truncated,
               packets=agreed, satellite_only_packets=len(sifted.satellite_packets) - agreed)
    share = max(len(sifted.satellite_packets), 1)
    pairs = [PacketPair(s, g, sifted.satellite.detected // share, sifted.satellite.errors // share)
             for s, g in zip(sifted.satellite_packets[:agreed], sifted.ground_packets,
                             strict=True)]
    block_packets = int(rng.integers(plan.block_packets[0], plan.block_packets[1] + 1))
    mix = MessageFaults(float(rng.uniform(0.0, limits.message)) if rng.random() >= 0.25
                        else 0.0, rng)
    keys = ("s", "d", "v")
    probabilities = config.source.mapper.probabilities()
    distill_config = DistillConfig(
        intensities=dict(zip(keys, config.source.intensities, strict=True)),
        probabilities={k: probabilities[n] for k, n in zip(
            keys, ("signal", "decoy", "vacuum"), strict=True)},
        epsilon_sec=config.post.epsilon_sec, epsilon_cor=config.post.epsilon_cor,
        pa_block_bits=block_packets * plan.packet_bits, method=config.post.method)
    result = distill(pairs, distill_config, config.seed, adversary=mix)
    _check_distill(row, result, mix)
    _check_key_files(row, result.satellite_key, result.ground_key, rng, limits.key_flip)
    row["outcome"] = _outcome(row)


def _check_distill(row: dict[str, Any], result: Any, mix: MessageFaults) -> None:
    """Counts, reasons and the two acceptance checks of a distillation with altered messages."""
    packet_status = {e["packet"]: e["status"] for e in result.ec}
    block_status = {b["block"]: b["status"] for b in result.pa_blocks}
    # a confirmed block's keys: consecutive slices of both final keys, in block order
    mismatched, pos = 0, 0
    for block in result.pa_blocks:
        if block["status"] == "ok":
            end = pos + block["key_bits"]
            mismatched += not np.array_equal(result.satellite_key[pos:end],
                                             result.ground_key[pos:end])
            pos = end
    accepted_altered = sum(
        (block_status if scope == "block" else packet_status).get(number) != "auth_failed"
        for _, scope, number, _ in mix.altered)
    statuses = list(packet_status.values()) + list(block_status.values())
    row.update(
        message_fault_rate=round(mix.rate, 4), messages_altered=len(mix.altered),
        message_faults=_reasons([f"{kind}/{fault}" for kind, _, _, fault in mix.altered]),
        packets_ok=sum(s == "ok" for s in packet_status.values()),
        packet_drop_reasons=_reasons(list(packet_status.values())),
        blocks=len(block_status), blocks_ok=sum(s == "ok" for s in block_status.values()),
        block_abandon_reasons=_reasons(list(block_status.values())),
        final_key_bits=result.final_key_bits, keys_match=result.keys_match,
        auth_key_bits=result.auth_key_consumed_bits,
        mismatched_keys_accepted=mismatched, unauthenticated_accepted=accepted_altered,
        unexplained=sum(s not in PACKET_REASONS | {"ok"} for s in packet_status.values())
        + sum(s not in BLOCK_REASONS | {"ok"} for s in block_status.values())
        + sum(s is None for s in statuses))


def _check_key_files(row: dict[str, Any], satellite: np.ndarray, ground: np.ndarray,
                     rng: np.random.Generator, flip_rate: float) -> None:
    """Store both keys, maybe flip one stored bit, read both back: a flip must be refused."""
    with tempfile.TemporaryDirectory(prefix="campaign-keys-") as tmp:
        paths = {"satellite": Path(tmp, "satellite.key"), "ground": Path(tmp, "ground.key")}
        write_key(paths["satellite"], satellite)
        write_key(paths["ground"], ground)
        flipped = ""
        if rng.random() < flip_rate:
            side = ("satellite", "ground")[int(rng.integers(2))]
            if flip_stored_bit(paths[side], rng) is not None:
                flipped = side
        refused = []
        for side, path in paths.items():
            try:
                read_key(path)
            except KeyFileError:
                refused.append(side)
    row.update(key_flip=flipped, key_flip_undetected=int(bool(flipped) and refused != [flipped]),
               key_read_refused=";".join(refused))


def _outcome(row: dict[str, Any]) -> str:
    """``violation`` if any check failed, else ``key`` / ``no_key`` / ``no_packets``."""
    if (row["mismatched_keys_accepted"] or row["unauthenticated_accepted"]
            or row["key_flip_undetected"] or row["unexplained"]):
        return "violation"
    if row["final_key_bits"]:
        return "key"
    return "no_key" if row["packets"] else "no_packets"


def scenario_run(plan: ScenarioPlan, run: int) -> dict[str, Any]:
    """One ``make sim`` scenario window with a random seed (module docstring)."""
    start = time.perf_counter()
    row: dict[str, Any] = {"run": run, "kind": "scenario", "seed": plan.seed,
                           "scenario": Path(plan.scenario).stem, "frames": plan.frames,
                           "error": ""}
    try:
        with tempfile.TemporaryDirectory(prefix="campaign-sim-") as tmp:
            summary = Path(tmp, "summary.json")
            proc = subprocess.run(
                [sys.executable, "-m", "sim.e2e", "--simulator", plan.simulator,
                 "--scenario", plan.scenario, "--frames", str(plan.frames),
                 "--seed", str(plan.seed), "--summary", str(summary)],
                cwd=ROOT, capture_output=True, text=True, timeout=SCENARIO_TIMEOUT_S,
                check=False)
            result = json.loads(summary.read_text()) if summary.exists() else None
    except Exception:  # a crash is a campaign result, recorded in the table
        return _failure(row, start)
    row["wall_s"] = round(time.perf_counter() - start, 3)
    if result is None:
        err = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
        row.update(outcome="crash", error=err[:300])
        return row
    row.update(detections=result.get("detections"), sifted_bits=result.get("sifted_bits"),
               mismatches=result.get("mismatches"), pulses=result.get("pulses"),
               outcome="match" if result.get("mismatches") == 0 else "mismatch")
    return row
