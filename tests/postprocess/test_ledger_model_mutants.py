"""models.postprocess.ledger: a key use names its bits inclusively in refusals."""

from models.postprocess.ledger import KeyUse


def test_key_use_describes_its_bits_first_to_last():
    use = KeyUse("ab" * 32, "pass/satellite.key", 4096, 128, 240, "otp", "B")
    assert use.describe() == ("bits 128..239 of pass/satellite.key (sha256 abababababababab) "
                              "for otp")
