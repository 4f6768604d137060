"""Behavioural stand-in for :class:`rtl.memory.litedram.LiteDram` where LiteDRAM cannot run.

Icarus Verilog 11 does not simulate LiteDRAM's generated Verilog: its combinational blocks
(bank machines, multiplexer, refresher) feed back into each other, which Verilator settles but
Icarus turns into a zero-delay loop on the first command (``docs/memory.md``). The Icarus runs
of the DRAM-backed cache and store use this model instead: the same native ports and rules
(commands of all ports executed in order, one per cycle, ports taking turns; write data taken
with its command; read data after :data:`READ_LATENCY` cycles, never held back; a refresh
every :data:`REFRESH_INTERVAL` cycles that blocks every command for :data:`REFRESH_CYCLES`),
with ``words`` words of storage (the word address taken modulo ``words``).
"""

from itertools import pairwise

from amaranth.hdl import Module, Signal
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out

from rtl.memory.layouts import WORD_BITS, dram_port

#: Cycles from a read command's acceptance to its data (LiteDRAM on the simulated DDR3: ~20).
READ_LATENCY = 20
#: tREFI at 100 MHz (7.8 us) and a refresh's hold of the DRAM (precharge-all + tRFC).
REFRESH_INTERVAL = 780
REFRESH_CYCLES = 30


class DramPortModel(wiring.Component):
    """``ports`` native ports on ``words`` words; see the module docstring."""

    def __init__(self, addr_bits: int, ports: int = 2, words: int = 256) -> None:
        self._ports, self._words = ports, words
        members = {f"port{k}": In(dram_port(addr_bits)) for k in range(ports)}
        super().__init__(members | {"refresh": Out(1)})

    def elaborate(self, platform):
        m = Module()
        m.submodules.mem = mem = memory.Memory(shape=WORD_BITS, depth=self._words, init=[])
        wr, rd = mem.write_port(), mem.read_port()
        index_bits = (self._words - 1).bit_length()

        timer = Signal(range(REFRESH_INTERVAL), init=REFRESH_INTERVAL - 1)
        hold = Signal(range(REFRESH_CYCLES + 1))
        m.d.sync += timer.eq(timer - 1)
        with m.If(timer == 0):
            m.d.sync += [timer.eq(REFRESH_INTERVAL - 1), hold.eq(REFRESH_CYCLES)]
        with m.Elif(hold != 0):
            m.d.sync += hold.eq(hold - 1)
        m.d.comb += self.refresh.eq(hold != 0)

        turn = Signal(range(self._ports))
        m.d.sync += turn.eq(turn + 1 if self._ports > 1 else 0)
        # Read data pipeline: (valid, port) per stage; the word from the memory's read port.
        stages = [(Signal(name=f"rv{i}"), Signal(range(self._ports), name=f"rp{i}"))
                  for i in range(READ_LATENCY)]
        data_stages = [Signal(WORD_BITS, name=f"rd{i}") for i in range(READ_LATENCY - 1)]
        read_now, read_port = Signal(), Signal(range(self._ports))
        for k in range(self._ports):
            port = getattr(self, f"port{k}")
            addr = port.cmd.payload.addr[:index_bits]
            go = (turn == k) & (hold == 0) & port.cmd.valid & (
                ~port.cmd.payload.we | port.wdata.valid)
            m.d.comb += [port.cmd.ready.eq(go), port.wdata.ready.eq(go & port.cmd.payload.we)]
            with m.If(go & port.cmd.payload.we):
                m.d.comb += [wr.en.eq(1), wr.addr.eq(addr), wr.data.eq(port.wdata.payload.data)]
            with m.If(go & ~port.cmd.payload.we):
                m.d.comb += [read_now.eq(1), read_port.eq(k), rd.addr.eq(addr)]
            last_valid, last_port = stages[-1]
            m.d.comb += [
                port.rdata.valid.eq(last_valid & (last_port == k)),
                port.rdata.payload.data.eq(data_stages[-1]),
            ]
        m.d.sync += [stages[0][0].eq(read_now), stages[0][1].eq(read_port)]
        m.d.sync += data_stages[0].eq(rd.data)
        for (v0, p0), (v1, p1) in pairwise(stages):
            m.d.sync += [v1.eq(v0), p1.eq(p0)]
        for d0, d1 in pairwise(data_stages):
            m.d.sync += d1.eq(d0)
        return m
