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
"""

from __future__ import annotations

from models.clocks import AS_PER_PS, ClockSchedule


def clock_generator(port: str, schedule: ClockSchedule) -> str:
    """Verilog declarations and the generator loop of clock ``port`` (module-body lines)."""
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
