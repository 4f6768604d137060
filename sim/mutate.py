"""``make mutate`` / ``python -m sim.mutate``: mutation testing of ``rtl/`` and ``models/``.

Mutants come from cosmic-ray (its operators and its work database, one
``build/mutate/<block>.sqlite`` per block, readable with ``cr-report``); each mutant runs
against the tests of its own block only (:data:`BLOCKS`): the block's Amaranth-simulator and
model tests, cocotb and slow cases deselected by marker. The module under test is replaced by
the mutant through an import hook (:mod:`sim.mutant_import`), never on disk, so mutants of one
block run side by side and the checkout stays clean.

Per block: the unmutated tests run first (they must pass, and their time sets the mutant's
time limit, :data:`TIMEOUT_FACTOR` x baseline + :data:`TIMEOUT_MARGIN_S`; a block whose
unmutated tests fail is reported and left out); mutants in function annotations and ``assert``
statements are left out (they change no output); ``--sample N --seed S`` draws N of the rest
per block (all when N is 0 or larger); mutants listed in :data:`EQUIVALENT_FILE` are counted as
equivalent and not run. Outcomes: killed (a test failed,
or the module no longer imports), survived, timeout (counted as killed: cosmic-ray's
convention), equivalent. Score = (killed + timeout) / (run mutants - equivalent).

Outputs in ``build/mutate/``: ``summary.json`` (per block: total, eligible, sampled, killed,
survived, timeout, equivalent, score, baseline and CPU time; the pooled
``mutation_score_rtl`` / ``mutation_score_models``), ``survivors.txt`` (each survivor with its
diff). A run of some blocks keeps the other blocks' latest results.

Local runs use a pool of ``--workers`` threads, each waiting on one pytest subprocess;
``--scheduler tcp://HOST:8786`` sends every mutant to a Dask cluster instead (workers with this
repository installed, as for ``qkdsim campaign``).

Exit status 0; 1 if a block's unmutated tests failed (or, with ``--survivors``, its earlier
survivors name no mutant of the changed source); 2 on bad input (unknown block, malformed
equivalence file).
"""

from __future__ import annotations

import argparse
import ast
import difflib
import json
import random
import shlex
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from sim.mutant_import import STATUS_PREFIX, module_name

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "mutate"
EQUIVALENT_FILE = ROOT / "tests" / "mutation_equivalent.toml"
SUMMARY = "summary.json"
SURVIVORS = "survivors.txt"
TIMEOUT_FACTOR = 3
TIMEOUT_MARGIN_S = 30.0
PYTEST_ARGS = ("-q", "-x", "-p", "no:cacheprovider", "-p", "no:xdist", "-p", "no:randomly",
               "-m", "not cocotb and not slow")
DIFF_CONTEXT = 1
# pytest exit statuses that kill a mutant: tests failed, collection broke (the module no longer
# imports), pytest's internal error; 4 (usage), 5 (no tests) and 90 (module not imported,
# sim.mutant_import.NOT_IMPORTED) are set-up errors.
KILLING_STATUS = ("1", "2", "3")


class MutateError(ValueError):
    """Bad input to the mutation run (block name, equivalence file)."""


class BaselineError(RuntimeError):
    """A block's unmutated tests fail: its mutants would say nothing."""


class StaleDrawError(BaselineError):
    """``--survivors`` of a block whose source changed since the draw that made them."""


@dataclass(frozen=True)
class Block:
    """One unit under mutation: a source file and the tests that check it."""

    source: str  # repository-relative path of the mutated module
    tests: tuple[str, ...]  # its Amaranth-simulator and model tests

    @property
    def name(self) -> str:
        return self.source.removesuffix(".py")

    @property
    def kind(self) -> str:
        return self.source.split("/", 1)[0]  # "rtl" or "models"

    def test_files(self) -> list[str]:
        """The listed tests plus ``tests/<area>/test_<stem>_{mutants,edges}.py`` where present:
        tests written to kill this block's survivors or probe its edges join its run."""
        files = list(self.tests)
        areas = {Path(t).parent for t in self.tests}
        stem = Path(self.source).stem
        for area in sorted(areas):
            for suffix in ("mutants", "edges"):
                extra = area / f"test_{stem}_{suffix}.py"
                if (ROOT / extra).exists() and str(extra) not in files:
                    files.append(str(extra))
        return files


def _blocks(*rows: tuple[str, Sequence[str]]) -> dict[str, Block]:
    table = {}
    for source, tests in rows:
        block = Block(source, tuple(tests))
        table[block.name] = block
    return table


