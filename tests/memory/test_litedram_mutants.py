"""rtl.memory.litedram: the instance of the generated core connects every port of the core's
Verilog (name, direction, width) to the member of the same role, for each native port."""

import re
from operator import attrgetter

import pytest
from amaranth.hdl import ClockSignal, Fragment, ResetSignal, Value

from rtl.memory.litedram import LiteDram
from rtl.memory.litedram_gen import CoreConfig, core_address_bits, core_verilog

_PORT = re.compile(r"^\s*(input|output)\s*(?:\[(\d+):0\])?\s*(\w+)\s*,?\s*$", re.M)


def _verilog_ports(config: CoreConfig) -> dict[str, tuple[str, int]]:
    """``{name: (direction "i"/"o", width)}`` of the generated core's module header."""
    text = core_verilog(config).read_text()
    start = text.index(f"module {config.module_name}(")
    header = text[start:text.index(");", start)]
    return {name: (kind[0], int(msb or 0) + 1) for kind, msb, name in _PORT.findall(header)}


@pytest.mark.parametrize("ports", [1, 2])
def test_instance_ports_are_the_cores_ports(ports):
    config = CoreConfig(ports=ports)
    dut = LiteDram(config)
    assert dut.addr_bits == core_address_bits(config)
    fragment = Fragment.get(dut, None)
    (instance, name, _), = fragment.subfragments
    assert name == "core" and instance.type == config.module_name
    got = {n: (d, len(Value.cast(v))) for n, (v, d) in instance.ports.items()}
    assert got == _verilog_ports(config)
    assert repr(instance.ports["sys_clk"][0]) == repr(ClockSignal())
    assert repr(instance.ports["sys_rst"][0]) == repr(ResetSignal())
    assert instance.ports["refresh"][0] is dut.refresh
    for k in range(ports):
        for member in ("cmd.valid", "cmd.ready", "cmd.payload.we", "cmd.payload.addr",
                       "wdata.valid", "wdata.ready", "wdata.payload.data", "wdata.payload.we",
                       "rdata.valid", "rdata.ready", "rdata.payload.data"):
            core_name = f"p{k}_" + member.replace("payload.", "").replace(".", "_")
            want = Value.cast(attrgetter(f"port{k}.{member}")(dut))
            assert repr(Value.cast(instance.ports[core_name][0])) == repr(want), core_name
