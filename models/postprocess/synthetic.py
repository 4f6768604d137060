"""Synthetic sifted-key packets with a chosen QBER, for tests, benchmarks and demos.

The tag mix follows the pass model's expectation for the paper's defaults (per basis: ~94 %
signal, ~5.8 % decoy, ~0.2 % vacuum key bits); error probabilities per intensity are
qber (signal), 1.2·qber (decoy) and 0.45 (vacuum, mostly dark counts). Sampled counters are
drawn for a 10 % sample (``sample_ratio`` sampled per key bit = 1/9).
"""

import math
import time
from dataclasses import dataclass

import numpy as np

from models.postprocess import ec
from models.postprocess.ec import EcConfig
from models.postprocess.pipeline import PacketPair, efficiency, tag_counts
from models.sifting.packets import PACKET_BITS, Packet

TAG_MIX = (0.9400, 0.0582, 0.0018)  # signal, decoy, vacuum share of key bits


def channel_q(qber: float) -> np.ndarray:
    """Error probability per intensity tag (signal, decoy, vacuum) of the synthetic channel."""
    return np.array([qber, 1.2 * qber, 0.45])


def synthetic_packets(count: int, qber: float | list[float], seed: int,
                      packet_bits: int = PACKET_BITS, sample_ratio: float = 1 / 9
                      ) -> list[PacketPair]:
    """``count`` packet pairs whose ground bits differ from the satellite's at ~qber."""
    rng = np.random.default_rng(seed)
    qbers = [qber] * count if np.isscalar(qber) else list(qber)
    pairs = []
    for index, q in enumerate(qbers):
        basis = rng.integers(0, 2, packet_bits, dtype=np.uint8)
        intensity = rng.choice(3, size=packet_bits, p=TAG_MIX).astype(np.uint8)
        err_p = channel_q(q)
        bit = rng.integers(0, 2, packet_bits, dtype=np.uint8)
        flip = (rng.random(packet_bits) < err_p[intensity]).astype(np.uint8)
        sat = Packet(index, bit, basis, intensity)
        gnd = Packet(index, bit ^ flip, basis.copy(), intensity.copy())
        n_sample = rng.multinomial(round(packet_bits * sample_ratio),
                                   [p / 2 for p in TAG_MIX] * 2).reshape(2, 3)
        errors = rng.binomial(n_sample, np.broadcast_to(err_p, (2, 3)))
        pairs.append(PacketPair(sat, gnd, n_sample.astype(np.int64), errors.astype(np.int64)))
    return pairs


@dataclass(frozen=True)
class EcMeasurement:
    """Outcome of reconciling synthetic packets at a channel QBER (see :func:`measure_ec`)."""

    qber: float
    packets: int
    successes: int
    f_mean: float  # over successful packets, with the packet's true QBER; leak includes the hash
    decode_s: float  # total decoder time of all packets
    bits: int
    rounds_mean: float = 0.0  # reveal rounds per packet
    leak_fraction: float = math.nan  # mean leak / packet bits over successful packets
    iterations_mean: float = 0.0  # decoder iterations per packet, all codewords and attempts

    @property
    def success_rate(self) -> float:
        return self.successes / self.packets


def measure_ec(qber: float, packets: int, seed: int, cfg: EcConfig | None = None,
               packet_bits: int = PACKET_BITS, at_bound: bool = False) -> EcMeasurement:
    """Reconcile synthetic packets at ``qber`` exactly as the pipeline does (rate from the
    packet's sampled counters); for tests, benchmarks and the measured table of the docs.

    ``at_bound``: instead of the sample, the rate and the decoder get the channel's own error
    probabilities per tag as both estimate and upper bound, i.e. the code runs at exactly
    ``f_design`` of the channel it meets (the worst case the confidence bound admits)."""
    cfg = EcConfig() if cfg is None else cfg
    fs, leaks, rounds, iterations, ok, spent = [], [], [], [], 0, 0.0
    rng = np.random.default_rng([seed, 1])
    prior = None
    for pair in synthetic_packets(packets, qber, seed, packet_bits):
        sat, gnd = pair.satellite, pair.ground
        est = (ec.ChannelEstimate(channel_q(qber), channel_q(qber)) if at_bound else
               ec.estimate_channel(pair.sampled_detected, pair.sampled_errors, cfg, prior))
        plans = ec.plan_codewords(sat.intensity, est, cfg)
        pad = ec.SatellitePad(plans, rng.integers(0, 2, ec.pad_bits_needed(plans),
                                                  dtype=np.uint8))
        syn = ec.encode(sat.bit, plans, np.concatenate(pad.pads), cfg)
        start = time.thread_time()  # this thread only: measure_ec may run in several
        session = ec.GroundDecoder(gnd.bit, gnd.intensity, syn, est.q, cfg)
        rounds.append(ec.run_rounds(session, pad.disclose) or 0)
        result = session.result()
        spent += time.thread_time() - start
        iterations.append(result.iterations)
        if result.converged and np.array_equal(result.corrected, sat.bit):
            ok += 1
            q_true = float(np.mean(sat.bit != gnd.bit))
            leak = pad.leak_bits + ec.VERIFY_HASH_BITS
            fs.append(efficiency(leak, packet_bits, q_true))
            leaks.append(leak / packet_bits)
            prior = (tag_counts(sat), tag_counts(sat, result.error_mask))
    return EcMeasurement(qber, packets, ok, float(np.mean(fs)) if fs else math.nan, spent,
                         packets * packet_bits, float(np.mean(rounds)),
                         float(np.mean(leaks)) if leaks else math.nan,
                         float(np.mean(iterations)) if iterations else 0.0)
