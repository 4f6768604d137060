"""Every file the tools read, fuzzed: a bad input is one line naming the problem and a non-zero
exit, never a traceback, and nothing already written is lost or overwritten.

Inputs: pass and scenario TOML, campaign TOML, COUNTS JSON, key files and their integrity
records, the key ledger (directly and through ``qkdsim relay``). Each is fuzzed two ways
(seeded, ``derandomize``): byte-level mutations of a valid file (cut, splice, flipped bytes,
repeated lines) and structured edits (in any table, a value replaced by any TOML or JSON value,
a key dropped or added). A loader may accept an input or raise its input error (a
``ValueError`` subclass with a one-line message); any other exception fails the test.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.channel.config import REPO_CONFIGS, PassConfigError, load_pass
from models.postprocess import ledger
from models.postprocess.keyfile import KeyFileError, read_key, record_path, write_key
from sim import cli
from sim.campaign.config import CampaignConfigError, load_campaign
from sim.e2e_scenario import ScenarioError, load_scenario

FUZZ = settings(derandomize=True, deadline=None, max_examples=60,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
PASS_FILE = REPO_CONFIGS / "passes" / "jinan-2022-09-25.toml"
SCENARIO_FILE = REPO_CONFIGS / "scenarios" / "cloud-bursts.toml"
CAMPAIGN_FILE = REPO_CONFIGS / "campaign" / "faults-1000.toml"
COUNTS = {
    "intensities": {"s": 0.8, "d": 0.1, "v": 0.001},
    "probabilities": {"s": 0.5, "d": 0.25, "v": 0.25},
    "detected": {"Z": {"s": 235000, "d": 14600, "v": 450}, "X": {"s": 235000, "d": 14600,
                                                                 "v": 450}},
    "errors": {"Z": {"s": 1700, "d": 200, "v": 220}, "X": {"s": 1700, "d": 200, "v": 220}},
    "leak_ec_bits": {"Z": 20300, "X": 20300}, "epsilon_sec": 1e-10, "epsilon_cor": 1e-15,
}

# any TOML value (JSON has the same shapes but no dates, which tomli_w-free writing skips)
# strings and numbers that loaders tend to trip over, mixed into the random ones
awkward_text = st.sampled_from(["", " ", "a\nb", "\n", "é", "\x00", "0", "-1", "nan", "1e999"])
texts = st.text(max_size=12) | awkward_text
awkward_numbers = st.sampled_from([0, -1, 1 << 64, -(10 ** 400), 10 ** 400, 0.5, 1e308,
                                   float("inf"), float("-inf"), float("nan")])
scalars = (st.booleans() | st.integers() | awkward_numbers
           | st.floats(allow_nan=True, allow_infinity=True) | texts)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(texts, inner, max_size=3), max_leaves=6)


def toml_value(value: object) -> str:
    """``value`` as TOML text (inline tables and arrays; ±inf and nan spelt as TOML does)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if value != value else ("inf" if value > 0 else "-inf") if (
            abs(value) == float("inf")) else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    assert isinstance(value, dict)
    return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


def toml_text(table: dict) -> str:
    """A TOML document of ``table`` (top-level scalars first, then one section per table)."""
    lines = [f"{json.dumps(k)} = {toml_value(v)}" for k, v in table.items()
             if not isinstance(v, dict)]
    for key, sub in table.items():
        if isinstance(sub, dict):
            lines.append(f"[{json.dumps(key)}]")
            lines += [f"{json.dumps(k)} = {toml_value(v)}" for k, v in sub.items()]
    return "\n".join(lines) + "\n"


