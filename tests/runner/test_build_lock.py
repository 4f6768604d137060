"""The per-case build-directory lock of tb.runner: re-entrant in a process, exclusive across."""

import subprocess
import sys

import pytest

from tb import runner


@pytest.fixture
def build_root(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "BUILD_ROOT", tmp_path)
    return tmp_path


def test_nested_holders_in_one_process_do_not_wait_for_themselves(build_root):
    with runner.locked_build_dir("case", "icarus") as outer:
        with runner.locked_build_dir("case", "icarus") as inner:
            assert inner == outer == build_root / "case" / "icarus"
        assert runner._HELD_BUILD_DIRS[outer] == 1
    assert outer not in runner._HELD_BUILD_DIRS


def test_another_process_waits_until_the_holder_leaves(build_root):
    # The child tries a non-blocking lock while this process holds the directory, then again
    # after it is released: busy, then free.
    probe = (
        "import fcntl, sys\n"
        f"f = open({str(build_root / 'case' / 'verilator' / 'build.lock')!r}, 'w')\n"
        "try:\n"
        "    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
        "    print('free')\n"
        "except BlockingIOError:\n"
        "    print('busy')\n"
    )
    with runner.locked_build_dir("case", "verilator"):
        held = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                              check=True).stdout.strip()
    released = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                              check=True).stdout.strip()
    assert (held, released) == ("busy", "free")


def test_a_failing_block_releases_the_lock(build_root):
    with pytest.raises(RuntimeError), runner.locked_build_dir("case", "icarus"):
        raise RuntimeError("build failed")
    with runner.locked_build_dir("case", "icarus"):
        pass
    assert runner._HELD_BUILD_DIRS == {}
