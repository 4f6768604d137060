"""``qkdsim pass CONFIG.toml --out DIR``: one whole satellite pass (SPEC 6 to 8).

Chain: configuration (:mod:`models.channel.config`) → pass track and link efficiency
(:mod:`models.channel.passmodel`) → detections in O(detections) (:mod:`models.channel.events`)
→ ground reports and packetized sifting on both sides (:mod:`models.sifting`, ideal classical
link) → error correction (the configuration's ``ec_mode``, or ``--ec-mode``: one-way by default,
or interactive), finite-key length, privacy amplification and confirmation
(:mod:`models.postprocess.pipeline`) → ``DIR/report.json`` (SPEC 8 fields plus context), the two
final keys ``DIR/satellite.key`` / ``DIR/ground.key`` (raw bytes, MSB first, mode 0600) with
their integrity records ``DIR/*.key.sha256`` (:mod:`models.postprocess.keyfile`), and the plots
``DIR/range_countrate.png`` (paper Fig. 4b) and ``DIR/qber_per_packet.png`` (Fig. 4c).

Sampled detections (10 %) update the (basis, intensity) counters of the packet that the next key
bit closes, so every packet carries the sampled counts of its own stretch of the pass.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from models.channel.config import EC_MODES, PassConfig, PassConfigError, load_pass
from models.channel.events import Detections
from models.channel.expect import expected_rates
from models.channel.link_budget import to_db
from models.channel.passmodel import PassSlices, config_slices, simulate_detections
from models.postprocess.keyfile import write_key
from models.qrng import qrng_words
from models.sifting.entries import (
    MATCH_BIT,
    MISSING_BIT,
    SiftResult,
    ground_sift,
    make_reports,
    satellite_sift,
)
from models.sifting.packets import Packet, Packetizer
from models.symbols import map_symbols

INPUT_ERRORS: tuple[type[BaseException], ...] = (PassConfigError,)
RATE_BIN_S = 1.0


class PassOutputError(PassConfigError):
    """The output directory cannot be written."""


@dataclass(frozen=True)
class SiftedPass:
    """Both sides' packets plus the sampled counts of each packet, indexed [basis, intensity]."""

    satellite: list[Packet]
    ground: list[Packet]
    sampled_detected: list[np.ndarray]
    sampled_errors: list[np.ndarray]
    partial_bits: int
    sat: SiftResult

    def true_qber(self) -> list[float]:
        """Fraction of differing bits per packet (before error correction)."""
        return [float(np.mean(s.bit != g.bit)) for s, g in zip(self.satellite, self.ground,
                                                                strict=True)]


def per_packet_counts(mask: np.ndarray, packet_of: np.ndarray, basis: np.ndarray,
                      intensity: np.ndarray, n_packets: int) -> list[np.ndarray]:
    """Counts of the detections selected by ``mask`` per packet, as one (basis, intensity)
    array of shape (2, 3) for each of the first ``n_packets`` packets; detections of a later
    packet are left out."""
    out = np.zeros((n_packets, 2, 3), dtype=np.int64)
    sel = mask & (packet_of < n_packets)
    np.add.at(out, (packet_of[sel], basis[sel].astype(np.int64), intensity[sel].astype(np.int64)),
              1)
    return list(out)


def sift_pass(config: PassConfig, det: Detections) -> SiftedPass:
    """Ground reports, satellite and ground sifting and packets (ideal classical link)."""
    reports = make_reports(det.pulse, det.basis, det.bit, config.ground_seed,
                           config.post.sample_below)
    status = np.zeros(len(reports), dtype=np.uint8)  # RND cache deep enough: no expiry
    # The satellite looks its symbols up from its own QRNG, independently of the channel model.
    sym = map_symbols(qrng_words(config.seed, reports.pulse), config.source.mapper)
    sat = satellite_sift(reports, status, sym.intensity, sym.basis, sym.bit)
    gnd = ground_sift(reports.basis, det.bit, reports.sampled, sat.code)
    bits = config.post.packet_bits
    sat_pk, gnd_pk = Packetizer(bits), Packetizer(bits)
    sat_pk.push(sat.key_bit, sat.key_basis, sat.key_intensity, reports.pulse[sat.key])
    gnd_pk.push(gnd.key_bit, gnd.key_basis, gnd.key_intensity, reports.pulse[gnd.key])
    # packet of each detection: the one its next key bit falls into
    packet_of = np.searchsorted(sat.key, np.arange(len(reports))) // bits
    usable = ((sat.code & (MATCH_BIT | MISSING_BIT)) == MATCH_BIT) & (reports.sampled == 1)
    intensity = sat.code & 3
    n = len(sat_pk.packets)
    return SiftedPass(
        satellite=sat_pk.packets, ground=gnd_pk.packets,
        sampled_detected=per_packet_counts(usable, packet_of, reports.basis, intensity, n),
        sampled_errors=per_packet_counts(usable & (reports.bit != sym.bit), packet_of,
                                          reports.basis, intensity, n),
        partial_bits=sat_pk.partial_bits, sat=sat)


