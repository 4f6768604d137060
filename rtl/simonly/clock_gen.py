"""Simulation-only clock generators that follow a :class:`models.clocks.ClockSchedule`.

:func:`clock_generator` gives the Verilog that turns a 1-bit input port of the top into a clock
made inside the simulator (Verilator ``--timing`` and Icarus): a register toggled by an
``initial`` loop that walks the schedule in integer attoseconds, so each edge lands on the
picosecond :func:`models.clocks.rising_edges_ps` and :func:`models.clocks.falling_edges_ps`
predict. ``tb.runner.run_cocotb(clocks={"port": schedule})`` patches it into the top. Several
clocks in one top (two FPGAs, a recovered link clock) each get their own loop; the simulator
interleaves their edges by time.

Cost: one division and one delay per edge (the constant clock of ``internal_clock_ps`` is a
bare ``always #half``); the period table is an initialised register array in the Verilog, one
64-bit entry per segment.

A :class:`LoadedClock` instead reads its schedule at time 0 from a file
(:func:`write_schedule`, ``$readmemh``): the Verilog, and so the simulator build, is the same
for every schedule that fits its table, and a run picks its clocks (oscillator offsets, a
pass's Doppler, a CDR's recovered clock) by writing the file before the simulator starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from models.clocks import AS_PER_PS, ClockSchedule, ClockScheduleError

# Words before the periods in a loaded schedule's file: phase, segment cycles, periods.
_HEADER_WORDS = 3


@dataclass(frozen=True)
class LoadedClock:
    """A clock whose :class:`~models.clocks.ClockSchedule` (up to ``max_segments`` periods)
    is read at time 0 from ``path`` (:func:`write_schedule`).

    ``partner``: a constant clock (``(port, path)``, declared before this one in the top) that
    this clock's generator drives too, both constant: each clock's rising edges are its
    schedule's, and each falls at the other's next rising edge when that comes first (else
    half way to its own next rise). Two clocks of about the same period then make two event
    times per cycle, not four: a simulator evaluates the design at every event time, and a
    design that uses rising edges only does nothing at a falling one. The partner's own entry
    is ``LoadedClock(path, 1, driven=True)`` (its register only)."""

    path: str
    max_segments: int
    partner: tuple[str, str] | None = None
    driven: bool = False

    def __post_init__(self) -> None:
        if self.max_segments < 1:
            raise ClockScheduleError(f"loaded clock {self.path}: max_segments "
                                     f"{self.max_segments} (at least 1)")
        if (self.partner or self.driven) and self.max_segments != 1:
            raise ClockScheduleError(f"loaded clock {self.path}: a clock pair needs constant "
                                     f"clocks (max_segments 1)")


def write_schedule(clock: LoadedClock, schedule: ClockSchedule) -> None:
    """Write ``schedule`` where ``clock`` reads it (one 64-bit hex word per line: phase in
    attoseconds, cycles per segment, number of periods, the periods)."""
    n = len(schedule.periods_as)
    if n > clock.max_segments:
        raise ClockScheduleError(f"clock schedule of {n} periods: {clock.path} holds "
                                 f"{clock.max_segments}")
    words = (schedule.phase_as, schedule.segment_cycles, n, *schedule.periods_as)
    Path(clock.path).write_text("".join(f"{w:016x}\n" for w in words))


def clock_generator(port: str, schedule: ClockSchedule | LoadedClock) -> str:
    """Verilog declarations and the generator loop of clock ``port`` (module-body lines)."""
    if isinstance(schedule, LoadedClock):
        if schedule.driven:
            return f"  reg {port} = 1'b0;  // driven by its partner's generator\n"
        if schedule.partner is not None:
            return _pair_generator(port, schedule)
        return _loaded_generator(port, schedule)
    n = len(schedule.periods_as)
    seg = schedule.segment_cycles
    table = "".join(f"    {port}__period[{i}] = 64'd{p};\n"
                    for i, p in enumerate(schedule.periods_as))
    return (
        f"  reg {port} = 1'b0;  // clock schedule: {n} segment(s) of {seg} cycles "
        f"(rtl/simonly/clock_gen.py)\n"
        f"  reg [63:0] {port}__period [0:{n - 1}];\n"
        f"  reg [63:0] {port}__t_as, {port}__rise, {port}__next, {port}__k, {port}__seg;\n"
        f"  initial begin\n{table}"
        f"    {port}__t_as = 64'd{schedule.phase_as};\n"
        f"    {port}__k = 64'd0;\n"
        f"    forever begin\n"
        f"      {port}__rise = {port}__t_as / {AS_PER_PS};\n"
        f"      #({port}__rise - $time) {port} = 1'b1;\n"
        f"      {port}__seg = {port}__k / {seg};\n"
        f"      {port}__t_as = {port}__t_as + "
        f"{port}__period[{port}__seg < {n} ? {port}__seg : {n - 1}];\n"
        f"      {port}__next = {port}__t_as / {AS_PER_PS};\n"
        f"      #(({port}__next - {port}__rise) / 2) {port} = 1'b0;\n"
        f"      {port}__k = {port}__k + 1;\n"
        f"    end\n"
        f"  end\n")


def _loaded_generator(port: str, clock: LoadedClock) -> str:
    """The loop of :func:`clock_generator` on a table read from ``clock.path`` at time 0."""
    size = clock.max_segments + _HEADER_WORDS
    t = f"{port}__table"
    return (
        f"  reg {port} = 1'b0;  // clock schedule loaded from a file (rtl/simonly/clock_gen.py)\n"
        f"  reg [63:0] {t} [0:{size - 1}];\n"
        f"  reg [63:0] {port}__t_as, {port}__rise, {port}__next, {port}__k, {port}__seg, "
        f"{port}__segc, {port}__n;\n"
        f"  initial begin\n"
        f"    $readmemh(\"{clock.path}\", {t});\n"
        f"    {port}__t_as = {t}[0];\n"
        f"    {port}__segc = {t}[1];\n"
        f"    {port}__n = {t}[2];\n"
        f"    {port}__k = 64'd0;\n"
        f"    forever begin\n"
        f"      {port}__rise = {port}__t_as / {AS_PER_PS};\n"
        f"      #({port}__rise - $time) {port} = 1'b1;\n"
        f"      {port}__seg = {port}__k / {port}__segc;\n"
        f"      {port}__t_as = {port}__t_as + {t}[{_HEADER_WORDS} + "
        f"({port}__seg < {port}__n ? {port}__seg : {port}__n - 1)];\n"
        f"      {port}__next = {port}__t_as / {AS_PER_PS};\n"
        f"      #(({port}__next - {port}__rise) / 2) {port} = 1'b0;\n"
        f"      {port}__k = {port}__k + 1;\n"
        f"    end\n"
        f"  end\n")


def _pair_generator(port: str, clock: LoadedClock) -> str:
    """The loop of a :class:`LoadedClock` with a partner: both clocks' rising edges from their
    files, each falling at the other's rise (or half way when the other does not rise before
    its own next rise)."""
    assert clock.partner is not None
    other, other_path = clock.partner
    lines = [f"  reg {port} = 1'b0;  // clock pair with {other} (rtl/simonly/clock_gen.py)"]
    for name in (port, other):
        lines.append(f"  reg [63:0] {name}__table [0:{_HEADER_WORDS}];")
        lines.append(f"  reg [63:0] {name}__t_as, {name}__rise, {name}__last, {name}__fall;")
    lines.append(f"  reg [63:0] {port}__now;")
    a, b, now = port, other, f"{port}__now"
    body = [
        "initial begin",
        f"  $readmemh(\"{clock.path}\", {a}__table);",
        f"  $readmemh(\"{other_path}\", {b}__table);",
    ]
    for x in (a, b):
        body += [f"  {x}__t_as = {x}__table[0];", f"  {x}__rise = {x}__t_as / {AS_PER_PS};",
                 f"  {x}__last = 64'd0;", f"  {x}__fall = 64'd0;"]
    body += [
        "  forever begin",
        f"    {now} = {a}__rise < {b}__rise ? {a}__rise : {b}__rise;",
        f"    if ({a} && {b}__rise >= {a}__rise && {a}__fall < {now}) {now} = {a}__fall;",
        f"    if ({b} && {a}__rise >= {b}__rise && {b}__fall < {now}) {now} = {b}__fall;",
        f"    #({now} - $time);",
        f"    if ({a} && ({now} == {b}__rise || ({now} == {a}__fall && {b}__rise >= {a}__rise)))"
        f" {a} = 1'b0;",
        f"    if ({b} && ({now} == {a}__rise || ({now} == {b}__fall && {a}__rise >= {b}__rise)))"
        f" {b} = 1'b0;",
    ]
    for x in (a, b):
        body += [
            f"    if ({now} == {x}__rise) begin",
            f"      {x} = 1'b1;",
            f"      {x}__last = {x}__rise;",
            f"      {x}__t_as = {x}__t_as + {x}__table[{_HEADER_WORDS}];",
            f"      {x}__rise = {x}__t_as / {AS_PER_PS};",
            f"      {x}__fall = {x}__last + ({x}__rise - {x}__last) / 2;",
            "    end",
        ]
    body += ["  end", "end"]
    return "\n".join(lines) + "\n" + "".join(f"  {line}\n" for line in body)
