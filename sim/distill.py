"""The keys at the end of ``make sim``: the satellite's distillation in RTL, the ground's in the
golden post-processing (SPEC 7), compared bit for bit.

Input: both sides' sifted key streams of the end-to-end window (the RTL's key beats,
:data:`rtl.sifting.layouts.KeyBeat` integers, which the e2e scoreboards matched with the golden
endpoints) and the window's per-packet sampled counters. Steps:

1. Whole packets only: the streams are cut into 100,000-bit packets as
   :class:`models.sifting.packets.Packetizer` does; the bits of a packet the window ended
   inside are abandoned (counted, never distilled: SPEC 5 and 7).
2. The golden pipeline (:func:`models.postprocess.pipeline.distill`, one-way EC) distils both
   sides; every classical message is recorded on its way (the pipeline's adversary hook, which
   passes it unchanged). From the messages come the parameters the satellite chose: each
   packet's code (n, m) and syndrome, each block's final key length ℓ and Toeplitz seed.
3. The satellite's engines (:func:`rtl.distill.tops.distill_keys`) run in a second cocotb
   simulation (:mod:`tb.distill.cocotb_keys`) on the satellite's packets with those
   parameters: syndromes, privacy amplification, the CRC of its output, and the tags of every
   message (its own signed, the ground's checked).
4. Scoreboards: syndrome words, PA key words, CRCs and tags (and the check of the ground's
   messages) against the golden pipeline's, in order. The satellite's final key is the first ℓ
   bits of the RTL's PA output of every block whose CRCs agreed; it is compared with the
   golden ground's final key.

The hook in :mod:`sim.e2e` calls :func:`distill_window` and prints :func:`summary_lines`;
alone: ``python -m sim.distill --packets N`` runs a synthetic window of N packets.
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from models.constants import FABRIC_CLOCK_PS
from models.postprocess.auth import Authenticator, KeyPool
from models.postprocess.finitekey import CONFIRM_CRC_BITS
from models.postprocess.pipeline import (
    DistillConfig,
    DistillResult,
    PacketPair,
    distill,
    unpack_syndrome_message,
)
from models.postprocess.rand import STREAM_AUTH_POOL, random_bits
from models.postprocess.toeplitz import pack_bits, toeplitz_hash
from models.sifting.classical_link import SiftConfig, qrng_symbols
from models.sifting.entries import MATCH_BIT, MISSING_BIT, make_reports, satellite_sift
from models.sifting.packets import PACKET_BITS, Packet, Packetizer
from rtl.common.payload import pack, unpack
from rtl.distill.codes import code_table, rate_index
from rtl.distill.layouts import (
    AuthCommand,
    AuthResult,
    AuthStatus,
    CrcResult,
    KeyWord,
    MessageByte,
    SyndromeStatus,
    syndrome_status,
)
from rtl.distill.toeplitz_layouts import PaStatus, PaStatusLayout, pa_job
from rtl.distill.tops import SYNTH_WIDTH, distill_keys
from sim.pass_run import per_packet_counts
from tb.distill.cocotb_keys import E2E_KEYS_FILE, WORD
from tb.distill.toeplitz_stim import bit_words
from tb.runner import ROOT, case_build_dir, run_cocotb
from tb.tally import StreamTally

STREAMS = ("syndrome", "pa_key", "crc", "tags")
SATELLITE_KINDS = ("syndrome", "pa_seed", "ec_reveal")
KEY_BEAT_BITS = 5  # bit, basis, intensity (2), last: models.sifting.packets


class DistillSimError(ValueError):
    """A key run that cannot be made (bad stream, engine shape)."""


@dataclass
class Message:
    kind: str
    payload: bytes
    from_satellite: bool


@dataclass
class Golden:
    """What the golden pipeline did and the RTL must reproduce."""

    result: DistillResult
    messages: list[Message]
    pool: np.ndarray
    packets: dict[int, Packet]


@dataclass
class KeyRun:
    """The outcome of one window's distillation."""

    packets: int
    abandoned_bits: int
    blocks: list[dict]
    tallies: dict[str, StreamTally] = field(default_factory=dict)
    satellite_key: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint8))
    ground_key: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint8))
    cycles: dict[str, list[int]] = field(default_factory=dict)
    wall_s: float = 0.0

    @property
    def mismatches(self) -> int:
        return sum(t.mismatches for t in self.tallies.values())

    @property
    def keys_equal(self) -> bool:
        return bool(np.array_equal(self.satellite_key, self.ground_key))

    def as_dict(self) -> dict:
        return {"packets": self.packets, "abandoned_bits": self.abandoned_bits,
                "pa_blocks": self.blocks, "final_key_bits": {
                    "satellite_rtl": int(self.satellite_key.size),
                    "ground_model": int(self.ground_key.size)},
                "keys_equal": self.keys_equal, "mismatches": self.mismatches,
                "streams": {name: {"compared": t.compared, "mismatches": t.mismatches,
                                   "first_mismatch": t.first_mismatch}
                            for name, t in self.tallies.items()},
                "cycles": self.cycles, "wall_s": round(self.wall_s, 3)}


