"""Simulation-only instance that records waves in a window of cycles (``wave_window.v``).

``make sim WAVES=mismatch`` re-runs a failing co-simulation with one of these in the top: the
dump opens ``before`` cycles ahead of the first mismatch, and the run stops a margin after it, so
the file holds only the cycles around the failure (a whole default window would be gigabytes).
"""

from pathlib import Path

from amaranth.hdl import Instance, Module

WAVE_WINDOW_VERILOG = Path(__file__).with_name("wave_window.v")


def add_wave_window(m: Module, start_ps: int, path: str) -> None:
    """Instantiate ``sim_wave_window``: dump every signal to ``path`` from ``start_ps`` on."""
    if start_ps < 0:
        raise ValueError(f"wave window start {start_ps} ps must not be negative")
    m.submodules.wave_window = Instance("sim_wave_window", p_START_PS=int(start_ps),
                                        p_FILE=str(path))
