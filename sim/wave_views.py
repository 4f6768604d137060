"""GTKWave views of the co-simulation tops, declared once and written as save files.

A :class:`View` lists groups of traces (a signal path below the top scope, a label, a radix) and
the events whose first rising edges matter (named markers A, B, ...). :func:`save_file_text`
turns it into a GTKWave 3.3 save file for one dump, checked against the dump's own signals
(:func:`dump_signals`): every trace must exist there, and vectors get the range GTKWave shows
(``top.now[47:0]``; a bare ``top.now`` is silently left out of the view). The zoom and
``[timestart]`` put the stretch from the first event to the last on screen, the primary marker
sits on :attr:`View.marker`'s first rising edge::

    view = VIEWS["e2e"]
    signals = dump_signals(dump)
    text = save_file_text(view, signals, first_rises(dump, view.event_paths()), dump,
                          dump.parent / "e2e.gtkw", end)

GTKWave save file lines used (``gtkwave(1)``, "save file"): ``[size] W H`` window size,
``[signals_width]``, ``[sst_expanded] 0`` (hides the hierarchy pane), ``[timestart] T`` left edge,
``*Z M A B ...`` zoom ``Z`` (``2**-Z / 200`` time units per pixel), primary marker ``M`` and the
26 named markers (-1: unset), ``@flags`` trace flags (hex: 0x22 hex, 0x24 decimal, 0x28 binary,
0x800200 / 0x1000200 group begin / end), ``-text`` a comment trace, ``+{label} path`` an alias.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pywellen

SCOPE = "top"  # both simulators name the design scope after the top module
RADIX_FLAGS = {"bin": 0x28, "hex": 0x22, "dec": 0x24}
GROUP_BEGIN, GROUP_END = 0x800200, 0x1000200
WINDOW = (1600, 1200)  # [size]: the headless screen (sim.gtkwave_headless) is this size too
SIGNALS_WIDTH = 420
# Wave-area pixels the zoom assumes: GTKWave 3.3.118 under Xvfb shows 994 at WINDOW (hierarchy
# pane hidden, signal pane as wide as the longest label).
WAVE_PIXELS = 990
PIXELS_PER_FRAME = 200  # GTKWave: 2**-zoom time units span 200 pixels
MARGIN = 0.04  # of the events' span, on each side
MARKER_LETTERS = 26


class ViewError(ValueError):
    """A view names a signal the dump does not hold, or an event that never happens."""


@dataclass(frozen=True)
class Trace:
    """One signal of a view: ``path`` below the top scope, shown as ``label`` in ``radix``."""

    path: str
    label: str
    radix: str = "hex"


def bit(path: str, label: str) -> Trace:
    return Trace(path, label, "bin")


def dec(path: str, label: str) -> Trace:
    return Trace(path, label, "dec")


def hexa(path: str, label: str) -> Trace:
    return Trace(path, label, "hex")


@dataclass(frozen=True)
class Group:
    title: str
    traces: tuple[Trace, ...]


@dataclass(frozen=True)
class Event:
    """A named marker on the first rising edge of the 1-bit signal ``path``."""

    path: str
    what: str


@dataclass(frozen=True)
class View:
    """A save file: ``name.gtkw`` of the design ``design`` (``tx`` or ``e2e``)."""

    name: str
    design: str
    title: str
    groups: tuple[Group, ...]
    events: tuple[Event, ...]
    marker: str  # path of the event that carries the primary marker

    def traces(self) -> list[Trace]:
        return [trace for group in self.groups for trace in group.traces]

    def event_paths(self) -> list[str]:
        return [event.path for event in self.events]


@dataclass(frozen=True)
class DumpSignal:
    width: int
    leaf: str  # name within its scope: ``answer__payload.status`` for a payload field
    vcd: bool  # read from a VCD file


def dump_signals(dump: Path) -> dict[str, DumpSignal]:
    """Full name (``top.tx.alarm``) -> :class:`DumpSignal` of every signal in an FST or VCD."""
    wave = pywellen.Waveform(str(dump))
    vcd = wave.file_format == "VCD"
    return {var.full_name: DumpSignal(var.bitwidth, var.name, vcd) for var in wave.all_vars()}


def signal_changes(dump: Path, names: Iterable[str]) -> dict[str, list[tuple[int, int]]]:
    """``(time, value)`` of every change of each named 1-bit or vector signal (X/Z read as 0)."""
    wave = pywellen.Waveform(str(dump))
    by_name = {var.full_name: var for var in wave.all_vars()}
    wanted = list(dict.fromkeys(names))
    missing = [name for name in wanted if name not in by_name]
    if missing:
        raise ViewError(f"{dump}: no signal {', '.join(missing)}")
    ids: dict[str, list[str]] = {}
    for name in wanted:
        ids.setdefault(str(by_name[name].signal_id), []).append(name)
    changes: dict[str, list[tuple[int, int]]] = {name: [] for name in wanted}

    def record(time: int, signal: object, value: object) -> None:
        for name in ids[str(signal)]:
            changes[name].append((time, value if isinstance(value, int) else 0))

    wave.stream_changes(record, [by_name[name] for name in wanted])
    return changes


def first_rises(dump: Path, paths: Iterable[str]) -> dict[str, int | None]:
    """Time of the first 0 -> 1 change (or a 1 at time 0) of each 1-bit signal ``top.<path>``;
    None if it never rises."""
    signals = dump_signals(dump)
    names = {path: dump_name(path, signals) for path in paths}
    changes = signal_changes(dump, names.values())
    return {path: next((time for time, value in changes[name] if value), None)
            for path, name in names.items()}


def high_cycles(changes: list[tuple[int, int]], end: int, period: int) -> int:
    """Clock cycles a synchronous 1-bit signal is high up to time ``end``: the valid beats of a
    stream whose ready is high (every capture and replay of the tops)."""
    total, since = 0, None
    for time, value in [*changes, (end, 0)]:
        if value and since is None:
            since = time
        elif not value and since is not None:
            total += time - since
            since = None
    return round(total / period)


def dump_name(path: str, signals: Mapping[str, DumpSignal]) -> str:
    """The dump's name of ``top.<path>``. A payload field (``tx.answer__payload.status``) is a
    Verilog escaped identifier: Verilator writes it as it is, Icarus with its backslash
    (``top.tx.\\answer__payload.status``)."""
    parts = f"{SCOPE}.{path}".split(".")
    candidates = [".".join(parts)] + [
        ".".join(parts[:i]) + ".\\" + ".".join(parts[i:]) for i in range(len(parts) - 1, 0, -1)]
    for name in candidates:
        if name in signals:
            return name
    raise ViewError(f"the dump has no signal {candidates[0]}")


def gtkwave_name(path: str, signals: Mapping[str, DumpSignal]) -> str:
    """The name GTKWave finds ``top.<path>`` by: vectors carry their range (``[47:0]``), and
    its VCD reader escapes a name with a dot in it (Verilator writes payload fields without
    the backslash; its FST reader keeps them as they are)."""
    name = dump_name(path, signals)
    signal = signals[name]
    if signal.vcd and "." in signal.leaf and not signal.leaf.startswith("\\"):
        name = f"{name.removesuffix(signal.leaf)}\\{signal.leaf}"
    return name if signal.width == 1 else f"{name}[{signal.width - 1}:0]"


def zoom_for(span: int) -> float:
    """GTKWave zoom that fits ``span`` time units into :data:`WAVE_PIXELS`."""
    return -math.log2(max(span, 1) * PIXELS_PER_FRAME / WAVE_PIXELS)


def save_file_text(view: View, signals: Mapping[str, DumpSignal], rises: Mapping[str, int | None],
                   dumpfile: str | Path, savefile: str | Path, end: int,
                   header: Iterable[str] = (), focus: tuple[int, int] | None = None) -> str:
    """The save file of ``view`` for a dump with ``signals``, event times ``rises`` and last
    time ``end``. Events that never happen in the window get no marker (a short window); with
    fewer than two the whole window is on screen. GTKWave opens ``dumpfile``, or when that does
    not exist, the dump at the same place relative to the save file as ``dumpfile`` is to
    ``savefile``. ``focus``: the stretch ``(first, last)`` to put on screen instead."""
    names = [gtkwave_name(trace.path, signals) for trace in view.traces()]
    if len(view.events) > MARKER_LETTERS:
        raise ViewError(f"view {view.name}: at most {MARKER_LETTERS} events")
    times = [rises.get(event.path) for event in view.events]
    seen = [t for t in times if t is not None]
    first, last = (min(seen), max(seen)) if len(seen) > 1 else (0, end)
    if focus is not None:
        first, last = focus
    margin = max(int((last - first) * MARGIN), 1000)
    start = max(0, first - margin)
    marker = rises.get(view.marker)
    markers = [-1 if t is None else t for t in times]
    markers += [-1] * (MARKER_LETTERS - len(markers))
    lines = [f"[*] {line}" for line in (view.title, *header)]
    lines += [f"[*] marker {chr(ord('A') + i)}: {event.what} ({event.path})"
              + ("" if times[i] is not None else ": not in this window")
              for i, event in enumerate(view.events)]
    lines += [
        f'[dumpfile] "{dumpfile}"',
        f'[savefile] "{savefile}"',
        f"[size] {WINDOW[0]} {WINDOW[1]}",
        "[pos] 0 0",
        "[sst_expanded] 0",
        f"[signals_width] {SIGNALS_WIDTH}",
        f"[timestart] {start}",
        f"*{zoom_for(last + margin - start):.6f} {-1 if marker is None else marker} "
        + " ".join(str(m) for m in markers),
    ]
    traces = iter(names)
    for group in view.groups:
        lines += [f"@{GROUP_BEGIN:x}", f"-{group.title}"]
        for trace in group.traces:
            name = next(traces)
            radix = "bin" if signals[dump_name(trace.path, signals)].width == 1 else trace.radix
            lines += [f"@{RADIX_FLAGS[radix]:x}", f"+{{{trace.label}}} {name}"]
        lines += [f"@{GROUP_END:x}", f"-{group.title}"]
    return "\n".join(lines) + "\n"


def displayed_names(text: str) -> list[str]:
    """The signal names GTKWave reports (``gtkwave::getDisplayedSignals``) for the traces of a
    save file (aliases resolved to their signals)."""
    out = []
    for line in text.splitlines():
        if line.startswith("+{"):
            line = line.split("} ", 1)[1]
        elif not line or line[0] in "[@-*":
            continue
        out.append(line.strip())
    return out


TX = View(
    name="tx_cosim",
    design="tx",
    title="Transmitter co-simulation top (rtl/simonly/tx_cosim_top.py); guide: docs/waves.md",
    groups=(
        Group("Clock and reset", (bit("clk", "clk"), bit("rst", "reset (power-on)"))),
        Group("QRNG and health intake", (
            bit("tx.tx.qrng__valid", "qrng valid (idle cycles lose their words)"),
            hexa("tx.tx.qrng__payload", "qrng word (4 lanes)"),
            hexa("tx.alarm", "health alarm (rct, apt)"),
        )),
        Group("Laser timebase", (
            bit("tx.tx.hold", "symbol path hold"),
            bit("tx.symbols__valid", "symbols valid (every cycle)"),
            dec("tx.symbols__payload.pulse", "symbols pulse index"),
            hexa("tx.symbols__payload.symbol", "symbols (4 lanes; 3 = safe, laser off)"),
            hexa("tx.safe", "safe pulses (alarm, underflow)"),
        )),
        Group("RND cache", (
            dec("tx.cache_head", "cache head (pulse)"),
            bit("tx.query__valid", "query valid"), bit("tx.query__ready", "query ready"),
            dec("tx.query__payload.pulse", "query pulse"),
            bit("tx.answer__valid", "answer valid"),
            dec("tx.answer__payload.pulse", "answer pulse"),
            dec("tx.answer__payload.status", "answer status"),
            hexa("tx.answer__payload.symbol", "answer symbol"),
        )),
        Group("Sync framer and downlink", (
            dec("tx.tx.framer.frame", "sync frame"),
            bit("tx.link_payload__valid", "link payload valid"),
            bit("tx.link_payload__ready", "link payload ready"),
            bit("tx.downlink__valid", "downlink valid"),
            bit("tx.downlink__ready", "downlink ready"),
            hexa("tx.downlink__payload.data", "downlink word"),
            dec("tx.downlink__payload.kind", "downlink word kind"),
        )),
        Group("Captures (Python wakes on *_done)", (
            bit("sym_done", "symbol batch done"), bit("dl_done", "downlink batch done"),
            bit("ans_done", "answer batch done"), dec("sym_batches", "symbol batches"),
        )),
    ),
    events=(
        Event("tx.symbols__valid", "first symbol beat"),
        Event("tx.link_payload__ready", "first link payload word into a frame"),
        Event("tx.query__valid", "first RND cache query"),
        Event("tx.answer__valid", "first RND cache answer"),
        Event("sym_done", "first symbol batch captured"),
    ),
    marker="tx.answer__valid",
)

E2E = View(
    name="e2e",
    design="e2e",
    title="End-to-end co-simulation top (rtl/e2e/top.py); guide: docs/waves.md",
    groups=(
        Group("Cycle counter", (dec("now", "cycle (now)"),)),
        Group("Satellite: symbols, RND cache head, downlink", (
            bit("tx.symbols__valid", "symbols valid"),
            dec("tx.cache_head", "cache head (pulse)"),
            dec("tx.framer.frame", "sync frame (satellite)"),
            bit("tx.downlink__ready", "downlink word taken"),
            hexa("tx.downlink__payload.data", "downlink word"),
        )),
        Group("TDC: channel 0's sampled code, raw hits, calibrated tags", (
            bit("replay_code0.o__valid", "code replayed (channel 0)"),
            hexa("ground.tagger.channel0.taps", "sampled code (channel 0, 320 taps)"),
            bit("ground.tagger.channel0.hits__valid", "raw hit valid (channel 0)"),
            dec("ground.tagger.channel0.hits__payload.coarse", "raw hit coarse (ps)"),
            dec("ground.tagger.channel0.hits__payload.fine", "raw hit fine (ones)"),
            bit("ground.tagger.channel0.hits__payload.calibration", "raw hit from calibration"),
            bit("ground.tagger.calibrator0.tags__valid", "calibrated tag valid (channel 0)"),
            dec("ground.tagger.calibrator0.tags__payload.time", "calibrated tag time (ps)"),
        )),
        Group("TDC: sync join and time-ordered merge into the indexer", (
            bit("ground.tagger.channel4.hits__valid", "sync strobe raw hit"),
            bit("ground.tagger.join.o__valid", "joined sync tag valid"),
            dec("ground.tagger.join.o__payload.frame", "joined sync frame k"),
            dec("ground.tagger.join.o__payload.time", "joined sync time t_k (ps)"),
            bit("ground.rx.tags__valid", "merged tag valid"),
            dec("ground.rx.tags__payload.channel", "merged tag channel"),
            dec("ground.rx.tags__payload.time", "merged tag time (ps)"),
        )),
        Group("Ground: sync, detections, reports", (
            bit("ground.bits__payload", "downlink bit (serial)"),
            bit("ground.locked", "sync locked"),
            bit("ground.rx.frames__valid", "frame event valid"),
            dec("ground.rx.frames__payload.frame", "frame event number"),
            bit("ground.detections__valid", "detection valid"),
            dec("ground.detections__payload.pulse", "detection pulse"),
            bit("gnd.report.report__valid", "report valid"),
            dec("gnd.report.report__payload.pulse", "report pulse"),
            dec("gnd.framer.closed", "uplink frames closed"),
        )),
        Group("Link PHY: line blocks both ways, receiver lock, received words", (
            bit("up_phy_tx.o__ready", "uplink block taken (1 per 32 cycles)"),
            hexa("up_phy_tx.o__payload", "uplink line block (34 bits)"),
            bit("up_phy_rx.locked", "uplink receiver locked (satellite)"),
            bit("up_phy_rx.o__valid", "uplink word received"),
            hexa("dn_phy_tx.o__payload", "downlink line block (34 bits)"),
            bit("dn_phy_rx.locked", "downlink receiver locked (ground)"),
            bit("dn_phy_rx.o__valid", "downlink word received"),
        )),
        Group("Satellite sifting: uplinked reports, RND cache, entries, key", (
            bit("up_rx.frame__valid", "uplink frame decided"),
            bit("up_rx.report__valid", "uplinked report valid"),
            dec("sat_sift.report__payload.pulse", "uplinked report pulse"),
            bit("tx.query__valid", "cache query valid"),
            bit("tx.answer__valid", "cache answer valid"),
            dec("tx.answer__payload.status", "cache answer status"),
            bit("sat_sift.entry__valid", "sift entry valid"),
            hexa("sat_sift.entry__payload", "sift entry"),
            bit("sat_sift.key__valid", "satellite key valid"),
            bit("sat_sift.key__payload.bit", "satellite key bit"),
            dec("sat_packets", "satellite packets"),
        )),
        Group("Ground sifting: downlinked entries, key", (
            bit("gnd.rx.entry__valid", "downlinked entry valid"),
            hexa("gnd.rx.entry__payload", "downlinked entry"),
            bit("gnd.sift.key__valid", "ground key valid"),
            bit("gnd.sift.key__payload.bit", "ground key bit"),
            dec("gnd_packets", "ground packets"),
            dec("gnd_missing", "ground missing entries"),
        )),
    ),
    events=(
        Event("ground.tagger.join.o__valid", "first joined sync tag"),
        Event("ground.locked", "sync lock"),
        Event("ground.detections__valid", "first detection"),
        Event("gnd.report.report__valid", "first report"),
        Event("up_rx.report__valid", "first uplink frame arrives"),
        Event("sat_sift.entry__valid", "first sift entry"),
        Event("sat_sift.key__valid", "first satellite key bit"),
        Event("gnd.rx.entry__valid", "first sift message arrives at the ground"),
        Event("gnd.sift.key__valid", "first ground key bit"),
    ),
    marker="up_rx.report__valid",
)

VIEWS = {view.name: view for view in (TX, E2E)}