@st.composite
def byte_mutations(draw: st.DrawFn, original: bytes) -> bytes:
    """``original`` cut, spliced, with bytes flipped or a line repeated."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(("cut", "flip", "insert", "repeat", "truncate")))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "cut":
            del data[pos:pos + draw(st.integers(1, 40))]
        elif kind == "flip" and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "repeat":
            lines = bytes(data).splitlines(keepends=True)
            if lines:
                i = draw(st.integers(0, len(lines) - 1))
                data = bytearray(b"".join(lines[:i + 1] + lines[i:]))
        else:
            data = data[:pos]
    return bytes(data)


def tables(node: object) -> list[dict]:
    """Every table (dict) in a parsed document, at any depth, lists included."""
    found = [node] if isinstance(node, dict) else []
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else []
    for child in children:
        found += tables(child)
    return found


@st.composite
def structured_edits(draw: st.DrawFn, table: dict) -> dict:
    """``table`` with, in any of its tables, a value replaced, a key dropped or a key added."""
    out = json.loads(json.dumps(table))
    for _ in range(draw(st.integers(1, 3))):
        target = draw(st.sampled_from(tables(out)))
        kind = draw(st.sampled_from(("replace", "drop", "add")))
        if kind == "add" or not target:
            target[draw(texts)] = draw(values)
        elif kind == "drop":
            del target[draw(st.sampled_from(sorted(target)))]
        else:
            target[draw(st.sampled_from(sorted(target)))] = draw(values)
    return out


def one_line(exc: BaseException) -> None:
    text = str(exc)
    assert text and "\n" not in text and "Traceback" not in text, text


def load_or_reject(loader: Callable[[Path], object], error: type[BaseException], path: Path
                   ) -> object | None:
    """The loaded object, or None after checking that the rejection is one clean line."""
    try:
        return loader(path)
    except error as exc:
        one_line(exc)
        return None


def place(tmp_path: Path, original: Path, data: bytes) -> Path:
    """``data`` written in a directory named like the original's."""
    path = tmp_path / original.parent.name / original.name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


# --- pass TOML ------------------------------------------------------------------------------


