"""models.channel.expect: afterpulses scale the detected rate by 1 + p_ap * gate / period."""

import numpy as np
import pytest

from models.channel.events import DetectorParams
from models.channel.expect import expected_rates


def test_afterpulses_scale_the_detected_rate():
    eta = np.array([1e-3, 1e-2])
    plain = expected_rates(eta, detector=DetectorParams(afterpulse_prob=0.0)).detected
    noisy = expected_rates(eta, detector=DetectorParams(afterpulse_prob=0.5)).detected
    # 800 ps gate at 1600 ps period: half of the afterpulses land in a gate
    np.testing.assert_allclose(noisy, plain * 1.25, rtol=1e-12)
    assert plain.min() > 0 and noisy.sum() == pytest.approx(1.25 * plain.sum())