_SAT = "tests/satellite/"
_GND = "tests/ground/"
_SIFT = "tests/sifting/"
_PP = "tests/postprocess/"
_CH = "tests/channel/"
_LINK = "tests/link/"
_MEM = "tests/memory/"
# Block -> tests: each RTL block's unit tests (pysim body and directed cases) and each golden
# model's tests. The cocotb and slow cases in these files are deselected by PYTEST_ARGS.
BLOCKS: dict[str, Block] = _blocks(
    ("rtl/satellite/mapper.py", [_SAT + "test_mapper.py"]),
    ("rtl/satellite/health.py", [_SAT + "test_health.py"]),
    ("rtl/satellite/framer.py", [_SAT + "test_framer.py"]),
    ("rtl/satellite/rnd_cache.py", [_SAT + "test_rnd_cache.py"]),
    ("rtl/satellite/timebase.py", [_SAT + "test_timebase.py"]),
    ("rtl/satellite/gearbox.py", [_SAT + "test_gearbox.py"]),
    ("rtl/satellite/transmitter.py", [_SAT + "test_timebase.py"]),
    ("rtl/ground/sync.py", [_GND + "test_sync.py"]),
    ("rtl/ground/squash.py", [_GND + "test_squash_rtl.py"]),
    ("rtl/ground/indexer.py", [_GND + "test_indexer_rtl.py"]),
    ("rtl/ground/histogram.py", [_GND + "test_histogram_rtl.py"]),
    ("rtl/ground/sync_join.py", [_GND + "test_sync_join.py"]),
    ("rtl/ground/tdc.py", [_GND + "test_tdc_rtl.py"]),
    ("rtl/ground/tdc_calibration.py", [_GND + "test_tdc_calibration.py"]),
    ("rtl/ground/tdc_merge.py", [_GND + "test_tdc_merge.py"]),
    ("rtl/ground/time_tagger.py", [_GND + "test_time_tagger.py"]),
    ("rtl/ground/carry_chain.py", [_GND + "test_carry_chain.py"]),
    ("rtl/ground/strobe_guard.py", [_GND + "test_strobe_guard.py"]),
    ("rtl/sifting/crc_append.py", [_SIFT + "test_crc_append.py"]),
    ("rtl/sifting/message_intake.py", [_SIFT + "test_message_intake.py"]),
    ("rtl/sifting/message_ring.py", [_SIFT + "test_message_ring.py"]),
    ("rtl/sifting/sift_receiver.py", [_SIFT + "test_sift_receiver.py"]),
    ("rtl/sifting/sift_sender.py", [_SIFT + "test_sift_sender.py"]),
    ("rtl/sifting/uplink_framer.py", [_SIFT + "test_uplink_framer.py"]),
    ("rtl/sifting/uplink_receiver.py", [_SIFT + "test_uplink_receiver.py"]),
    ("rtl/sifting/satellite_sift.py", [_SIFT + "test_rtl.py"]),
    ("rtl/sifting/ground_sift.py", [_SIFT + "test_rtl.py"]),
    ("rtl/sifting/ground_report.py", [_SIFT + "test_rtl.py"]),
    ("rtl/sifting/sifter.py", [_SIFT + "test_rtl.py"]),
    ("rtl/sifting/layouts.py", [_SIFT + "test_layouts.py"]),
    ("rtl/sifting/link_layer.py", [_SIFT + "test_ground_store.py", _SIFT + "test_link_layer.py"]),
    ("rtl/common/payload.py", ["tests/common/test_payload.py"]),
    ("rtl/e2e/signature.py", ["tests/e2e/test_e2e_blocks.py"]),
    *((f"rtl/simonly/{m}.py", ["tests/simonly/test_sim_blocks.py"])
      for m in ("qrng_source", "xorshift")),
    ("rtl/common/crc.py", ["tests/common/test_crc_mutants.py", _SAT + "test_framer.py"]),
    ("rtl/common/streams.py", [_GND + "test_tdc_merge.py", "tests/common/test_streams.py"]),
    ("rtl/common/forward.py", ["tests/common/test_forward_mutants.py"]),
    ("rtl/common/crossings.py", ["tests/common/test_crossings.py"]),
    ("rtl/link/aligner.py", [_LINK + "test_aligner.py"]),
    ("rtl/link/deframer.py", [_LINK + "test_deframer.py"]),
    ("rtl/link/rx.py", [_LINK + "test_rx.py"]),
    ("rtl/link/tx.py", [_LINK + "test_tx.py"]),
    ("rtl/link/scrambler.py", [_LINK + "test_tx.py", _LINK + "test_aligner.py"]),
    ("models/symbols.py", [_SAT + "test_mapper.py"]),
    ("models/health.py", [_SAT + "test_health.py"]),
    ("models/framing.py", [_SAT + "test_framer.py"]),
    ("models/rnd_cache.py", [_SAT + "test_rnd_cache.py"]),
    ("models/ground/sync.py", [_GND + "test_sync.py", _GND + "test_sync_model_mutants.py"]),
    ("models/ground/squash.py", [_GND + "test_calibration_squash.py", _GND + "test_squash_rtl.py"]),
    ("models/ground/calibration.py", [_GND + "test_calibration_squash.py",
                                      _GND + "test_histogram_rtl.py"]),
    ("models/ground/timing.py", [_GND + "test_timing_model.py", _GND + "test_link_faults.py",
                                 _GND + "test_timing_model_mutants.py"]),
    ("models/ground/sync_join.py", [_GND + "test_sync_join.py",
                                    _GND + "test_sync_join_model_mutants.py"]),
    ("models/ground/tdc.py", [_GND + "test_tdc_model.py"]),
    ("models/ground/tdc_calibration.py", [_GND + "test_tdc_calibration.py",
                                          _GND + "test_tdc_calibration_model_mutants.py"]),
    ("models/ground/tdc_merge.py", [_GND + "test_tdc_merge.py",
                                    _GND + "test_tdc_merge_model_mutants.py"]),
    ("models/ground/time_tagger.py", [_GND + "test_time_tagger.py"]),
    ("models/ground/strobe_guard.py", [_GND + "test_strobe_guard.py",
                                       _GND + "test_strobe_guard_model_mutants.py"]),
    ("models/ground/stimulus.py", [_GND + "test_timing_model.py",
                                   _GND + "test_stimulus_model_mutants.py"]),
    *((f"models/sifting/{m}.py", [_SIFT + "test_models.py", _SIFT + "test_message_edges.py"])
      for m in ("classical_link", "entries", "messages", "packets")),
    ("models/postprocess/qc_decoder.py", [_PP + "test_qc_decoder.py",
                                          _PP + "test_qc_decoder_model_mutants.py"]),
    ("models/postprocess/pipeline.py", [_PP + "test_pipeline.py",
                                        _PP + "test_pipeline_model_mutants.py"]),
    ("models/postprocess/toeplitz.py", [_PP + "test_toeplitz.py",
                                        _PP + "test_toeplitz_model_mutants.py"]),
    ("models/postprocess/relay.py", [_PP + "test_relay.py", _PP + "test_relay_model_mutants.py"]),
    ("models/postprocess/qc_code.py", [_PP + "test_qc_code.py",
                                       _PP + "test_qc_code_model_mutants.py"]),
    ("models/postprocess/finitekey.py", [_PP + "test_finitekey.py",
                                         _PP + "test_finitekey_model_mutants.py"]),
    ("models/postprocess/ec.py", [_PP + "test_ec.py", _PP + "test_ec_model_mutants.py"]),
    ("models/postprocess/auth.py", [_PP + "test_auth.py", _PP + "test_auth_model_mutants.py"]),
    *((f"models/postprocess/{m}.py", [_PP + "test_relay.py", f"{_PP}test_{m}_model_mutants.py"])
      for m in ("aes", "ledger")),
    ("models/postprocess/private_file.py", [_PP + "test_relay.py"]),
    ("models/postprocess/keyfile.py", [_PP + "test_cli.py", "tests/test_bad_input.py",
                                       _PP + "test_keyfile_model_mutants.py"]),
    ("models/postprocess/rand.py", [_PP + "test_rand_model_mutants.py",
                                    _PP + "test_pipeline_model_mutants.py"]),
    ("models/postprocess/synthetic.py", [_PP + "test_ec.py",
                                         _PP + "test_synthetic_model_mutants.py"]),
    *((f"models/link/{m}.py", ["tests/link/test_models.py"])
      for m in ("framing", "line_code")),
    ("models/link/receiver.py", ["tests/link/test_models.py",
                                 "tests/link/test_receiver_model_mutants.py"]),
    ("models/link/channel.py", ["tests/link/test_models.py",
                                "tests/link/test_channel_model_mutants.py"]),
    ("models/transmitter.py", [_SAT + "test_gearbox.py",
                               _SAT + "test_transmitter_model_mutants.py"]),
    ("models/patterns.py", [_SAT + "test_timebase.py", _SAT + "test_patterns_model_mutants.py"]),
    ("models/qrng.py", [_SAT + "test_timebase.py", _SAT + "test_mapper.py",
                        _SAT + "test_qrng_model_mutants.py"]),
    ("models/clocks.py", ["tests/simonly/test_clock_schedules.py",
                          "tests/simonly/test_clocks_model_mutants.py"]),
    ("models/channel/calibrate.py", [_CH + "test_calibration.py"]),
    ("models/channel/config.py", [_CH + "test_config.py", _CH + "test_config_model_mutants.py"]),
    *((f"models/channel/{m}.py", [_CH + "test_events.py", f"{_CH}test_{m}_model_mutants.py"])
      for m in ("events", "expect")),
    *((f"models/channel/{m}.py", [_CH + "test_geometry_link_budget.py",
                                  f"{_CH}test_{m}_model_mutants.py"])
      for m in ("geometry", "link_budget")),
    ("models/channel/passmodel.py", [_CH + "test_pass_run.py"]),
    ("rtl/common/counters.py", ["tests/common/test_counters_mutants.py",
                                _GND + "test_strobe_guard.py"]),
    ("rtl/memory/dram_cache.py", [_MEM + "test_memories.py"]),
    ("rtl/memory/dram_store.py", [_MEM + "test_memories.py", _MEM + "test_dram_cache_mutants.py"]),
    ("rtl/memory/memories.py", [_MEM + "test_dram_cache_mutants.py",
                                _MEM + "test_dram_store_mutants.py"]),
    ("rtl/memory/litedram.py", [_MEM + "test_litedram_mutants.py"]),
    ("models/memory/flight.py", [_MEM + "test_flight_sizes.py", _MEM + "test_memories.py",
                                 _MEM + "test_flight_model_mutants.py"]),
    ("models/link/cdr.py", [_LINK + "test_cdr.py", _LINK + "test_cdr_model_mutants.py"]),
    ("rtl/distill/syndrome.py", ["tests/distill/test_syndrome.py"]),
    ("rtl/distill/codes.py", ["tests/distill/test_syndrome.py"]),
    ("rtl/distill/auth.py", ["tests/distill/test_auth.py"]),
    ("rtl/distill/confirm.py", ["tests/distill/test_crc.py"]),
    ("rtl/distill/toeplitz.py", ["tests/distill/test_toeplitz.py"]),
)


