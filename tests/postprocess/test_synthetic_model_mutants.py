"""models.postprocess.synthetic: the success rate of a measurement is the fraction of its
packets that reconciled (3 of 4 is 0.75, not a whole number); the leak fraction and decoder time
of ``measure_ec`` (the benchmark's leak per bit and decoder throughput) for a known packet."""

import time

import pytest

from models.postprocess.finitekey import binary_entropy
from models.postprocess.synthetic import EcMeasurement, measure_ec, synthetic_packets


def test_success_rate_is_the_fraction_of_packets():
    m = EcMeasurement(qber=0.02, packets=4, successes=3, f_mean=1.1, decode_s=0.1, bits=4000)
    assert m.success_rate == 0.75
    assert EcMeasurement(0.02, 4, 4, 1.1, 0.1, 4000).success_rate == 1.0


def test_leak_fraction_and_decoder_time_of_one_packet():
    """One packet: its leak per key bit is f * h(QBER) of the packet's own errors (both are
    leak / packet bits), below one; the decoder time is positive and within this thread's CPU
    time around the call."""
    qber, seed, bits = 0.02, 5, 20_000
    (pair,) = synthetic_packets(1, qber, seed, bits)
    q_true = float((pair.satellite.bit != pair.ground.bit).mean())
    before = time.thread_time()
    m = measure_ec(qber, 1, seed, packet_bits=bits)
    spent = time.thread_time() - before
    assert m.successes == 1 and m.bits == bits
    assert 0 < m.leak_fraction < 1
    assert m.leak_fraction == pytest.approx(m.f_mean * binary_entropy(q_true), rel=1e-12)
    assert 0 < m.decode_s <= spent