def count_rate(det: Detections, slices: PassSlices, rate_hz: float) -> tuple[np.ndarray,
                                                                            np.ndarray]:
    """(bin start times from the window start, detections per second) in RATE_BIN_S bins."""
    t = det.pulse.astype(np.float64) / rate_hz
    duration = slices.pulses / rate_hz
    edges = np.arange(0.0, duration + RATE_BIN_S, RATE_BIN_S)
    counts, _ = np.histogram(t, edges)
    return edges[:-1], counts / RATE_BIN_S


def write_plots(out: Path, config: PassConfig, slices: PassSlices, det: Detections,
                qber: list[float], true_qber: list[float]) -> list[str]:
    """Fig. 4b (range and count rate versus time) and Fig. 4c (QBER per packet: the sampled
    estimate as bars, the true QBER as dots)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t0 = slices.track.t_s[0]
    t_rate, rate = count_rate(det, slices, config.source.pulse_rate_hz)
    expected = expected_rates(slices.eta, config.source, config.detector,
                              slices.extra_background_cps).detected.sum(axis=1)
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(slices.track.t_s - t0, slices.track.range_m / 1e3, color="tab:blue")
    ax.set_xlabel("time in the pass (s)")
    ax.set_ylabel("range (km)", color="tab:blue")
    ax2 = ax.twinx()
    ax2.plot(t_rate, rate / 1e3, ".", ms=3, color="tab:red", label="simulated")
    ax2.plot(slices.track.t_s - t0, expected * config.source.pulse_rate_hz / 1e3, color="k",
             lw=0.8, label="expected")
    ax2.set_ylabel("detections (kcps)", color="tab:red")
    ax2.legend(loc="upper right")
    ax.set_title(f"{config.label}: range and count rate (max elevation "
                 f"{slices.track.elevation_deg.max():.1f}°)")
    fig.tight_layout()
    fig.savefig(out / "range_countrate.png", dpi=110)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    from matplotlib.ticker import MaxNLocator

    number = np.arange(1, len(qber) + 1)
    ax.bar(number, 100 * np.asarray(qber), color="tab:green", label="sampled estimate")
    ax.plot(number, 100 * np.asarray(true_qber), "k.", label="true")
    if qber:
        ax.axhline(100 * float(np.mean(true_qber)), color="k", lw=0.6, ls="--")
        ax.legend(loc="upper center", fontsize=8)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(f"sifted-key packet ({config.post.packet_bits // 1000} kbit)")
    ax.set_ylabel("QBER (%)")
    ax.set_title(f"{config.label}: QBER per packet")
    fig.tight_layout()
    fig.savefig(out / "qber_per_packet.png", dpi=110)
    plt.close(fig)
    return ["range_countrate.png", "qber_per_packet.png"]


def _distill(config: PassConfig, sifted: SiftedPass,
             progress: Callable[..., Any] | None) -> Any:
    from models.postprocess.ec import ec_config
    from models.postprocess.pipeline import DistillConfig, PacketPair, distill

    mapper = config.source.mapper.probabilities()
    keys = ("s", "d", "v")
    distill_config = DistillConfig(
        intensities=dict(zip(keys, config.source.intensities, strict=True)),
        probabilities=dict(zip(keys, (mapper["signal"], mapper["decoy"], mapper["vacuum"]),
                               strict=True)),
        epsilon_sec=config.post.epsilon_sec, epsilon_cor=config.post.epsilon_cor,
        pa_block_bits=config.post.pa_block_bits, method=config.post.method,
        reconciliation=ec_config(config.post.ec_mode))
    pairs = [PacketPair(s, g, d, e) for s, g, d, e in zip(
        sifted.satellite, sifted.ground, sifted.sampled_detected, sifted.sampled_errors,
        strict=True)]
    return distill(pairs, distill_config, config.seed, progress=progress)


def _progress_bar(total: int, desc: str, unit: str, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, disable=not enabled, leave=False)


def run_pass(config: PassConfig, out: Path, plots: bool = True, postprocess: bool = True,
             show_progress: bool = False) -> dict[str, Any]:
    """Simulate one pass and write its outputs into ``out``; returns the report."""
    start = time.perf_counter()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PassOutputError(f"cannot create output directory {out}: {exc.strerror}") from None
    stage_s: dict[str, float] = {}
    mark = start

    def lap(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        stage_s[name] = round(now - mark, 3)
        mark = now

    slices = config_slices(config)
    with _progress_bar(len(slices.eta), "photons", "slice", show_progress) as bar:
        det = simulate_detections(config, slices, progress=bar.update)
    lap("channel")
    sifted = sift_pass(config, det)
    lap("sifting")
    report: dict[str, Any] = {
        "station": config.station.name,
        "date": config.date,
        "config": config.path,
        "max_elevation_deg": round(float(slices.track.elevation_deg.max()), 3),
        "duration_s": slices.pulses / config.source.pulse_rate_hz,
        "pulses": slices.pulses,
        "detections": len(det),
        "mean_count_rate_cps": len(det) * config.source.pulse_rate_hz / slices.pulses,
        "range_km": {"min": round(float(slices.track.range_m.min()) / 1e3, 3),
                     "max": round(float(slices.track.range_m.max()) / 1e3, 3)},
        "max_abs_range_rate_m_s": round(float(np.abs(slices.track.range_rate_m_s).max()), 1),
        "link_loss_db": {"min": round(float(to_db(slices.eta.max())), 3),
                         "max": round(float(to_db(slices.eta.min())), 3)},
        "sifted_packets": len(sifted.satellite),
        "partial_packet_bits": sifted.partial_bits,
        "sifted_packets_identical": all(s.same_as(g) for s, g in zip(
            sifted.satellite, sifted.ground, strict=True)),
        "true_qber_per_packet": sifted.true_qber(),
    }
    satellite_key = ground_key = np.zeros(0, dtype=np.uint8)
    if postprocess:
        with _progress_bar(len(sifted.satellite), "post-processing", "packet",
                           show_progress) as bar:
            result = _distill(config, sifted, bar.update)
        report |= result.to_report()
        satellite_key, ground_key = result.satellite_key, result.ground_key
        lap("postprocess")
    else:
        report |= {"qber_per_packet": report["true_qber_per_packet"], "pa_blocks": [],
                   "final_key_bits": 0, "keys_match": True}
    if config.paper:
        report["paper"] = config.paper
    try:
        write_key(out / "satellite.key", satellite_key)
        write_key(out / "ground.key", ground_key)
        if plots:
            report["plots"] = write_plots(out, config, slices, det, report["qber_per_packet"],
                                          report["true_qber_per_packet"])
            lap("plots")
        report["stage_s"] = stage_s
        report["wall_s"] = round(time.perf_counter() - start, 3)
        (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    except OSError as exc:
        raise PassOutputError(f"cannot write the outputs into {out}: {exc.strerror}") from None
    return report


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", metavar="CONFIG.toml", help="pass configuration (configs/)")
    parser.add_argument("--out", metavar="DIR", required=True,
                        help="output directory: report.json, satellite.key, ground.key, PNGs")
    parser.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    parser.add_argument("--duration", type=float, metavar="S",
                        help="override the data-collection time (s), e.g. for a quick look")
    parser.add_argument("--ec-mode", choices=EC_MODES, help="error correction: one-way "
                        "(SPEC 7 default) or interactive; overrides the configuration's ec_mode")


def with_ec_mode(config: PassConfig, mode: str | None) -> PassConfig:
    """The configuration with its error-correction mode replaced (None: unchanged)."""
    if mode is None:
        return config
    if mode not in EC_MODES:
        raise PassConfigError(f"ec_mode '{mode}' is not one of {', '.join(EC_MODES)}")
    return dataclasses.replace(config, post=dataclasses.replace(config.post, ec_mode=mode))


def main(args: argparse.Namespace) -> int:
    config = load_pass(args.config)
    if args.duration is not None:
        if not 0 < args.duration <= 3600:
            raise PassConfigError(f"--duration {args.duration} is outside (0, 3600] s")
        config = dataclasses.replace(config, duration_s=args.duration,
                                     step_s=min(config.step_s, args.duration))
    config = with_ec_mode(config, args.ec_mode)
    report = run_pass(config, Path(args.out), plots=not args.no_plots,
                      show_progress=sys.stderr.isatty())
    print(json.dumps({k: report[k] for k in ("station", "sifted_packets", "final_key_bits",
                                              "keys_match", "wall_s")}))
    return 0


TABLE1_COLUMNS = ("pass", "E_max", "packets sim / paper", "QBER % sim / paper",
                  "QBER min-max % sim / paper", "final bits sim / paper", "final residual",
                  "EC f mean (max)", "EC dropped")


def table1(out_dir: Path, postprocess: bool = True, show_progress: bool = False,
           ec_mode: str | None = None) -> list[dict[str, Any]]:
    """Run every Table 1 pass configuration (``configs/passes``); one summary row each
    (``ec_mode``: override the configurations' error-correction mode)."""
    from models.channel.config import REPO_CONFIGS

    rows = []
    for path in sorted((REPO_CONFIGS / "passes").glob("*.toml")):
        config = with_ec_mode(load_pass(path), ec_mode)
        report = run_pass(config, out_dir / path.stem, plots=False, postprocess=postprocess,
                          show_progress=show_progress)
        qber = 100 * np.asarray(report["true_qber_per_packet"] or [np.nan])
        rows.append({"pass": path.stem, "station": config.station.name, "date": config.date,
                     "max_elevation_deg": report["max_elevation_deg"],
                     "sifted_packets": report["sifted_packets"],
                     "qber_mean_pct": float(np.mean(qber)), "qber_min_pct": float(np.min(qber)),
                     "qber_max_pct": float(np.max(qber)),
                     "final_key_bits": report["final_key_bits"],
                     "keys_match": report["keys_match"], "paper": config.paper,
                     "ec_mode": config.post.ec_mode, "ec_summary": report.get("ec_summary"),
                     "wall_s": report["wall_s"]})
    return rows


def _ec_cells(summary: dict[str, Any] | None) -> str:
    if not summary or summary.get("f_mean") is None:
        return "- | -"
    return (f"{summary['f_mean']:.2f} ({summary['f_max']:.2f}) | "
            f"{summary['packets_dropped']}")


def table1_markdown(rows: list[dict[str, Any]]) -> str:
    """The calibration table of docs/calibration.md."""
    lines = ["| " + " | ".join(TABLE1_COLUMNS) + " |", "|" + "---|" * len(TABLE1_COLUMNS)]
    for r in rows:
        p = r["paper"]
        residual = (r["final_key_bits"] / p["final_key_bits"] - 1) if p else float("nan")
        lines.append(
            f"| {r['station']} {r['date']} | {r['max_elevation_deg']:.1f} | "
            f"{r['sifted_packets']} / {p['sifted_packets']:.0f} | "
            f"{r['qber_mean_pct']:.2f} / {p['qber_mean_pct']:.2f} | "
            f"{r['qber_min_pct']:.2f}-{r['qber_max_pct']:.2f} / "
            f"{p['qber_min_pct']:.2f}-{p['qber_max_pct']:.2f} | "
            f"{r['final_key_bits']} / {p['final_key_bits']:.0f} | {100 * residual:+.0f} % | "
            f"{_ec_cells(r.get('ec_summary'))} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    _parser = argparse.ArgumentParser(
        prog="python -m sim.pass_run",
        description="run every Table 1 pass and print the calibration table (docs/calibration.md)")
    _parser.add_argument("--out", default="build/table1", help="output directory")
    _parser.add_argument("--no-postprocess", action="store_true",
                         help="stop at the sifted packets (no final keys)")
    _parser.add_argument("--ec-mode", choices=EC_MODES,
                         help="error correction of every pass (default: each configuration's)")
    _args = _parser.parse_args()
    _rows = table1(Path(_args.out), postprocess=not _args.no_postprocess,
                   show_progress=sys.stderr.isatty(), ec_mode=_args.ec_mode)
    Path(_args.out, "table1.json").write_text(json.dumps(_rows, indent=2) + "\n")
    print(table1_markdown(_rows))
