r"""Serial register port: a top's configuration registers and status counters over four pins.

Overview
--------
A top has far more register bits (thresholds, delays, gate, the counters of every block) than
its package has pins, so the control processor reaches them through one shift chain, the way a
JTAG data register works: ``csr_clk`` (a strobe from the processor), ``csr_in``, ``csr_load``
in and ``csr_out`` out, all four asynchronous to the fabric clock and sampled through
two-flop synchronisers (:class:`amaranth.lib.cdc.FFSynchronizer`); the processor holds each
level for at least four fabric cycles.

* A rising edge of ``csr_clk`` shifts ``csr_in`` into the write chain from its top bit, so
  the processor sends ``Cat(write fields)`` bit 0 first, and shifts the read chain one bit out
  on ``csr_out``, ``Cat(read fields)`` bit 0 first.
* A rising edge of ``csr_load`` copies the write chain into the write registers (all fields in
  the same cycle; a load writes every field, so the processor shifts in the whole chain
  first) and captures every read field into the read chain.

Write registers start at their fields' ``init`` values, so a top runs with its defaults before
the first load.

Latency: a field changes 3 cycles after the ``csr_load`` edge on the pin (synchroniser, edge
detect, copy). Throughput: one bit per ``csr_clk`` period (at least 8 fabric cycles).
"""

from amaranth.hdl import Cat, Module, Signal, Value
from amaranth.lib import cdc, wiring
from amaranth.lib.wiring import In, Out

from rtl.common.forward import forward_member


class SerialRegisters(wiring.Component):
    """Write registers and read captures behind a four-pin shift chain (module docstring).

    Parameters
    ----------
    writes, reads
        ``{name: member}`` of the fields (``wiring`` members with a port shape): a write field
        becomes an output of this block (drive the block's input from it), a read field an
        input (drive it from the block's output).

    Members
    -------
    csr_clk, csr_in, csr_load : In(1); csr_out : Out(1)
        The pins.
    w_<name> : Out(shape); r_<name> : In(shape)
        The fields.
    """

    def __init__(self, writes: dict, reads: dict) -> None:
        self._writes, self._reads = dict(writes), dict(reads)
        members = {"csr_clk": In(1), "csr_in": In(1), "csr_load": In(1), "csr_out": Out(1)}
        members |= {f"w_{name}": Out(m.shape, init=m.init) for name, m in self._writes.items()}
        members |= {f"r_{name}": In(m.shape) for name, m in self._reads.items()}
        super().__init__(members)

    @property
    def write_bits(self) -> int:
        return sum(len(Value.cast(getattr(self, f"w_{n}"))) for n in self._writes)

    @property
    def read_bits(self) -> int:
        return sum(len(Value.cast(getattr(self, f"r_{n}"))) for n in self._reads)

    def elaborate(self, platform):
        m = Module()
        pins = {}
        for name in ("csr_clk", "csr_in", "csr_load"):
            pins[name] = Signal(name=f"{name}_s")
            m.submodules[f"sync_{name}"] = cdc.FFSynchronizer(getattr(self, name), pins[name])
        last_clk, last_load = Signal(), Signal()
        m.d.sync += [last_clk.eq(pins["csr_clk"]), last_load.eq(pins["csr_load"])]
        shift, load = pins["csr_clk"] & ~last_clk, pins["csr_load"] & ~last_load
        fields = Cat(*(Value.cast(getattr(self, f"w_{n}")) for n in self._writes))
        status = Cat(*(Value.cast(getattr(self, f"r_{n}")) for n in self._reads))
        chain = Signal(max(len(fields), 1))
        out = Signal(max(len(status), 1))
        with m.If(shift):
            m.d.sync += [chain.eq(Cat(chain[1:], pins["csr_in"])), out.eq(out >> 1)]
        with m.If(load):
            m.d.sync += out.eq(status)
            if len(fields):
                m.d.sync += fields.eq(chain)
        m.d.comb += self.csr_out.eq(out[0])
        return m


def register_fields(component: wiring.Component, skip: set[str] = frozenset(),
                    prefix: str = "") -> tuple[dict, dict]:
    """The ports of ``component`` that are not interfaces (streams), as ``(writes, reads)``
    field dicts for :class:`SerialRegisters` keyed ``prefix + name``: its inputs become write
    fields, its outputs read fields."""
    writes, reads = {}, {}
    for name, member in component.signature.members.items():
        if member.is_signature or name in skip:
            continue
        (writes if member.flow == In else reads)[prefix + name] = member
    return writes, reads


def bind_fields(m: Module, csr: SerialRegisters, component: wiring.Component,
                skip: set[str] = frozenset(), prefix: str = "") -> None:
    """Drive ``component``'s register inputs from ``csr`` and its outputs into ``csr`` (the
    fields of :func:`register_fields` with the same ``skip`` and ``prefix``)."""
    writes, reads = register_fields(component, skip, prefix)
    for name in writes:
        m.d.comb += getattr(component, name[len(prefix):]).eq(getattr(csr, f"w_{name}"))
    for name in reads:
        m.d.comb += getattr(csr, f"r_{name}").eq(getattr(component, name[len(prefix):]))


#: A block's registers: (field prefix, block, ports that are not registers).
RegisterBlock = tuple[str, wiring.Component, set[str]]
CSR_PINS = ("csr_clk", "csr_in", "csr_load", "csr_out")


def registers_of(blocks: tuple[RegisterBlock, ...]) -> SerialRegisters:
    """One :class:`SerialRegisters` holding the register fields of every block."""
    writes, reads = {}, {}
    for prefix, block, skip in blocks:
        block_writes, block_reads = register_fields(block, skip, prefix)
        writes |= block_writes
        reads |= block_reads
    return SerialRegisters(writes, reads)


def bind_registers(m: Module, top: wiring.Component, csr: SerialRegisters,
                   blocks: tuple[RegisterBlock, ...]) -> None:
    """Wire every block's fields to ``csr`` (:func:`bind_fields`) and ``csr``'s pins to the
    top's members of the same names."""
    for prefix, block, skip in blocks:
        bind_fields(m, csr, block, skip, prefix)
    for name in CSR_PINS:
        forward_member(m, top, csr, name)
