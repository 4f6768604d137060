"""Simulation-only RTL: stimulus generators and capture blocks for long co-simulation runs.

None of this is synthesised. These blocks keep Python off the per-cycle path (Verilator runs ~10x
faster when Python only wakes per event, docs/architecture.md): stimulus comes from counter-based
or xorshift generators in the RTL and outputs are captured in wide batch registers that a
cocotb coroutine reads once per batch.
"""
