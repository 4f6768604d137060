"""``make_reports``, directed: basis and bit are taken as their low bit, as uint8 (the RTL's
1-bit fields), and the bit is reported only for sampled detections."""

import numpy as np

from models.sifting.entries import make_reports, sample_flags


def test_reports_keep_the_low_bit_of_basis_and_bit_as_uint8():
    pulse = np.arange(40, dtype=np.uint64)
    reports = make_reports(pulse, np.arange(40) % 4, np.arange(40) % 4 // 2 + 2, 7,
                           sample_below=1 << 15)
    sampled = sample_flags(7, pulse, 1 << 15)
    assert reports.basis.dtype == reports.bit.dtype == np.uint8
    assert reports.basis.tolist() == (np.arange(40) % 2).tolist()
    assert reports.bit.tolist() == ((np.arange(40) % 4 // 2) & sampled).tolist()
    assert 0 < sampled.sum() < 40