@dataclass(frozen=True)
class Mutant:
    """One cosmic-ray work item with a location-based id that survives re-initialisation."""

    id: str  # path:line:col:operator[#k]
    job_id: str  # the item's id in the block's work database
    path: str
    operator: str
    operator_args: dict[str, Any]
    occurrence: int


@dataclass
class BlockResult:
    """Counts of one block's run (``summary.json``)."""

    kind: str
    source: str
    tests: list[str]
    total: int = 0  # every mutant cosmic-ray makes of the file
    eligible: int = 0  # without those inside type annotations and assertions
    sampled: int = 0
    killed: int = 0
    survived: int = 0
    timeout: int = 0
    equivalent: int = 0
    errors: int = 0
    score: float | None = None
    seed: int = 0
    sample: int = 0
    baseline_s: float = 0.0
    timeout_s: float = 0.0
    cpu_s: float = 0.0
    survivors: list[dict[str, str]] = field(default_factory=list)
    equivalents: list[dict[str, str]] = field(default_factory=list)
    error_ids: list[str] = field(default_factory=list)

    def finish(self) -> None:
        scored = self.killed + self.timeout + self.survived
        self.score = round((self.killed + self.timeout) / scored, 4) if scored else None


def load_equivalents(path: Path = EQUIVALENT_FILE, root: Path = ROOT) -> dict[str, str]:
    """``{mutant id: one-line reason}`` from the equivalence file (absent: none).

    An entry names its mutant by ``id`` (path:line:col:operator[#k]) and ``code``, the stripped
    text of the mutated source line. The line number is looked up again from ``code`` (the
    matching line nearest the recorded one), so edits elsewhere in the file do not make an
    entry stale; an entry whose ``code`` is no longer in the file keeps its recorded id, which
    then names no mutant and fails the equivalence-file test.
    """
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise MutateError(f"{path.name}: not TOML: {exc}") from None
    entries = data.get("equivalent", [])
    if not isinstance(entries, list):
        raise MutateError(f"{path.name}: 'equivalent' must be an array of tables")
    found: dict[str, str] = {}
    for n, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or set(entry) != {"id", "code", "reason"}:
            raise MutateError(
                f"{path.name}: entry {n} needs exactly the keys 'id', 'code' and 'reason'")
        reason = entry["reason"]
        if not isinstance(reason, str) or not reason.strip() or "\n" in reason:
            raise MutateError(f"{path.name}: entry {n} ({entry['id']}) needs a one-line reason")
        mutant_id = relocate_id(entry["id"], entry["code"], root)
        if mutant_id in found:
            raise MutateError(f"{path.name}: entry {n} repeats {mutant_id}")
        found[mutant_id] = reason
    return found


