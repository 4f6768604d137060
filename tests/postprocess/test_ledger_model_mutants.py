"""models.postprocess.ledger: a key use and a refusal name their bits first to last."""

import pytest

from models.postprocess.ledger import KeyReuseError, KeyUse, check


def test_key_use_describes_its_bits_first_to_last():
    use = KeyUse("ab" * 32, "pass/satellite.key", 4096, 128, 240, "otp", "B")
    assert use.describe() == ("bits 128..239 of pass/satellite.key (sha256 abababababababab) "
                              "for otp")


def test_refusal_names_both_ranges_first_to_last():
    old = KeyUse("ab" * 32, "a.key", 4096, 0, 128, "aes128", "B")
    new = KeyUse("ab" * 32, "a.key", 4096, 100, 200, "otp", "C")
    with pytest.raises(KeyReuseError, match=r"bits 100\.\.199 of a\.key .* overlaps bits 0\.\.127 "
                                            r"already used for aes128 with B \(ledger x\.json\)"):
        check([old], [new], "x.json")
