r"""Pin adapters of the tops' streams: the QRNG's double-data-rate input and the key handshake.

:class:`QrngPins`: the QRNG board delivers its raw words on 64 pins at 312.5 Mbit/s each,
synchronous to the fabric clock the board receives from the satellite FPGA: each pin goes
through an ECP5 ``IDDRX1F`` (two bits per fabric cycle, the rising-edge bit ``Q0`` first),
so one cycle brings the 128 bits of a 4-lane beat (4 x 32-bit words, lane 0 in the low bits:
``Cat(Q0 of pins 0..63, Q1 of pins 0..63)``), marked by ``qrng_valid`` (registered with the
data's cycle). The QRNG cannot wait: a beat the transmitter refuses (``o.ready`` low) is lost
and counted in ``lost``. Latency: 2 cycles from the pins to ``o``.

:class:`KeyPins`: sifted key beats to the on-board key distillation processor, one at a time:
``key_valid`` and ``key_data`` hold a beat until the processor pulses ``key_ack``
(asynchronous, synchronised with two flops, rising edge); the next beat shows 4 cycles later.
Throughput: one beat per ack round trip, far above the sifted key rate (a key bit per ~100
pulses at most).
"""

from amaranth.hdl import Cat, ClockSignal, Instance, Module, Signal
from amaranth.lib import cdc, stream, wiring
from amaranth.lib.wiring import In, Out

from rtl.satellite.layouts import qrng_beat
from rtl.sifting.layouts import KeyBeat

QRNG_PINS = 64
KEY_PINS = ("key_valid", "key_data", "key_ack")


#: The pins both FPGA tops have: the link line with its received clock, the key handshake of
#: :class:`KeyPins` and the register chain of :mod:`rtl.tops.csr`.
SHARED_PINS = {
    "link_tx": Out(1), "link_rx": In(1), "link_rx_clk": In(1),
    "key_valid": Out(1), "key_data": Out(KeyBeat), "key_ack": In(1),
    "csr_clk": In(1), "csr_in": In(1), "csr_load": In(1), "csr_out": Out(1),
}


class QrngPins(wiring.Component):
    """The QRNG's DDR pins to a stream of beats (module docstring).

    Members
    -------
    qrng_data : In(64); qrng_valid : In(1)
        The pins.
    o : Out(stream.Signature(qrng_beat(lanes)))
        Beats; ``valid`` does not wait for ``ready``.
    lost : Out(32)
        Beats refused by the consumer.
    """

    def __init__(self, lanes: int) -> None:
        beat = qrng_beat(lanes)
        if beat.size != 2 * QRNG_PINS:
            raise ValueError(f"QrngPins: a {lanes}-lane beat has {beat.size} bits, the pins "
                             f"give {2 * QRNG_PINS} per cycle")
        super().__init__({"qrng_data": In(QRNG_PINS), "qrng_valid": In(1),
                          "o": Out(stream.Signature(beat)), "lost": Out(32)})

    def elaborate(self, platform):
        m = Module()
        rise, fall = Signal(QRNG_PINS), Signal(QRNG_PINS)
        for pin in range(QRNG_PINS):
            m.submodules[f"iddr{pin}"] = Instance(
                "IDDRX1F", i_D=self.qrng_data[pin], i_SCLK=ClockSignal("sync"), i_RST=0,
                o_Q0=rise[pin], o_Q1=fall[pin])
        # the valid flag gets two register stages, as many as the data: the IDDRX1F's output
        # register and the beat register
        valid = Signal(2)
        m.d.sync += [valid.eq(Cat(self.qrng_valid, valid[0])),
                     self.o.payload.eq(Cat(rise, fall))]
        m.d.comb += self.o.valid.eq(valid[1])
        with m.If(self.o.valid & ~self.o.ready):
            m.d.sync += self.lost.eq(self.lost + 1)
        return m


class KeyPins(wiring.Component):
    """Key beats to the processor's pins, one per ``key_ack`` (module docstring).

    Members
    -------
    i : In(stream.Signature(KeyBeat))
        Sifted key beats.
    key_valid : Out(1); key_data : Out(KeyBeat); key_ack : In(1)
        The pins.
    """

    i: In(stream.Signature(KeyBeat))
    key_valid: Out(1)
    key_data: Out(KeyBeat)
    key_ack: In(1)

    def elaborate(self, platform):
        m = Module()
        ack, last_ack = Signal(), Signal()
        m.submodules.sync_ack = cdc.FFSynchronizer(self.key_ack, ack)
        m.d.sync += last_ack.eq(ack)
        m.d.comb += self.i.ready.eq(~self.key_valid)
        with m.If(self.i.valid & self.i.ready):
            m.d.sync += [self.key_valid.eq(1), self.key_data.eq(self.i.payload)]
        with m.Elif(ack & ~last_ack):
            m.d.sync += self.key_valid.eq(0)
        return m


class DownlinkPin(wiring.Component):
    """The sync framer's downlink words (:data:`rtl.satellite.layouts.DownlinkWord`) on one pin,
    a bit per fabric cycle, MSB first, as the ground's sync detector takes them
    (:class:`rtl.ground.sync.SyncDetector`). A new word is taken as the last bit of the
    previous one goes out, so the line never pauses while the framer has words.

    Members
    -------
    i : In(stream.Signature(DownlinkWord))
    pin : Out(1)
    """

    def __init__(self) -> None:
        from rtl.satellite.layouts import DownlinkWord
        super().__init__({"i": In(stream.Signature(DownlinkWord)), "pin": Out(1)})

    def elaborate(self, platform):
        m = Module()
        word = self.i.payload.data
        shift = Signal(len(word))
        left = Signal(range(len(word) + 1))
        m.d.comb += self.i.ready.eq(left <= 1)
        m.d.sync += self.pin.eq(shift[-1] & (left != 0))
        with m.If(self.i.valid & self.i.ready):
            m.d.sync += [shift.eq(word), left.eq(len(word))]
        with m.Elif(left != 0):
            m.d.sync += [shift.eq(shift << 1), left.eq(left - 1)]
        return m


#: Ports of :class:`rtl.memory.ecp5_dram.Ecp5Dram` that are clocks and resets, not registers.
DRAM_SKIP = {"clk2x", "init_clk", "arst"}


def connect_dram(m: Module, clocks: wiring.Component, link: wiring.Component,
                 dram: wiring.Component) -> None:
    """A top's DRAM: the link layer's memory port on the controller's port 0, PLL 3's clocks
    and the asynchronous reset into it (:class:`rtl.tops.clocks.Ecp5Clocks` with ``dram``)."""
    wiring.connect(m, link.dram, dram.port0)
    m.d.comb += [dram.clk2x.eq(clocks.dram2x), dram.init_clk.eq(clocks.dram_init),
                 dram.arst.eq(clocks.arst)]


def io_pins(top: wiring.Component) -> dict[str, int]:
    """Pins of ``top`` outside its signature (the DDR3 pads, ``IOPort``s): name -> width."""
    dram = getattr(top, "dram", None)
    return {port.name: len(port) for port in getattr(dram, "pads", {}).values()}