def relocate_id(mutant_id: str, code: str, root: Path = ROOT) -> str:
    """``mutant_id`` with its line number moved to the line of ``root / path`` whose stripped
    text is ``code`` (the one nearest the recorded line); unchanged when no line matches."""
    try:
        path, line, rest = mutant_id.split(":", 2)
        recorded = int(line)
    except ValueError:
        return mutant_id
    source = root / path
    if not source.is_file():
        return mutant_id
    lines = source.read_text(encoding="utf-8").splitlines()
    matches = [n for n, text in enumerate(lines, 1) if text.strip() == code.strip()]
    if not matches:
        return mutant_id
    nearest = min(matches, key=lambda n: (abs(n - recorded), n))
    return f"{path}:{nearest}:{rest}"


def inert_spans(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(start, end) positions of function annotations (parameters, returns, local variables)
    and ``assert`` statements: a mutant there changes no output (nothing reads a function's
    annotations; an assertion guards an elaboration-time invariant that holds for every
    parameter the design accepts). Class-level annotations stay: they are wiring signatures."""
    spans = []
    for node in ast.walk(ast.parse(source)):
        notes: list[ast.AST | None] = []
        if isinstance(node, ast.Assert):
            notes.append(node)
        elif isinstance(node, ast.arg):
            notes.append(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            notes.append(node.returns)
            notes.extend(n.annotation for n in ast.walk(node) if isinstance(n, ast.AnnAssign))
        spans.extend(((n.lineno, n.col_offset), (n.end_lineno or n.lineno, n.end_col_offset or 0))
                     for n in notes if n is not None)
    return spans


def _inside(pos: tuple[int, int], spans: Iterable[tuple[tuple[int, int], tuple[int, int]]]
            ) -> bool:
    return any(start <= pos < end for start, end in spans)


def work_db_path(block: Block, out: Path = OUT) -> Path:
    return out / (block.name.replace("/", "_") + ".sqlite")


def enumerate_mutants(block: Block, out: Path = OUT) -> tuple[int, list[Mutant]]:
    """Initialise the block's cosmic-ray work database; return (all mutants, those outside
    annotations and assertions) in source order; those are marked skipped there."""
    from cosmic_ray.commands import init
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    out.mkdir(parents=True, exist_ok=True)
    source = (ROOT / block.source).read_text(encoding="utf-8")
    spans = inert_spans(source)
    with use_db(str(work_db_path(block, out)), WorkDB.Mode.create) as db:
        init([Path(block.source)], db, {})
        items = sorted(db.work_items, key=lambda w: (w.mutations[0].start_pos,
                                                     w.mutations[0].operator_name,
                                                     w.mutations[0].occurrence))
        mutants: list[Mutant] = []
        skipped = []
        seen: dict[str, int] = {}
        for item in items:
            spec = item.mutations[0]
            if _inside(tuple(spec.start_pos), spans):
                skipped.append(item.job_id)
                continue
            line, col = spec.start_pos
            key = f"{block.source}:{line}:{col}:{spec.operator_name}"
            k = seen.get(key, 0)
            seen[key] = k + 1
            mutants.append(Mutant(key if k == 0 else f"{key}#{k}", item.job_id, block.source,
                                  spec.operator_name, dict(spec.operator_args), spec.occurrence))
        if skipped:
            db.set_multiple_results(skipped, WorkResult(
                worker_outcome=WorkerOutcome.SKIPPED, output="in an annotation or assertion"))
    return len(items), mutants


def mutate_source(source: str, mutant: Mutant) -> str:
    """The block's source with ``mutant`` applied."""
    from cosmic_ray.mutating import mutate_code
    from cosmic_ray.plugins import get_operator

    code = mutate_code(source, get_operator(mutant.operator)(**mutant.operator_args),
                       mutant.occurrence)
    if code is None:
        raise MutateError(f"{mutant.id}: cosmic-ray could not apply the mutation")
    return code