@FUZZ
@given(data=byte_mutations(PASS_FILE.read_bytes()))
def test_pass_file_bytes(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    load_or_reject(load_pass, PassConfigError,
                   place(tmp_path_factory.getbasetemp(), PASS_FILE, data))


@FUZZ
@given(table=structured_edits(tomllib.loads(PASS_FILE.read_text())))
def test_pass_file_values(tmp_path_factory: pytest.TempPathFactory, table: dict) -> None:
    load_or_reject(load_pass, PassConfigError,
                   place(tmp_path_factory.getbasetemp(), PASS_FILE, toml_text(table).encode()))


HUGE = "1" + "0" * 400  # an integer beyond the float range


@pytest.mark.parametrize(("loader", "error", "original", "text", "message"), [
    (load_pass, PassConfigError, PASS_FILE, b"\x80station = 1\n", "not UTF-8"),
    (load_pass, PassConfigError, PASS_FILE, f"altitude_km = {HUGE}\n".encode(), "out of range"),
    (load_pass, PassConfigError, PASS_FILE, b'"a\\nb" = 1\n', "unknown key 'a\\nb'"),
    (load_scenario, ScenarioError, SCENARIO_FILE, f"offset_s = {HUGE}\n".encode(),
     "out of range"),
    (load_scenario, ScenarioError, SCENARIO_FILE, f"frames = -{HUGE}\n".encode(),
     "must be at least 2"),
    (load_scenario, ScenarioError, SCENARIO_FILE, b'"a\\nb" = 1\n', "unknown key 'a\\nb'"),
    (load_campaign, CampaignConfigError, CAMPAIGN_FILE, f"window_s = [1, {HUGE}]\n".encode(),
     "window_s must be a number"),
])
def test_loader_inputs_found_by_fuzzing(tmp_path: Path, loader: Callable[[Path], object],
                                        error: type[BaseException], original: Path,
                                        text: bytes, message: str) -> None:
    if loader is load_scenario:
        text = b'pass = "configs/passes/jinan-2022-09-25.toml"\n' + text
    with pytest.raises(error, match=re.escape(message)) as info:
        loader(place(tmp_path, original, text))
    one_line(info.value)


# --- scenario TOML --------------------------------------------------------------------------


@FUZZ
@given(data=byte_mutations(SCENARIO_FILE.read_bytes()))
def test_scenario_file_bytes(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    load_or_reject(load_scenario, ScenarioError,
                   place(tmp_path_factory.getbasetemp(), SCENARIO_FILE, data))


@FUZZ
@given(table=structured_edits(tomllib.loads(SCENARIO_FILE.read_text())))
def test_scenario_file_values(tmp_path_factory: pytest.TempPathFactory, table: dict) -> None:
    load_or_reject(load_scenario, ScenarioError, place(
        tmp_path_factory.getbasetemp(), SCENARIO_FILE, toml_text(table).encode()))


# --- campaign TOML --------------------------------------------------------------------------


@FUZZ
@given(data=byte_mutations(CAMPAIGN_FILE.read_bytes()))
def test_campaign_file_bytes(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    load_or_reject(load_campaign, CampaignConfigError,
                   place(tmp_path_factory.getbasetemp(), CAMPAIGN_FILE, data))


@FUZZ
@given(table=structured_edits(tomllib.loads(CAMPAIGN_FILE.read_text())))
def test_campaign_file_values(tmp_path_factory: pytest.TempPathFactory, table: dict) -> None:
    load_or_reject(load_campaign, CampaignConfigError, place(
        tmp_path_factory.getbasetemp(), CAMPAIGN_FILE, toml_text(table).encode()))


# --- COUNTS JSON through qkdsim keyrate ------------------------------------------------------


def keyrate(tmp_path: Path, data: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    """``qkdsim keyrate`` on ``data``: JSON with key_bits, or exit 2 with one error line."""
    path = tmp_path / "counts.json"
    path.write_bytes(data)
    status = cli.main(["keyrate", str(path)])
    out, err = capsys.readouterr()
    if status == 0:
        assert json.loads(out)["key_bits"] >= 0 and not err
    else:
        assert status == 2 and err.startswith("qkdsim: error: ") and err.count("\n") == 1, err


@FUZZ
@given(data=byte_mutations(json.dumps(COUNTS, indent=1).encode()))
def test_counts_json_bytes(tmp_path_factory: pytest.TempPathFactory,
                           capsys: pytest.CaptureFixture[str], data: bytes) -> None:
    keyrate(tmp_path_factory.getbasetemp(), data, capsys)


@FUZZ
@given(table=structured_edits(COUNTS))
def test_counts_json_values(tmp_path_factory: pytest.TempPathFactory,
                            capsys: pytest.CaptureFixture[str], table: dict) -> None:
    keyrate(tmp_path_factory.getbasetemp(), json.dumps(table).encode(), capsys)


@FUZZ
@given(value=values)
def test_counts_json_any_document(tmp_path_factory: pytest.TempPathFactory,
                                  capsys: pytest.CaptureFixture[str], value: object) -> None:
    keyrate(tmp_path_factory.getbasetemp(), json.dumps(value).encode(), capsys)


# --- key files and their integrity records ---------------------------------------------------


@FUZZ
@given(key=st.binary(max_size=64), mutated=st.binary(max_size=64),
       record=st.one_of(st.none(), st.binary(max_size=120)))
def test_key_files(tmp_path_factory: pytest.TempPathFactory, key: bytes, mutated: bytes,
                   record: bytes | None) -> None:
    """A key file read back is exactly what was written, or refused in one line."""
    path = tmp_path_factory.getbasetemp() / "station.key"
    bits = np.unpackbits(np.frombuffer(key, dtype=np.uint8))
    write_key(path, bits)
    path.write_bytes(mutated)
    if record is not None:
        record_path(path).write_bytes(record)
    got = load_or_reject(read_key, KeyFileError, path)
    if got is not None:
        assert mutated == key and np.array_equal(got, bits)


def test_every_single_bit_flip_of_a_key_file_is_refused(tmp_path: Path) -> None:
    bits = np.random.default_rng(1).integers(0, 2, 256, dtype=np.uint8)
    path = tmp_path / "satellite.key"
    write_key(path, bits)
    good = path.read_bytes()
    assert np.array_equal(read_key(path), bits)
    for bit in range(8 * len(good)):
        flipped = bytearray(good)
        flipped[bit // 8] ^= 0x80 >> (bit % 8)
        path.write_bytes(bytes(flipped))
        with pytest.raises(KeyFileError, match="fails its integrity check"):
            read_key(path)


# --- key ledger ------------------------------------------------------------------------------


def ledger_document(tmp_path: Path) -> tuple[Path, Path]:
    """Two pass directories with keys, and the ledger of A after one relay from A to B."""
    dirs = []
    for name, seed in (("a", 1), ("b", 2)):
        d = tmp_path / name
        d.mkdir(exist_ok=True)
        bits = np.random.default_rng(seed).integers(0, 2, 2048, dtype=np.uint8)
        write_key(d / "satellite.key", bits)
        write_key(d / "ground.key", bits)
        dirs.append(d)
    return dirs[0], dirs[1]


def relay_args(a: Path, b: Path, message: Path) -> list[str]:
    return ["relay", str(a), str(b), "--message", str(message), "--mode", "otp"]


@pytest.fixture(scope="module")
def valid_ledger(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    root = tmp_path_factory.mktemp("ledger")
    a, b = ledger_document(root)
    (root / "m").write_bytes(b"hello")
    assert cli.main(relay_args(a, b, root / "m")) == 0
    return (a / ledger.LEDGER_NAME).read_bytes()


def relay_with_ledger(root: Path, data: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    """``qkdsim relay`` with A's ledger replaced by ``data``: a relay, or exit 2 with one line
    and the ledger as it was."""
    a, b = ledger_document(root)
    for d in (a, b):
        (d / ledger.LEDGER_NAME).unlink(missing_ok=True)
    (a / ledger.LEDGER_NAME).write_bytes(data)
    (root / "m").write_bytes(b"hello")
    load_or_reject(ledger.load, ledger.LedgerError, a / ledger.LEDGER_NAME)
    capsys.readouterr()
    status = cli.main(relay_args(a, b, root / "m"))
    _, err = capsys.readouterr()
    if status != 0:
        assert status == 2 and err.startswith("qkdsim: error: ") and err.count("\n") == 1, err
        assert (a / ledger.LEDGER_NAME).read_bytes() == data


LEDGER_FUZZ = settings(FUZZ, max_examples=50)


@LEDGER_FUZZ
@given(data=st.data())
def test_ledger_bytes(tmp_path_factory: pytest.TempPathFactory, capsys, valid_ledger: bytes,
                      data: st.DataObject) -> None:
    relay_with_ledger(tmp_path_factory.getbasetemp(), data.draw(byte_mutations(valid_ledger)),
                      capsys)


@LEDGER_FUZZ
@given(data=st.data())
def test_ledger_values(tmp_path_factory: pytest.TempPathFactory, capsys, valid_ledger: bytes,
                       data: st.DataObject) -> None:
    table = data.draw(structured_edits(json.loads(valid_ledger)))
    relay_with_ledger(tmp_path_factory.getbasetemp(), json.dumps(table).encode(), capsys)


@pytest.mark.parametrize(("edit", "message"), [
    ({"bits": float("inf")}, "cannot convert float infinity"),  # int() overflows
    ({"bits": float("nan")}, "cannot convert float NaN"),
    ({"uses": True}, "not iterable"),
    ({"uses": [{"start": 0, "end": 1 << 80, "purpose": "otp", "peer": ""}]}, "outside"),
])
def test_ledger_entries_found_by_fuzzing(tmp_path: Path, edit: dict, message: str) -> None:
    for digest in ("ab" * 32, "a\nb"):  # a key name with a newline must not split the line
        doc = {"format": "qkdsim-key-ledger", "version": 1, "keys": {digest: {
            "label": "k", "bits": 1024,
            "uses": [{"start": 0, "end": 8, "purpose": "otp", "peer": "p"}]} | edit}}
        path = tmp_path / "ledger.json"
        path.write_text(json.dumps(doc))
        with pytest.raises(ledger.LedgerError, match=message) as info:
            ledger.load(path)
        one_line(info.value)


# --- what is already written stays -----------------------------------------------------------


def snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*"))
            if p.is_file()}


@pytest.mark.parametrize("command", ["pass", "campaign", "keyrate", "relay"])
def test_bad_input_leaves_earlier_outputs_alone(tmp_path: Path, capsys, command: str) -> None:
    """An output directory of an earlier run, then the same command on a corrupt input."""
    out = tmp_path / "out"
    out.mkdir()
    for name, data in {"report.json": b"{}\n", "runs.csv": b"run\n0\n",
                       "summary.json": b"{}\n"}.items():
        (out / name).write_bytes(data)
    write_key(out / "satellite.key", np.ones(128, dtype=np.uint8))
    write_key(out / "ground.key", np.ones(128, dtype=np.uint8))
    before = snapshot(out)
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"runs = [1,\n")
    args = {"pass": ["pass", str(bad), "--out", str(out)],
            "campaign": ["campaign", str(bad), "--out", str(out)],
            "keyrate": ["keyrate", str(bad)],
            "relay": ["relay", str(out), str(tmp_path / "missing"), "--out", str(out)]}[command]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("qkdsim: error: ") and err.count("\n") == 1
    assert snapshot(out) == before
