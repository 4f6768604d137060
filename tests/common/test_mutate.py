"""``make mutate`` (sim/mutate.py): the block -> tests map, the equivalence file, the draw, the
outputs, and that a mutant really replaces the module its block's tests elaborate."""

import json
from pathlib import Path

import pytest

from sim import bench_mutate
from sim.mutant_import import module_name
from sim.mutate import (
    BLOCKS,
    EQUIVALENT_FILE,
    ROOT,
    BlockResult,
    MutateError,
    StaleDrawError,
    enumerate_mutants,
    inert_spans,
    load_equivalents,
    merge_rerun,
    mutate_source,
    named_mutants,
    run_job,
    sample_mutants,
    select_blocks,
    write_outputs,
)

MAPPER = BLOCKS["rtl/satellite/mapper"]


def test_every_block_names_existing_source_and_tests():
    for block in BLOCKS.values():
        assert (ROOT / block.source).is_file(), block.source
        assert block.kind in ("rtl", "models")
        for test in block.test_files():
            assert (ROOT / test).is_file(), test
            assert "cocotb" not in Path(test).name
            # tests/e2e holds the co-simulations; only its Amaranth-simulator block tests serve.
            name = Path(test).name
            assert "e2e" not in test or name == "test_e2e_blocks.py" or \
                name.endswith("_mutants.py")


def test_select_by_block_and_area_and_unknown_names():
    assert [b.name for b in select_blocks(["rtl/satellite/mapper.py"])] == [MAPPER.name]
    area = select_blocks(["rtl/satellite"])
    assert len(area) > 1 and all(b.source.startswith("rtl/satellite/") for b in area)
    with pytest.raises(MutateError, match="unknown block 'rtl/nowhere'"):
        select_blocks(["rtl/nowhere"])


def test_equivalence_file_entries_name_mutants_of_the_current_sources(tmp_path):
    equivalents = load_equivalents()
    blocks = {i.split(":", 1)[0].removesuffix(".py") for i in equivalents}
    for name in blocks:
        _, mutants = enumerate_mutants(BLOCKS[name], tmp_path)
        ids = {m.id for m in mutants}
        stale = [i for i in equivalents if i.startswith(name + ".py:") and i not in ids]
        assert not stale, f"{EQUIVALENT_FILE.name} names mutants that no longer exist: {stale}"


@pytest.mark.parametrize(("text", "error"), [
    ("equivalent = 3", "must be an array of tables"),
    ('[[equivalent]]\nid = "a.py:1:0:x"', "needs exactly the keys"),
    ('[[equivalent]]\nid = "a.py:1:0:x"\ncode = "c"\nreason = ""', "needs a one-line reason"),
    ('[[equivalent]]\nid = "a"\ncode = "c"\nreason = "r"\n'
     '[[equivalent]]\nid = "a"\ncode = "c"\nreason = "r"', "repeats a"),
    ("[[equivalent", "not TOML"),
])
def test_malformed_equivalence_file_is_one_error(tmp_path, text, error):
    path = tmp_path / "eq.toml"
    path.write_text(text)
    with pytest.raises(MutateError, match=error):
        load_equivalents(path)


def test_equivalence_entries_follow_their_source_line_when_code_moves(tmp_path):
    (tmp_path / "block.py").write_text("x = 1\ny = a & b\nz = 2\ny = a & b\n")
    eq = tmp_path / "eq.toml"
    eq.write_text('[[equivalent]]\nid = "block.py:1:4:op"\ncode = "y = a & b"\nreason = "r"\n'
                  '[[equivalent]]\nid = "block.py:9:4:op"\ncode = "  y = a & b "\nreason = "r"\n'
                  '[[equivalent]]\nid = "block.py:3:4:op"\ncode = "gone = 0"\nreason = "r"\n')
    assert set(load_equivalents(eq, root=tmp_path)) == {
        "block.py:2:4:op",  # nearest of the two matching lines to the recorded line 1
        "block.py:4:4:op",  # nearest to line 9
        "block.py:3:4:op",  # text gone: the recorded id stays and names no mutant
    }


def test_function_annotations_and_asserts_are_inert_class_annotations_are_not():
    source = ("def f(x: int | None) -> int | str:\n    assert x > 0\n    return x + 1\n"
              "class C:\n    o: Out(8 + 1)\n")
    spans = inert_spans(source)
    assert ((1, 9), (1, 19)) in spans and ((1, 24), (1, 33)) in spans
    assert ((2, 4), (2, 16)) in spans
    assert not any(start <= (3, 13) < end for start, end in spans)
    assert not any(start <= (5, 11) < end for start, end in spans)