def unified_diff(path: str, before: str, after: str) -> str:
    return "\n".join(difflib.unified_diff(before.splitlines(), after.splitlines(),
                                          f"a/{path}", f"b/{path}", n=DIFF_CONTEXT,
                                          lineterm=""))


def sample_mutants(mutants: list[Mutant], n: int, seed: int, block: Block) -> list[Mutant]:
    """``n`` mutants drawn with a generator seeded by (seed, block): the same draw on every
    machine and whatever other blocks are run."""
    if n <= 0 or n >= len(mutants):
        return list(mutants)
    rng = random.Random(f"{seed}:{block.name}")
    return sorted(rng.sample(mutants, n), key=mutants.index)


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """Run one block's tests with ``job["source"]`` in place of ``job["module"]``: the task
    of a local thread or a Dask worker. Returns the outcome and the CPU and wall time."""
    from cosmic_ray.testing import run_tests
    from cosmic_ray.work_item import TestOutcome

    with tempfile.TemporaryDirectory(prefix="mutant-") as tmp:
        src = Path(tmp) / "mutant.py"
        src.write_text(job["source"], encoding="utf-8")
        command = [sys.executable, "-m", "sim.mutant_import", job["module"], str(src),
                   *PYTEST_ARGS, *job.get("args", ()),
                   *(str(ROOT / t) for t in job["tests"])]  # this worker's checkout
        start = time.perf_counter()
        outcome, output = run_tests(shlex.join(command), job["timeout"])
    wall = time.perf_counter() - start
    output = output or ""
    last = next((line for line in reversed(output.splitlines())
                 if line.startswith(STATUS_PREFIX)), "")
    status, _, cpu_text = last.removeprefix(STATUS_PREFIX).partition(" cpu_s=")
    cpu = float(cpu_text) if cpu_text else wall
    if outcome == TestOutcome.KILLED and output == "timeout":
        result = "timeout"
    elif outcome == TestOutcome.SURVIVED:
        result = "survived"
    elif status in KILLING_STATUS or (not status and outcome == TestOutcome.KILLED):
        result = "killed"  # no status line: the mutant broke the interpreter before pytest
    else:
        result = "error"
    return {"id": job["id"], "result": result, "wall_s": wall, "cpu_s": cpu,
            "output": output[-4000:]}


