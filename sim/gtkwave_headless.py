"""Open a GTKWave save file headless (Xvfb) and report what GTKWave shows; optionally a PNG.

GTKWave runs the Tcl script of ``-S`` once the save file is loaded; the script lets the GUI
settle (``gtkwave::nop`` flushes GTK's event queue), writes the displayed signals, the number
of facilities and the visible time range to a file, takes a screenshot of the X screen with
``xwd`` if asked, and quits. Xvfb picks a free display itself (``-displayfd``) and is stopped
when the block ends; every subprocess runs under a timeout::

    view = open_headless(Path("build/cocotb/e2e_waves/verilator/e2e.gtkw"), png=Path("e2e.png"))
    view.displayed   # ["top.clk", "top.now[47:0]", ...], aliases resolved to the real names

Needs the Debian packages ``gtkwave``, ``xvfb``, ``x11-apps`` (``xwd``) and ``imagemagick``
(``convert``), installed by ``tools/bootstrap.sh``.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sim.wave_views import WINDOW

TOOLS = {"gtkwave": "gtkwave", "Xvfb": "xvfb", "xwd": "x11-apps", "convert": "imagemagick"}
XVFB_START_S = 30
GTKWAVE_S = 180  # loading a 100k-cycle FST of the e2e top takes a few seconds
SETTLE_NOPS = 20  # GUI passes before the report: the window has its size and zoom then

_SCRIPT = """\
for {{set i 0}} {{$i < {nops}}} {{incr i}} {{ gtkwave::nop }}
set out [open {{{report}}} w]
puts $out "facs [gtkwave::getNumFacs]"
puts $out "window [gtkwave::getWindowStartTime] [gtkwave::getWindowEndTime]"
puts $out "signals [gtkwave::getDisplayedSignals]"
close $out
{shot}
gtkwave::/File/Quit
"""


class GtkwaveError(RuntimeError):
    """GTKWave or Xvfb is missing, failed, or did not finish in time."""


@dataclass(frozen=True)
class GtkwaveView:
    displayed: list[str]  # signal names in display order (aliases resolved to their signals)
    facs: int  # signals in the dump
    start: int  # visible time range (dump time units)
    end: int


def missing_tools() -> list[str]:
    """Debian packages of the tools that are not on PATH."""
    return [package for tool, package in TOOLS.items() if shutil.which(tool) is None]


@contextlib.contextmanager
def xvfb(size: tuple[int, int] = WINDOW) -> Iterator[str]:
    """A headless X server on a free display for the block; yields ``":N"``."""
    read, write = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", f"{size[0]}x{size[1]}x24",
         "-nolisten", "tcp"],
        pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    os.close(write)
    try:
        ready, _, _ = select.select([read], [], [], XVFB_START_S)
        number = os.read(read, 64).decode().strip() if ready else ""
        if not number:
            raise GtkwaveError(f"Xvfb gave no display within {XVFB_START_S} s")
        yield f":{number}"
    finally:
        os.close(read)
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def _run(cmd: list[str], timeout: float, env: dict[str, str] | None = None) -> None:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise GtkwaveError(f"{cmd[0]} did not finish within {timeout:g} s") from None
    if done.returncode:
        raise GtkwaveError(f"{cmd[0]} failed (exit {done.returncode}): {done.stderr.strip()}")


def open_headless(save_file: Path, png: Path | None = None,
                  timeout_s: float = GTKWAVE_S) -> GtkwaveView:
    """Open ``save_file`` in GTKWave under Xvfb; report what it shows, write ``png`` if given."""
    missing = missing_tools()
    if missing:
        raise GtkwaveError(f"missing tools: apt-get install {' '.join(missing)} "
                           "(tools/bootstrap.sh installs them when run as root)")
    with tempfile.TemporaryDirectory(prefix="gtkwave-") as tmp, xvfb() as display:
        report, shot = Path(tmp) / "report.txt", Path(tmp) / "screen.xwd"
        script = Path(tmp) / "report.tcl"
        grab = f"exec xwd -root -silent -display {display} -out {{{shot}}}" if png else ""
        script.write_text(_SCRIPT.format(nops=SETTLE_NOPS, report=report, shot=grab))
        # A private HOME: no user's .gtkwaverc changes the view under test.
        env = {**os.environ, "DISPLAY": display, "HOME": tmp}
        _run(["gtkwave", "-S", str(script), str(save_file)], timeout_s, env)
        if not report.exists():
            raise GtkwaveError(f"gtkwave wrote no report for {save_file}")
        view = _parse(report.read_text())
        if png is not None:
            png.parent.mkdir(parents=True, exist_ok=True)
            _run(["convert", f"xwd:{shot}", "-crop", f"{WINDOW[0]}x{WINDOW[1]}+0+0", "+repage",
                  f"png:{png}"], 60)
    return view


def _parse(text: str) -> GtkwaveView:
    facs, start, end, displayed = 0, 0, 0, []
    for line in text.splitlines():
        key, _, rest = line.partition(" ")
        if key == "facs":
            facs = int(rest)
        elif key == "window":
            start, end = (int(x) for x in rest.split())
        elif key == "signals":  # a plain string: as a Tcl list, "\\a" would become a bell
            displayed = rest.split()
    return GtkwaveView(displayed, facs, start, end)
