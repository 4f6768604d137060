"""qkdsim command line: keyrate and relay output, one-line errors on bad input."""

import json
import subprocess
import sys

import pytest

from sim.cli import main

COUNTS = {
    "intensities": {"s": 0.8, "d": 0.1, "v": 0.001},
    "probabilities": {"s": 0.5, "d": 0.25, "v": 0.25},
    "detected": {"Z": {"s": 235000, "d": 14600, "v": 450},
                 "X": {"s": 235000, "d": 14600, "v": 450}},
    "errors": {"Z": {"s": 1700, "d": 200, "v": 220}, "X": {"s": 1700, "d": 200, "v": 220}},
    "leak_ec_bits": {"Z": 20300, "X": 20300}, "epsilon_sec": 1e-10, "epsilon_cor": 1e-15,
}


def write(tmp_path, obj, name="counts.json"):
    path = tmp_path / name
    path.write_text(obj if isinstance(obj, str) else json.dumps(obj))
    return str(path)


@pytest.mark.parametrize("method", ["chernoff", "lim2014"])
def test_keyrate_prints_spec8_json(tmp_path, capsys, method):
    assert main(["keyrate", write(tmp_path, COUNTS), "--method", method]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["method"] == method
    assert out["key_bits"] % 128 == 0 and out["key_bits"] > 0
    for b in ("Z", "X"):
        assert {"s0", "s1", "phi"} <= set(out[b])


def test_keyrate_entry_point_subprocess(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "sim.cli", "keyrate", write(tmp_path, COUNTS)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["key_bits"] > 0


def bad(**changes):
    obj = json.loads(json.dumps(COUNTS))
    for dotted, value in changes.items():
        *path, last = dotted.split("__")
        node = obj
        for key in path:
            node = node[key]
        if value is None:
            del node[last]
        else:
            node[last] = value
    return obj


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (bad(probabilities__d=0.3), "sum to"),
        (bad(intensities__s=-0.8), "intensity s"),
        (bad(intensities__d=0.9), "signal > decoy"),
        (bad(detected__Z__s=-5), "detected.Z.s"),
        (bad(errors__X__d=20000), "exceeds"),
        (bad(leak_ec_bits=None), "leak_ec_bits"),
        (bad(detected__X="many"), "malformed"),
        (bad(epsilon_sec=2), "epsilon_sec"),
        ("{\"intensities\": ", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ("\xff\xfe", "valid JSON"),
    ],
)
def test_keyrate_bad_input_one_line_error(tmp_path, capsys, content, message):
    assert main(["keyrate", write(tmp_path, content)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("qkdsim: error: ")
    assert message in err
    assert err.count("\n") == 1


def test_keyrate_missing_file(tmp_path, capsys):
    assert main(["keyrate", str(tmp_path / "nope.json")]) == 2
    assert "cannot read counts file" in capsys.readouterr().err


def test_keyrate_binary_file(tmp_path, capsys):
    path = tmp_path / "bin.json"
    path.write_bytes(b"\x80\x81\x00")
    assert main(["keyrate", str(path)]) == 2
    assert "not UTF-8" in capsys.readouterr().err