Executor = Callable[[list[dict[str, Any]]], Iterable[dict[str, Any]]]


def local_executor(workers: int) -> Executor:
    """Jobs on ``workers`` threads of this process, one pytest subprocess each."""
    def execute(jobs: list[dict[str, Any]]) -> Iterable[dict[str, Any]]:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            yield from pool.map(run_job, jobs)
    return execute


def dask_executor(scheduler: str) -> Executor:
    """Jobs as Dask tasks on the cluster at ``scheduler`` (sim.campaign's client). The
    scheduler is reached once here, so an unreachable one fails before any baseline runs."""
    from types import SimpleNamespace

    from sim.campaign.config import CampaignConfigError
    from sim.campaign.runner import _client

    settings = SimpleNamespace(workers=0, threads_per_worker=1)

    @contextmanager
    def connect() -> Iterator[Any]:
        try:
            with _client(settings, scheduler) as client:
                yield client
        except CampaignConfigError as exc:  # an unreachable scheduler: one error line
            raise MutateError(str(exc)) from None

    with connect():
        pass

    def execute(jobs: list[dict[str, Any]]) -> Iterable[dict[str, Any]]:
        from distributed import as_completed

        with connect() as client:
            futures = [client.submit(run_job, job, pure=False) for job in jobs]
            for future in as_completed(futures):
                yield future.result()
    return execute


def named_mutants(mutants: Sequence[Mutant], ids: Collection[str], block: Block
                  ) -> list[Mutant]:
    """The mutants named by ``ids`` (an earlier run's survivors); :class:`StaleDrawError` if
    one names no mutant of the current source (its line moved or changed: the earlier draw no
    longer describes the block, and a rerun of the rest would drop that survivor unseen)."""
    chosen = [m for m in mutants if m.id in ids]
    missing = sorted(set(ids) - {m.id for m in chosen})
    if missing:
        raise StaleDrawError(f"{block.name}: survivors of the earlier run name no mutant of "
                             f"the current source ({', '.join(missing)}); run its draw again")
    return chosen


