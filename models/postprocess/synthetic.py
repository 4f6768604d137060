"""Synthetic sifted-key packets with a chosen QBER, for tests, benchmarks and demos.

The tag mix follows the pass model's expectation for the paper's defaults (per basis: ~94 %
signal, ~5.8 % decoy, ~0.2 % vacuum key bits); error probabilities per intensity are
qber (signal), 1.2·qber (decoy) and 0.45 (vacuum, mostly dark counts). Sampled counters are
drawn for a 10 % sample (``sample_ratio`` sampled per key bit = 1/9).
"""

import numpy as np

from models.postprocess.pipeline import PacketPair
from models.sifting.packets import PACKET_BITS, Packet

TAG_MIX = (0.9400, 0.0582, 0.0018)  # signal, decoy, vacuum share of key bits


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
        err_p = np.array([q, 1.2 * q, 0.45])
        bit = rng.integers(0, 2, packet_bits, dtype=np.uint8)
        flip = (rng.random(packet_bits) < err_p[intensity]).astype(np.uint8)
        sat = Packet(index, bit, basis, intensity)
        gnd = Packet(index, bit ^ flip, basis.copy(), intensity.copy())
        n_sample = rng.multinomial(round(packet_bits * sample_ratio),
                                   [p / 2 for p in TAG_MIX] * 2).reshape(2, 3)
        errors = rng.binomial(n_sample, np.broadcast_to(err_p, (2, 3)))
        pairs.append(PacketPair(sat, gnd, n_sample.astype(np.int64), errors.astype(np.int64)))
    return pairs
