"""Stream output register: the idiom every block with a registered ``valid``/``payload`` uses."""

from typing import Any

from amaranth.hdl import Module, Value


def output_register(m: Module, port: Any) -> Value:
    """Let ``port.valid`` (a register) fall when its beat is taken; returns ``~valid | ready``.

    The returned value is high when the output register may be loaded this cycle (empty, or
    its beat is being taken). Statements that load it must come after this call, so that a load
    wins over the clear in the same cycle.
    """
    with m.If(port.valid & port.ready):
        m.d.sync += port.valid.eq(0)
    return ~port.valid | port.ready
