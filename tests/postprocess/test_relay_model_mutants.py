"""models.postprocess.relay paths the relay tests leave to the command line: reading two pass
directories and writing the ciphertexts, and the ledger of a relay that encrypts nothing (its
two "relay" ranges merge into one)."""

import numpy as np

from models.postprocess.keyfile import write_key
from models.postprocess.relay import (
    AUTH_KEY_BITS,
    planned_uses,
    read_pass_keys,
    run_relay_cli,
)
from tests.postprocess.test_relay import keys, station


def test_relay_without_encryption_records_one_relay_range():
    a, b = station(4096, 5, "A"), station(3000 + AUTH_KEY_BITS, 6, "B")
    a_uses, _ = planned_uses(a, b, 2944, 0, False)
    assert [(u.start, u.end, u.purpose) for u in a_uses] == [(0, 2944, "relay")]


def test_relay_from_pass_directories_writes_the_ciphertexts(tmp_path):
    for name, n, seed in (("a", 4096, 5), ("b", 3000 + AUTH_KEY_BITS, 6)):
        (tmp_path / name).mkdir()
        k = keys(n, seed)
        write_key(tmp_path / name / "satellite.key", k)
        write_key(tmp_path / name / "ground.key", k)
    a = read_pass_keys(tmp_path / "a")
    assert a.label == str(tmp_path / "a" / "satellite.key")
    assert np.array_equal(a.satellite, keys(4096, 5)) and np.array_equal(a.ground, a.satellite)
    (tmp_path / "msg").write_bytes(b"secret message")
    report = run_relay_cli(tmp_path / "a", tmp_path / "b", tmp_path / "msg", tmp_path / "out")
    assert report["out"] == str(tmp_path / "out") and report["otp"]["status"] == "ok"
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert {"message_aes128.bin", "message_otp.bin", "broadcast.bin"} <= set(written)
    assert (tmp_path / "out" / "message_otp.bin").stat().st_mode & 0o777 == 0o600