def test_draw_is_seeded_per_block_and_keeps_source_order(tmp_path):
    total, mutants = enumerate_mutants(MAPPER, tmp_path)
    assert total > len(mutants) > 20
    first = sample_mutants(mutants, 10, 1, MAPPER)
    assert first == sample_mutants(mutants, 10, 1, MAPPER)
    assert first != sample_mutants(mutants, 10, 2, MAPPER)
    assert first == sorted(first, key=mutants.index)
    assert sample_mutants(mutants, 0, 1, MAPPER) == mutants
    assert len({m.id for m in mutants}) == len(mutants)
    # --survivors: the earlier survivors again; one that names no current mutant is an error.
    assert named_mutants(mutants, {first[3].id, first[1].id}, MAPPER) == [first[1], first[3]]
    with pytest.raises(StaleDrawError, match=r"mapper\.py:9999:0:x"):
        named_mutants(mutants, {first[1].id, "rtl/satellite/mapper.py:9999:0:x"}, MAPPER)


def _job(source: str, tests: list[str], args: tuple[str, ...] = ("-k", "one_lane")) -> dict:
    return {"id": "t", "source": source, "module": module_name(MAPPER.source),
            "tests": tests, "args": args, "timeout": 600}


def test_a_mutant_in_elaborate_changes_the_simulated_circuit(tmp_path):
    """The unmutated mapper passes its one-lane test through the import hook; the same test
    kills a mutant of the phase-code register index inside ``elaborate()``."""
    source = (ROOT / MAPPER.source).read_text()
    lines = source.splitlines()
    tests = list(MAPPER.tests)
    assert run_job(_job(source, tests))["result"] == "survived"
    _, mutants = enumerate_mutants(MAPPER, tmp_path)
    index = next(m for m in mutants if m.operator.endswith("_Add_Sub")
                 and "(basis.as_value() << 1) + bit" in lines[int(m.id.split(":")[1]) - 1])
    mutated = mutate_source(source, index)
    line = int(index.id.split(":")[1]) - 1
    assert mutated.splitlines()[line] != lines[line]
    assert run_job(_job(mutated, tests))["result"] == "killed"


def test_tests_that_never_import_the_module_are_an_error(tmp_path):
    test = tmp_path / "test_other.py"
    test.write_text("def test_nothing():\n    assert True\n")
    outcome = run_job(_job((ROOT / MAPPER.source).read_text(), [str(test)], ()))
    assert outcome["result"] == "error"
    assert "never imported rtl.satellite.mapper" in outcome["output"]
    deselected = run_job(_job((ROOT / MAPPER.source).read_text(), [str(test)]))
    assert deselected["result"] == "error"


def test_outputs_merge_blocks_and_pool_scores(tmp_path):
    a = BlockResult(kind="rtl", source="rtl/a.py", tests=[], sampled=10, killed=8, survived=2,
                    survivors=[{"id": "rtl/a.py:1:0:x", "diff": "-a\n+b"}])
    b = BlockResult(kind="models", source="models/b.py", tests=[], sampled=4, killed=3,
                    timeout=1)
    for r in (a, b):
        r.finish()
    write_outputs({"rtl/a": a}, "one", tmp_path)
    summary = write_outputs({"models/b": b}, "two", tmp_path)
    assert set(summary["blocks"]) == {"rtl/a", "models/b"}
    assert summary["mutation_score_rtl"] == 0.8 and summary["mutation_score_models"] == 1.0
    assert "rtl/a.py:1:0:x" in (tmp_path / "survivors.txt").read_text()
    assert json.loads((tmp_path / "summary.json").read_text()) == summary
    rerun = BlockResult(kind="rtl", source="rtl/a.py", tests=["t"], killed=1, equivalent=1)
    merged = merge_rerun(summary["blocks"]["rtl/a"], rerun)
    assert (merged.sampled, merged.killed, merged.survived, merged.equivalent) == (10, 9, 0, 1)
    assert merged.score == 1.0 and merged.survivors == []
    rows = {r["name"]: r for r in bench_mutate.rows(summary, "test")}
    assert rows["mutation_score_rtl"]["value"] == 80.0
    assert rows["mutation_score_rtl"]["weakest_block"] == "rtl/a"
