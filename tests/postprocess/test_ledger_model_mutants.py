"""models.postprocess.ledger: a key use and a refusal name their bits first to last; a write
error names the ledger that failed."""

import errno
import pathlib

import pytest

from models.postprocess import ledger
from models.postprocess.ledger import KeyReuseError, KeyUse, LedgerError, check, record_uses


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


def _failing_write(fail: pathlib.Path, filename: str | None):
    """``write_private`` that writes every ledger but ``fail``, where the disk is full."""

    def write(path: pathlib.Path, data: bytes) -> None:
        if path == fail:
            raise OSError(errno.ENOSPC, "No space left on device", filename)
        path.write_bytes(data)

    return write


@pytest.mark.parametrize("named", [True, False])
def test_write_error_names_the_failing_ledger_or_every_planned_one(tmp_path, monkeypatch, named):
    """A full disk on the second of two ledgers: the message names that file when the error
    carries its name, and every planned ledger when it does not."""
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    monkeypatch.setattr(ledger, "write_private",
                        _failing_write(second, str(second) if named else None))
    plan = {first: [KeyUse("ab" * 32, "a.key", 4096, 0, 128, "aes128", "B")],
            second: [KeyUse("cd" * 32, "b.key", 4096, 0, 64, "otp", "C")]}
    where = str(second) if named else f"{first}, {second}"
    with pytest.raises(LedgerError) as info:
        record_uses(plan)
    assert str(info.value) == f"cannot update key ledger: No space left on device ({where})"
