"""models.postprocess.synthetic: the success rate of a measurement is the fraction of its
packets that reconciled (3 of 4 is 0.75, not a whole number)."""

from models.postprocess.synthetic import EcMeasurement


def test_success_rate_is_the_fraction_of_packets():
    m = EcMeasurement(qber=0.02, packets=4, successes=3, f_mean=1.1, decode_s=0.1, bits=4000)
    assert m.success_rate == 0.75
    assert EcMeasurement(0.02, 4, 4, 1.1, 0.1, 4000).success_rate == 1.0