def run_block(block: Block, *, sample: int, seed: int, execute: Executor,
              equivalents: dict[str, str], log: Callable[[str], None] = print,
              out: Path = OUT, only: Collection[str] | None = None) -> BlockResult:
    """Mutate one block: baseline, sample (or the mutants named in ``only``), run, record in
    the work database and the result."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import TestOutcome, WorkerOutcome, WorkResult

    tests = block.test_files()
    result = BlockResult(kind=block.kind, source=block.source, tests=tests, seed=seed,
                         sample=sample)
    source = (ROOT / block.source).read_text(encoding="utf-8")
    module = module_name(block.source)
    base = run_job({"id": "baseline", "source": source, "module": module, "tests": tests,
                    "timeout": 1800})
    if base["result"] != "survived":
        raise BaselineError(f"{block.name}: the unmutated tests do not pass "
                          f"({base['result']}): {base['output'][-300:].strip()}")
    result.baseline_s = round(base["wall_s"], 2)
    timeout = TIMEOUT_FACTOR * base["wall_s"] + TIMEOUT_MARGIN_S
    result.timeout_s = round(timeout, 1)
    result.total, mutants = enumerate_mutants(block, out)
    result.eligible = len(mutants)
    chosen = (sample_mutants(mutants, sample, seed, block) if only is None
              else named_mutants(mutants, only, block))
    result.sampled = len(chosen)
    log(f"mutate: {block.name}: {len(chosen)} of {len(mutants)} mutants "
        f"({result.total} made, {result.total - len(mutants)} in annotations or asserts), "
        f"baseline {base['wall_s']:.1f} s, limit {timeout:.0f} s")
    by_id = {m.id: m for m in chosen}
    diffs: dict[str, str] = {}
    jobs = []
    for mutant in chosen:
        mutated = mutate_source(source, mutant)
        diffs[mutant.id] = unified_diff(block.source, source, mutated)
        if mutant.id in equivalents:
            result.equivalent += 1
            result.equivalents.append({"id": mutant.id, "reason": equivalents[mutant.id]})
            continue
        jobs.append({"id": mutant.id, "source": mutated, "module": module, "tests": tests,
                     "timeout": timeout})
    outcomes = {"killed": TestOutcome.KILLED, "timeout": TestOutcome.KILLED,
                "survived": TestOutcome.SURVIVED, "error": TestOutcome.INCOMPETENT}
    with use_db(str(work_db_path(block, out)), WorkDB.Mode.open) as db:
        for done, outcome in enumerate(execute(jobs), 1):
            mutant = by_id[outcome["id"]]
            kind = outcome["result"]
            setattr(result, kind if kind != "error" else "errors",
                    getattr(result, kind if kind != "error" else "errors") + 1)
            result.cpu_s += outcome["cpu_s"]
            if kind == "survived":
                result.survivors.append({"id": mutant.id, "diff": diffs[mutant.id]})
            elif kind == "error":
                result.error_ids.append(mutant.id)
            db.set_result(mutant.job_id, WorkResult(
                worker_outcome=WorkerOutcome.NORMAL if kind != "error" else
                WorkerOutcome.ABNORMAL, test_outcome=outcomes[kind],
                output=outcome["output"], diff=diffs[mutant.id]))
            log(f"mutate:   [{done}/{len(jobs)}] {kind:8s} {outcome['wall_s']:6.1f} s "
                f"{mutant.id}")
    result.cpu_s = round(result.cpu_s, 1)
    result.finish()
    return result


def merge_rerun(previous: dict[str, Any], rerun: BlockResult) -> BlockResult:
    """A block's earlier result with its survivors replaced by their rerun (``--survivors``):
    the draw and its counts stay, survivors now killed or listed equivalent move over."""
    names = {f.name for f in fields(BlockResult)}
    merged = BlockResult(**{k: v for k, v in previous.items() if k in names})
    for count in ("killed", "timeout", "equivalent", "errors"):
        setattr(merged, count, getattr(merged, count) + getattr(rerun, count))
    merged.survived = rerun.survived
    merged.survivors = rerun.survivors
    merged.equivalents = merged.equivalents + rerun.equivalents
    merged.error_ids = merged.error_ids + rerun.error_ids
    merged.tests = rerun.tests
    merged.cpu_s = round(merged.cpu_s + rerun.cpu_s, 1)
    merged.finish()
    return merged


def pooled_score(blocks: dict[str, dict[str, Any]], kind: str) -> float | None:
    """(killed + timeout) / scored mutants over every block of ``kind``."""
    rows = [b for b in blocks.values() if b["kind"] == kind]
    scored = sum(b["killed"] + b["timeout"] + b["survived"] for b in rows)
    return round(sum(b["killed"] + b["timeout"] for b in rows) / scored, 4) if scored else None


def write_outputs(results: dict[str, BlockResult], command: str, out: Path = OUT
                  ) -> dict[str, Any]:
    """Merge ``results`` into ``summary.json`` (other blocks keep their latest results) and
    rewrite ``survivors.txt``."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / SUMMARY
    previous = json.loads(path.read_text()) if path.exists() else {}
    blocks = previous.get("blocks", {})
    for name, result in results.items():
        blocks[name] = {**asdict(result), "command": command}
    blocks = dict(sorted(blocks.items()))
    summary = {"tool": "cosmic-ray", "timeout_counts_as": "killed",
               "mutation_score_rtl": pooled_score(blocks, "rtl"),
               "mutation_score_models": pooled_score(blocks, "models"),
               "blocks": blocks}
    path.write_text(json.dumps(summary, indent=1) + "\n")
    lines = []
    for name, block in blocks.items():
        for survivor in block["survivors"]:
            lines += [f"== {name}: {survivor['id']}", survivor["diff"], ""]
    (out / SURVIVORS).write_text("\n".join(lines))
    return summary


