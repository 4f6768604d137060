"""Runs pytest with one module of the repository replaced by a mutant's source.

``python -m sim.mutant_import MODULE SOURCE [PYTEST_ARG ...]``: an import hook ahead of the
normal path finders serves ``MODULE`` (``rtl.ground.sync``) from the file ``SOURCE`` (the
mutated text), compiled under the module's own path so tracebacks and Amaranth's source
locations point at the real file. The checkout on disk is never written, so several mutants of
the same block can run at once, and every test that imports the module (directly or through
``tb/``) elaborates the mutant: a mutant in an ``elaborate()`` changes the circuit the Amaranth
simulator runs.

Exit status: pytest's, except :data:`NOT_IMPORTED` when the tests never imported ``MODULE``
(their result would say nothing about the mutant); the last line of the output repeats it with
the CPU time of the run.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import resource
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOT_IMPORTED = 90  # outside pytest's exit codes 0-5
NOT_IMPORTED_MESSAGE = "mutant_import: the tests never imported"
STATUS_PREFIX = "mutant_import: status="  # the last line: exit status and CPU seconds


class MutantLoader(importlib.abc.Loader):
    """Executes the mutated source in place of the module's file."""

    def __init__(self, source: str, path: Path) -> None:
        self.source = source
        self.path = path
        self.loaded = False

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None  # the default module object

    def exec_module(self, module: types.ModuleType) -> None:
        self.loaded = True
        # dont_inherit: this file's ``from __future__ import annotations`` must not turn the
        # mutant's class annotations (wiring signatures) into strings.
        exec(compile(self.source, str(self.path), "exec", dont_inherit=True), module.__dict__)

    def get_source(self, name: str) -> str:
        return self.source


class MutantFinder(importlib.abc.MetaPathFinder):
    """Finds ``name`` through :class:`MutantLoader`, every other module as usual."""

    def __init__(self, name: str, loader: MutantLoader) -> None:
        self.name = name
        self.loader = loader

    def find_spec(self, fullname: str, path: object = None,
                  target: object = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.name:
            return None
        return importlib.util.spec_from_file_location(fullname, self.loader.path,
                                                      loader=self.loader)


def module_name(path: str) -> str:
    """``rtl/ground/sync.py`` -> ``rtl.ground.sync``."""
    return ".".join(Path(path).with_suffix("").parts)


def run(module: str, source: Path, pytest_args: list[str]) -> int:
    """pytest on ``pytest_args`` with ``module`` served from ``source``."""
    if module in sys.modules:
        raise RuntimeError(f"{module} was imported before the mutant could replace it")
    path = ROOT.joinpath(*module.split(".")).with_suffix(".py")
    loader = MutantLoader(source.read_text(encoding="utf-8"), path)
    sys.meta_path.insert(0, MutantFinder(module, loader))
    # numba's cache is keyed by file path and time stamp: a kernel compiled from the original
    # source would be loaded for the mutant. The mutant's own directory starts empty.
    os.environ["NUMBA_CACHE_DIR"] = str(source.parent)
    status = int(pytest.main(pytest_args))
    if status == 0 and not loader.loaded:
        print(f"{NOT_IMPORTED_MESSAGE} {module}")
        status = NOT_IMPORTED
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(f"{STATUS_PREFIX}{status} cpu_s={usage.ru_utime + usage.ru_stime:.2f}", flush=True)
    return status


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 2:
        print("usage: python -m sim.mutant_import MODULE SOURCE [PYTEST_ARG ...]",
              file=sys.stderr)
        return 2
    return run(args[0], Path(args[1]), args[2:])


if __name__ == "__main__":
    sys.exit(main())