def key_stream(beats: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(bit, basis, intensity) of key beats (``models.sifting.packets`` bit order)."""
    b = np.asarray(beats, dtype=np.int64)
    return ((b & 1).astype(np.uint8), (b >> 1 & 1).astype(np.uint8),
            (b >> 2 & 3).astype(np.uint8))


def whole_packets(beats: Sequence[int], packet_bits: int = PACKET_BITS
                  ) -> tuple[list[Packet], int]:
    """The closed packets of a key stream and the bits of the unfinished one (abandoned)."""
    packetizer = Packetizer(packet_bits)
    packetizer.push(*key_stream(beats))
    return packetizer.packets, packetizer.partial_bits


def run_golden(pairs: Sequence[PacketPair], seed: int, config: DistillConfig) -> Golden:
    """The golden pipeline on ``pairs``, every message recorded with its sender."""
    messages: list[Message] = []
    confirms = 0

    def record(kind: str, payload: bytes) -> bytes:
        nonlocal confirms
        sat = kind in SATELLITE_KINDS or (kind == "confirm" and confirms % 2 == 0)
        confirms += kind == "confirm"
        messages.append(Message(kind, payload, sat))
        return payload

    result = distill(pairs, config, seed, adversary=record)
    pool = random_bits(seed, STREAM_AUTH_POOL, 0, config.auth_pool_bits)
    return Golden(result, messages, pool, {int(p.satellite.index): p.satellite for p in pairs})


@dataclass
class Expected:
    """The RTL's stimulus (stream payloads) and the golden outputs it must give."""

    stimulus: dict
    shapes: list[tuple[int, int]]
    syndromes: list[list[int]]
    blocks: list[dict]  # per PA block: number, ell, key words, crc
    tags: list[int]
    ground_verify: list[bool]
    n_max: int
    m_max: int


def expected_run(golden: Golden, config: DistillConfig) -> Expected:
    """Stimulus and expected outputs of the satellite's engines for ``golden``."""
    syn_msgs = [m for m in golden.messages if m.kind == "syndrome"]
    parsed = []
    for msg in syn_msgs:
        index = struct.unpack_from(">I", msg.payload)[0]
        _, syn, _, _ = unpack_syndrome_message(msg.payload)
        if len(syn.plans) != 1 or syn.plans[0].n != PACKET_BITS:
            raise DistillSimError(f"packet {index}: {len(syn.plans)} codewords; the encoder "
                                  "takes one 100,000-bit codeword per packet")
        parsed.append((index, syn))
    shapes = sorted({(s.plans[0].n, s.plans[0].m) for _, s in parsed})
    packets, syndromes = [], []
    for index, syn in parsed:
        packets.append({"rate": rate_index(shapes, syn.plans[0]),
                        "words": bit_words(golden.packets[index].bit, SYNTH_WIDTH)})
        syndromes.append(bit_words(syn.bits, SYNTH_WIDTH))
    n_max = config.pa_block_bits
    m_max = n_max // 2
    job = pa_job(max(1, n_max.bit_length()), max(1, m_max.bit_length()))
    blocks, pa_jobs = [], []
    infos = {b["block"]: b for b in golden.result.pa_blocks}
    for msg in (m for m in golden.messages if m.kind == "pa_seed"):
        number, ell = struct.unpack_from(">II", msg.payload)
        info = infos[number]
        x = np.concatenate([golden.packets[i].bit for i in info["packets"]])
        m = ell + CONFIRM_CRC_BITS
        seed = np.unpackbits(np.frombuffer(msg.payload[8:], dtype=np.uint8),
                             bitorder="big")[:x.size + m - 1]
        if x.size > n_max or m > m_max:
            raise DistillSimError(f"block {number}: {x.size} -> {m} bits is beyond the "
                                  f"engine's {n_max} -> {m_max}")
        pa_jobs.append({"job": pack(job, {"n": int(x.size), "m": m}),
                        "x": bit_words(x, WORD), "seed": bit_words(seed, WORD)})
        blocks.append({"block": number, "ell": ell, "status": info["status"],
                       "key": bit_words(toeplitz_hash(x, seed, m), WORD),
                       "crc": info.get("crc32")})
    auth = Authenticator(KeyPool(golden.pool.copy()))
    tags = [auth.tag(m.payload) for m in golden.messages]
    words = -(-auth.consumed_bits // 32)
    pool = [pack(KeyWord, {"data": int.from_bytes(pack_bits(golden.pool[32 * k:32 * k + 32]),
                                                  "big"), "last": 0}) for k in range(words)]
    messages = [{"cmd": pack(AuthCommand, {"verify": int(not m.from_satellite), "tag": tag}),
                 "bytes": [pack(MessageByte, {"data": b, "last": int(i == len(m.payload) - 1)})
                           for i, b in enumerate(m.payload)]}
                for m, tag in zip(golden.messages, tags, strict=True)]
    return Expected({"packets": packets, "blocks": pa_jobs,
                     "auth": {"pool": pool, "messages": messages}},
                    shapes, syndromes, blocks, tags,
                    [not m.from_satellite for m in golden.messages], n_max, m_max)


def run_rtl(expected: Expected, simulator: str = "verilator", case: str = "distill_keys"
            ) -> dict:
    """The satellite's engines on ``expected.stimulus`` (:mod:`tb.distill.cocotb_keys`)."""
    codes = [code_table(n, m, SYNTH_WIDTH) for n, m in expected.shapes]
    top = distill_keys(codes, expected.n_max, expected.m_max)
    work = ROOT / "build" / "distill" / case
    work.mkdir(parents=True, exist_ok=True)
    stimulus, result = work / "stimulus.json", work / "result.json"
    stimulus.write_text(json.dumps(expected.stimulus))
    result.unlink(missing_ok=True)
    run_cocotb(top, "tb.distill.cocotb_keys", simulator, case=case,
               params={"stimulus": str(stimulus), "result": str(result)},
               internal_clock_ps=FABRIC_CLOCK_PS,
               verilog_key=repr((expected.shapes, expected.n_max, expected.m_max)))
    if not result.exists():
        raise DistillSimError(f"the key run on {simulator} wrote no result ({result})")
    return json.loads(result.read_text())


def _compare(tally: StreamTally, got: Sequence[int], want: Sequence[int], what: str) -> None:
    """Beat by beat in order; a missing or extra beat is a mismatch."""
    n = max(len(got), len(want))
    bad = [k >= len(got) or k >= len(want) or got[k] != want[k] for k in range(n)]
    tally.record(np.array(bad, dtype=bool), what)


def score(expected: Expected, golden: Golden, out: dict) -> KeyRun:
    """Every RTL output against the golden pipeline's; the satellite's final key from the RTL."""
    tallies = {name: StreamTally(name) for name in STREAMS}
    status_layout = syndrome_status(max(1, len(expected.shapes).bit_length()))
    for k, want in enumerate(expected.syndromes):
        got = out["syndrome"][k] if k < len(out["syndrome"]) else []
        st = (unpack(status_layout, out["syndrome_status"][k])["status"]
              if k < len(out["syndrome_status"]) else None)
        _compare(tallies["syndrome"], got if st == SyndromeStatus.OK.value else [], want,
                 f"syndrome word of packet {k} differs from the golden encoder's")
    keys = []
    crcs = [unpack(CrcResult, v)["crc"] for v in out["crc"]]
    for k, block in enumerate(expected.blocks):
        got = out["pa_key"][k] if k < len(out["pa_key"]) else []
        st = unpack(PaStatusLayout, out["pa_status"][k])["status"] if k < len(
            out["pa_status"]) else None
        _compare(tallies["pa_key"], got if st == PaStatus.OK.value else [], block["key"],
                 f"PA key word of block {block['block']} differs from the golden Toeplitz hash")
        crc = crcs[k] if k < len(crcs) else None
        _compare(tallies["crc"], [crc], [block["crc"]],
                 f"CRC of block {block['block']} differs from the golden pipeline's")
        if block["status"] == "ok":
            bits = np.unpackbits(np.array([w & 0xFFFF for w in got], dtype="<u2").view(
                np.uint8), bitorder="little")
            keys.append(bits[:block["ell"]])
    results = [unpack(AuthResult, v) for v in out["auth"]]
    got_tags = [r["tag"] if not verify else int(r["status"] == AuthStatus.OK.value)
                for r, verify in zip(results, expected.ground_verify, strict=False)]
    want_tags = [tag if not verify else 1
                 for tag, verify in zip(expected.tags, expected.ground_verify, strict=True)]
    _compare(tallies["tags"], got_tags, want_tags,
             "tag (or check of a ground message) differs from the golden authenticator's")
    result = golden.result
    run = KeyRun(len(golden.packets), 0, result.pa_blocks, tallies,
                 np.concatenate(keys) if keys else np.zeros(0, np.uint8), result.ground_key)
    run.cycles = {k: out.get(f"{k}_cycles", []) for k in ("syndrome", "pa", "auth")}
    return run


def distill_window(satellite_beats: Sequence[int], ground_beats: Sequence[int],
                   sampled_detected: Sequence[np.ndarray], sampled_errors: Sequence[np.ndarray],
                   seed: int, simulator: str = "verilator", config: DistillConfig | None = None,
                   packet_bits: int = PACKET_BITS) -> KeyRun:
    """Distil a window's key: the golden pipeline on both sides, the satellite's engines in RTL
    (see the module docstring). ``sampled_*``: [basis, intensity] counters per whole packet."""
    start = time.perf_counter()
    config = config or DistillConfig(ec_workers=1)
    sat, partial = whole_packets(satellite_beats, packet_bits)
    gnd, _ = whole_packets(ground_beats, packet_bits)
    count = min(len(sat), len(gnd))
    if len(sampled_detected) < count or len(sampled_errors) < count:
        raise DistillSimError(f"{count} packets but sampled counters of "
                              f"{min(len(sampled_detected), len(sampled_errors))}")
    abandoned = partial + (len(sat) - count) * packet_bits
    if count == 0:
        return KeyRun(0, abandoned, [])
    pairs = [PacketPair(s, g, np.asarray(d), np.asarray(e)) for s, g, d, e in zip(
        sat[:count], gnd[:count], sampled_detected, sampled_errors, strict=False)]
    golden = run_golden(pairs, seed, config)
    expected = expected_run(golden, config)
    run = score(expected, golden, run_rtl(expected, simulator))
    run.abandoned_bits = abandoned
    run.wall_s = time.perf_counter() - start
    return run


def e2e_sampled_counts(stimulus: Path, seed: int, packets: int,
                       packet_bits: int = PACKET_BITS) -> tuple[list[np.ndarray],
                                                                list[np.ndarray]]:
    """Sampled [basis, intensity] detections and errors of each whole packet of an e2e window
    (``stimulus.npz`` of :mod:`sim.e2e`): the window's reports as the e2e scoreboard makes
    them, the satellite's symbols from its QRNG seed, each sampled detection counted in the
    packet its next key bit falls into (as ``qkdsim pass``). The key positions are those of an
    ideal link; they only steer the rate choice, which the RTL then takes from the golden
    pipeline, so the comparison does not depend on them."""
    stim = np.load(stimulus)
    sift = SiftConfig()
    reports = make_reports(stim["det_pulse"], stim["det_basis"], stim["det_bit"],
                           sift.ground_seed, sift.sample_below)
    sym = qrng_symbols(seed)(reports.pulse)
    sat = satellite_sift(reports, np.zeros(len(reports), np.uint8), sym.intensity, sym.basis,
                         sym.bit)
    packet_of = np.searchsorted(sat.key, np.arange(len(reports))) // packet_bits
    usable = ((sat.code & (MATCH_BIT | MISSING_BIT)) == MATCH_BIT) & (reports.sampled == 1)
    wrong = usable & (reports.bit != sym.bit)
    return tuple(per_packet_counts(mask, packet_of, reports.basis, sat.code & 3, packets)
                 for mask in (usable, wrong))


def e2e_key_files(simulator: str, case: str = "e2e") -> tuple[Path, Path]:
    """Where the e2e run of ``case`` leaves its stimulus and both sides' key beats."""
    build = case_build_dir(case, simulator)
    return build / "stimulus.npz", build / E2E_KEYS_FILE


def e2e_keys(result: dict, stimulus: Path, keys: Path, seed: int, simulator: str) -> list[str]:
    """``make sim``'s hook: distil the window's keys (``keys.npz``: both sides' key beats as
    the e2e run captured them), store the outcome in ``result["distillation"]`` and return the
    summary's lines."""
    if not keys.exists():
        result["mismatches"] += 1
        return [f"  distillation: the e2e run wrote no key streams ({keys})"]
    beats = np.load(keys)
    packets = min(len(beats["satellite"]), len(beats["ground"])) // PACKET_BITS
    detected, errors = e2e_sampled_counts(stimulus, seed, packets)
    try:
        run = distill_window(beats["satellite"].tolist(), beats["ground"].tolist(), detected,
                             errors, seed, simulator)
    except DistillSimError as exc:
        result["mismatches"] += 1
        return [f"  distillation: error: {exc}"]
    result["distillation"] = run.as_dict()
    result["mismatches"] += run.mismatches
    return summary_lines(run, len(beats["satellite"]))


def block_line(block: dict) -> str:
    """One PA block's outcome: the golden pipeline's status, the final key length ℓ and the
    phase-error bound per basis that decided ℓ (a block whose bound leaves no key is
    ``no_key``, not a failure)."""
    phi = ", ".join(f"{basis} {value:.2%}" for basis, value in block["phi"].items())
    return (f"  PA block {block['block']}: {block['input_bits']:,} bits -> ℓ = "
            f"{block['key_bits']:,}, {block['status']} (phase-error bound {phi})")


def summary_lines(run: KeyRun, sifted_bits: int) -> list[str]:
    """The summary's lines on the distilled keys."""
    if run.packets == 0:
        return [f"  distillation: no whole {PACKET_BITS:,}-bit packet in this window "
                f"({sifted_bits:,} sifted bits, abandoned): no key; a window of about 2,700 "
                "sync frames or more (the default make sim's 2,800) closes two packets"]
    oks = sum(b["status"] == "ok" for b in run.blocks)
    lines = [f"  distillation (satellite RTL, ground golden model): {run.packets} packets, "
             f"{run.abandoned_bits:,} bits of an unfinished packet abandoned; {len(run.blocks)} "
             f"PA blocks ({oks} ok), {run.wall_s:.0f} s",
             "  " + ", ".join(f"{name} {t.compared:,} compared / {t.mismatches} mismatches"
                              for name, t in run.tallies.items())]
    lines += [block_line(block) for block in run.blocks]
    sat, gnd = run.satellite_key.size, run.ground_key.size
    lines.append(f"  final key: satellite (RTL) {sat:,} bits, ground (model) {gnd:,} bits: "
                 + ("EQUAL" if run.keys_equal else "DIFFERENT"))
    first = next((t.first_mismatch for t in run.tallies.values() if t.first is not None), None)
    if first is not None:
        lines.append(f"  first distillation mismatch: {first}")
    return lines


def synthetic_window(packets: int, qber: float, seed: int
                     ) -> tuple[list[int], list[int], list[np.ndarray], list[np.ndarray]]:
    """Key beats of both sides for ``packets`` whole packets (and a partial one) at ``qber``,
    with sampled counters that show that QBER: a window without the optical co-simulation."""
    rng = np.random.default_rng(seed)
    n = packets * PACKET_BITS + PACKET_BITS // 3
    bit = rng.integers(0, 2, n, dtype=np.int64)
    basis = rng.integers(0, 2, n, dtype=np.int64)
    intensity = rng.choice(3, n, p=[0.8, 0.15, 0.05]).astype(np.int64)
    flip = (rng.random(n) < qber).astype(np.int64)
    tags = basis << 1 | intensity << 2
    last = ((np.arange(n) % PACKET_BITS) == PACKET_BITS - 1).astype(np.int64) << 4
    sat = (bit | tags | last).tolist()
    gnd = ((bit ^ flip) | tags | last).tolist()
    detected = np.array([[4000, 1000, 250]] * 2, dtype=np.int64)
    errors = np.round(detected * np.array([qber, 2 * qber, 0.5])).astype(np.int64)
    return sat, gnd, [detected] * packets, [errors] * packets


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.distill", description=__doc__.split(
        "\n")[0])
    parser.add_argument("--packets", type=int, default=2, help="whole packets (synthetic)")
    parser.add_argument("--qber", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--simulator", choices=("verilator", "icarus"), default="verilator")
    args = parser.parse_args(argv)
    if args.packets < 0 or not 0 <= args.qber < 0.5:
        parser.error("--packets must be >= 0 and --qber in [0, 0.5)")
    sat, gnd, det, err = synthetic_window(args.packets, args.qber, args.seed)
    try:
        run = distill_window(sat, gnd, det, err, args.seed, args.simulator)
    except DistillSimError as exc:
        print(f"distill: error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(summary_lines(run, len(sat))))
    return 0 if run.mismatches == 0 and run.keys_equal else 1


if __name__ == "__main__":
    sys.exit(main())