def score_table(summary: dict[str, Any]) -> str:
    """The per-block table of docs/testing.md."""
    rows = ["| block | mutants (eligible) | run | killed | timeout | survived | equivalent "
            "| score | CPU s |", "|---|---|---|---|---|---|---|---|---|"]
    for name, b in summary["blocks"].items():
        score = "-" if b["score"] is None else f"{100 * b['score']:.0f} %"
        rows.append(f"| `{name}` | {b['eligible']} | {b['sampled']} | {b['killed']} | "
                    f"{b['timeout']} | {b['survived']} | {b['equivalent']} | {score} | "
                    f"{b['cpu_s']:.0f} |")
    return "\n".join(rows)


def select_blocks(names: Sequence[str]) -> list[Block]:
    """Blocks by name (``rtl/ground/sync``), by prefix (``rtl/ground``), or all."""
    if not names:
        return list(BLOCKS.values())
    chosen: dict[str, Block] = {}
    for name in names:
        key = name.removesuffix(".py").rstrip("/")
        hits = [b for n, b in BLOCKS.items() if n == key or n.startswith(key + "/")]
        if not hits:
            raise MutateError(f"unknown block {name!r}; known: {', '.join(BLOCKS)}")
        chosen.update((b.name, b) for b in hits)
    return list(chosen.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.mutate",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("blocks", nargs="*", metavar="BLOCK",
                        help="blocks or areas (rtl/ground/sync, models/ground); default: all")
    parser.add_argument("--sample", type=int, default=0,
                        help="mutants drawn per block (0: all)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the draw")
    parser.add_argument("--workers", type=int, default=1, help="local parallel mutants")
    parser.add_argument("--scheduler", default="", help="Dask scheduler address")
    parser.add_argument("--survivors", action="store_true",
                        help="rerun only the survivors of each block's latest run")
    parser.add_argument("--list", action="store_true", help="list blocks and their tests")
    parser.add_argument("--table", action="store_true",
                        help="print the score table of the latest summary")
    args = parser.parse_args(argv)
    try:
        if args.list:
            for block in select_blocks(args.blocks):
                print(f"{block.name}: {' '.join(block.test_files())}")
            return 0
        if args.table:
            print(score_table(json.loads((OUT / SUMMARY).read_text())))
            return 0
        if args.sample < 0 or args.workers < 1:
            raise MutateError("--sample must be >= 0 and --workers >= 1")
        blocks = select_blocks(args.blocks)
        equivalents = load_equivalents()
        execute = (dask_executor(args.scheduler) if args.scheduler
                   else local_executor(args.workers))
        command = "python -m sim.mutate " + shlex.join(argv if argv is not None
                                                        else sys.argv[1:])
        previous = (json.loads((OUT / SUMMARY).read_text())["blocks"]
                    if (OUT / SUMMARY).exists() else {})
        if args.survivors:
            missing = [b.name for b in blocks if b.name not in previous]
            if missing:
                raise MutateError(f"no earlier run to take survivors from: {', '.join(missing)}")
        failed = []
        summary = {}
        for block in blocks:
            try:
                if args.survivors:
                    earlier = previous[block.name]
                    block_command = earlier["command"]  # the draw that made these survivors
                    rerun = run_block(block, sample=0, seed=args.seed, execute=execute,
                                      equivalents=equivalents,
                                      only={s["id"] for s in earlier["survivors"]})
                    result = merge_rerun(earlier, rerun)
                else:
                    block_command = command
                    result = run_block(block, sample=args.sample, seed=args.seed,
                                       execute=execute, equivalents=equivalents)
            except BaselineError as exc:
                print(f"mutate: {exc}", file=sys.stderr, flush=True)
                failed.append(block.name)
                continue
            summary = write_outputs({block.name: result}, block_command)
            score = "-" if result.score is None else f"{100 * result.score:.1f} %"
            print(f"mutate: {block.name}: killed {result.killed}, timeout {result.timeout}, "
                  f"survived {result.survived}, equivalent {result.equivalent}, "
                  f"errors {result.errors}: score {score}", flush=True)
    except (MutateError, FileNotFoundError) as exc:
        print(f"mutate: {exc}", file=sys.stderr)
        return 2
    if summary:
        print(f"mutate: rtl {summary['mutation_score_rtl']}, models "
              f"{summary['mutation_score_models']} -> {OUT / SUMMARY}")
    if failed:
        print(f"mutate: left out (reasons above): {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
