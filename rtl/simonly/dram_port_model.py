"""Behavioural stand-in for :class:`rtl.memory.litedram.LiteDram` where LiteDRAM cannot run.

Icarus Verilog 11 does not simulate LiteDRAM's generated Verilog: its combinational blocks
(bank machines, multiplexer, refresher) feed back into each other, which Verilator settles but
Icarus turns into a zero-delay loop on the first command (``docs/memory.md``). The Icarus runs
of the DRAM-backed cache and store use this model instead: the same native ports and rules
(commands of all ports executed in order, one per cycle, ports taking turns; write data taken
with its command; read data after :data:`READ_LATENCY` cycles, never held back; a refresh
every :data:`REFRESH_INTERVAL` cycles that blocks every command for :data:`REFRESH_CYCLES`),
with ``words`` words of storage (the word address taken modulo ``words``): an Amaranth memory,
or with ``verilog=True`` the uninitialised array of ``dram_words.v`` (:data:`DRAM_WORDS_VERILOG`,
an extra source of the run), which elaborates and compiles at flight sizes.
"""

from itertools import pairwise
from pathlib import Path

from amaranth.hdl import ClockSignal, Instance, Module, Signal
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out

from rtl.memory.layouts import WORD_BITS, dram_port

#: Cycles from a read command's acceptance to its data (LiteDRAM on the simulated DDR3: ~20).
READ_LATENCY = 20
#: tREFI at 100 MHz (7.8 us) and a refresh's hold of the DRAM (precharge-all + tRFC).
REFRESH_INTERVAL = 780
REFRESH_CYCLES = 30
DRAM_WORDS_VERILOG = Path(__file__).with_name("dram_words.v")


class _VerilogWords:
    """The write and read port of ``sim_dram_words`` as the Amaranth memory's ports are used
    here (``en``, ``addr``, ``data``)."""

    def __init__(self, m: Module, words: int) -> None:
        abits = (words - 1).bit_length()
        self.wr_en, self.wr_addr = Signal(), Signal(abits)
        self.wr_data, self.rd_addr = Signal(WORD_BITS), Signal(abits)
        self.rd_data = Signal(WORD_BITS)
        m.submodules.mem = Instance(
            "sim_dram_words", p_WIDTH=WORD_BITS, p_ABITS=abits, i_clk=ClockSignal(),
            i_we=self.wr_en, i_waddr=self.wr_addr, i_wdata=self.wr_data, i_raddr=self.rd_addr,
            o_rdata=self.rd_data)


class DramPortModel(wiring.Component):
    """``ports`` native ports on ``words`` words; see the module docstring."""

    def __init__(self, addr_bits: int, ports: int = 2, words: int = 256,
                 verilog: bool = False) -> None:
        self._ports, self._words, self._verilog = ports, words, verilog
        members = {f"port{k}": In(dram_port(addr_bits)) for k in range(ports)}
        super().__init__(members | {"refresh": Out(1)})

    def elaborate(self, platform):
        m = Module()
        if self._verilog:
            v = _VerilogWords(m, self._words)
            wr_en, wr_addr, wr_data, rd_addr, rd_data = (
                v.wr_en, v.wr_addr, v.wr_data, v.rd_addr, v.rd_data)
        else:
            m.submodules.mem = mem = memory.Memory(shape=WORD_BITS, depth=self._words, init=[])
            wr, rd = mem.write_port(), mem.read_port()
            wr_en, wr_addr, wr_data, rd_addr, rd_data = wr.en, wr.addr, wr.data, rd.addr, rd.data
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
                m.d.comb += [wr_en.eq(1), wr_addr.eq(addr), wr_data.eq(port.wdata.payload.data)]
            with m.If(go & ~port.cmd.payload.we):
                m.d.comb += [read_now.eq(1), read_port.eq(k), rd_addr.eq(addr)]
            last_valid, last_port = stages[-1]
            m.d.comb += [
                port.rdata.valid.eq(last_valid & (last_port == k)),
                port.rdata.payload.data.eq(data_stages[-1]),
            ]
        m.d.sync += [stages[0][0].eq(read_now), stages[0][1].eq(read_port)]
        m.d.sync += data_stages[0].eq(rd_data)
        for (v0, p0), (v1, p1) in pairwise(stages):
            m.d.sync += [v1.eq(v0), p1.eq(p0)]
        for d0, d1 in pairwise(data_stages):
            m.d.sync += d1.eq(d0)
        return m
