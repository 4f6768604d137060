"""qkdsim command line: keyrate and relay output, one-line errors on bad input."""

import json
import subprocess
import sys

import numpy as np
import pytest

from models.channel.config import EC_MODES, REPO_CONFIGS, PassConfigError, load_pass
from models.postprocess import ec, pipeline
from models.postprocess.keyfile import write_key
from sim.cli import main
from sim.pass_run import with_ec_mode

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
    # the 32 bits of the confirmation CRC come out of the key (SPEC 7)
    raw = out["Z"]["key_bits"] + out["X"]["key_bits"]
    assert out["key_bits"] == 128 * ((raw - 32) // 128)


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


def pass_dir(root, name, nbits, seed, ground_flip=None):
    d = root / name
    d.mkdir()
    bits = np.random.default_rng(seed).integers(0, 2, nbits, dtype=np.uint8)
    ground = bits.copy()
    if ground_flip is not None:
        ground[ground_flip] ^= 1
    write_key(d / "satellite.key", bits)
    write_key(d / "ground.key", ground)
    return d


def test_relay_subcommand(tmp_path, capsys):
    a = pass_dir(tmp_path, "wuhan", 128 * 700, 1)
    b = pass_dir(tmp_path, "nanshan", 128 * 500, 2)
    msg = tmp_path / "msg.txt"
    msg.write_bytes(b"quantum-secured greetings from Wuhan\n" * 100)
    out = tmp_path / "relay"
    assert main(["relay", str(a), str(b), "--message", str(msg), "--out", str(out)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["relayed_key_bits"] == 128 * 498  # K_B less the broadcast's 256-bit tag key
    assert report["relayed_keys_match"] and report["auth_key_consumed_bits"] == 256
    assert report["otp"]["status"] == report["aes128"]["status"] == "ok"
    assert (out / "relayed_b.key").stat().st_mode & 0o777 == 0o600
    assert (out / "relayed_a.key").read_bytes() == (out / "relayed_b.key").read_bytes()
    assert (a / "ledger.json").stat().st_mode & 0o777 == 0o600
    assert (b / "ledger.json").exists()


def test_relay_reuse_refused_in_one_line(tmp_path, capsys):
    a = pass_dir(tmp_path, "a", 1024, 3)
    b = pass_dir(tmp_path, "b", 1024, 4)
    c = pass_dir(tmp_path, "c", 1024, 5)
    assert main(["relay", str(a), str(b), "--mode", "aes128"]) == 0
    capsys.readouterr()
    ledger = (a / "ledger.json").read_bytes()
    assert main(["relay", str(a), str(c), "--mode", "aes128"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert captured.err.startswith("qkdsim: error: key reuse refused: bits 0..127 of ")
    assert (a / "ledger.json").read_bytes() == ledger and not (c / "ledger.json").exists()
    # one ledger for both keys, given on the command line
    shared = tmp_path / "keys.ledger"
    assert main(["relay", str(b), str(c), "--ledger", str(shared)]) == 0
    assert main(["relay", str(c), str(a), "--ledger", str(shared)]) == 2
    assert "already used for auth with" in capsys.readouterr().err


def test_relay_default_message_is_one_megabyte(tmp_path, capsys):
    a = pass_dir(tmp_path, "a", 1024, 3)
    b = pass_dir(tmp_path, "b", 1024, 4)
    assert main(["relay", str(a), str(b), "--mode", "aes128"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["aes128"]["message_bytes"] == 1_000_000 and "otp" not in report


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing_dir", "does not exist"),
        ("missing_key", "cannot read key file"),
        ("length_mismatch", "differ in length"),
        ("missing_message", "cannot read message"),
        ("otp_too_long", "one-time pad needs"),
        ("corrupt_ledger", "is malformed"),
        ("ledger_dir_missing", "directory"),
    ],
)
def test_relay_bad_input(tmp_path, capsys, setup, message):
    a = pass_dir(tmp_path, "a", 1024, 3)
    b = pass_dir(tmp_path, "b", 1024, 4)
    args = ["relay", str(a), str(b)]
    if setup == "missing_dir":
        args[2] = str(tmp_path / "nowhere")
    elif setup == "missing_key":
        (b / "ground.key").unlink()
    elif setup == "length_mismatch":
        write_key(b / "ground.key", np.zeros(8, dtype=np.uint8))
    elif setup == "corrupt_ledger":
        (a / "ledger.json").write_text("{")
    elif setup == "ledger_dir_missing":
        args += ["--ledger", str(tmp_path / "nowhere" / "l.json")]
    elif setup == "missing_message":
        args += ["--message", str(tmp_path / "nope.txt")]
    else:
        (tmp_path / "m").write_bytes(b"x" * 1000)
        args += ["--message", str(tmp_path / "m"), "--mode", "otp"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("qkdsim: error: ") and message in err and err.count("\n") == 1


def test_pass_subcommand_is_wired(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["pass", "--help"])
    assert exc.value.code == 0
    assert "--out" in capsys.readouterr().out


def test_pass_ec_mode_option_and_config_field(tmp_path, capsys):
    """--ec-mode is offered with its two choices; an unknown ec_mode in the pass file is one
    line naming it (nothing is simulated)."""
    with pytest.raises(SystemExit):
        main(["pass", "--help"])
    assert "--ec-mode {one-way,interactive}" in capsys.readouterr().out
    config = tmp_path / "pass.toml"
    config.write_text((REPO_CONFIGS / "passes" / "jinan-2022-09-25.toml").read_text()
                      + '\n[postprocess]\nec_mode = "two-way"\n')
    assert main(["pass", str(config), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "ec_mode 'two-way' is not one of one-way, interactive" in err
    with pytest.raises(SystemExit) as exc:
        main(["pass", str(config), "--out", str(tmp_path / "out"), "--ec-mode", "both"])
    assert exc.value.code == 2 and "invalid choice: 'both'" in capsys.readouterr().err


def test_ec_mode_reaches_the_distillation(tmp_path):
    """The configuration's mode, or --ec-mode over it, selects the EC parameters of the pass;
    the loader knows exactly the modes the post-processing has."""
    assert EC_MODES == ec.EC_MODES
    config = load_pass(REPO_CONFIGS / "passes" / "jinan-2022-09-25.toml")
    assert config.post.ec_mode == "one-way"
    interactive = with_ec_mode(config, "interactive")
    assert interactive.post.ec_mode == "interactive" and with_ec_mode(config, None) is config
    with pytest.raises(PassConfigError, match="ec_mode 'x' is not one of"):
        with_ec_mode(config, "x")
    seen = []

    def fake_distill(pairs, cfg, seed, progress=None):
        seen.append(cfg.reconciliation)
        raise _SeenError

    for mode in (None, "interactive"):
        args = ["pass", str(REPO_CONFIGS / "passes" / "jinan-2022-09-25.toml"), "--out",
                str(tmp_path), "--no-plots", "--duration", "1"]
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(pipeline, "distill", fake_distill)
            with pytest.raises(_SeenError):
                main(args + ([] if mode is None else ["--ec-mode", mode]))
    assert seen == [ec.ec_config("one-way"), ec.INTERACTIVE]


class _SeenError(Exception):
    pass
