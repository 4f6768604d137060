"""Symbol mapper (SPEC 3.2): QRNG words to BB84 decoy-state symbols and modulator drive codes.

Overview
--------
Per lane, the fields of the pulse's QRNG word (:mod:`models.qrng`) are compared with the
threshold registers in ``thresholds`` to choose intensity (signal / decoy / vacuum) and
basis (Z / X); bit 16 is the bit value. The mapper does not number pulses: the laser timebase
(:class:`rtl.satellite.timebase.LaserTimebase`) does, one beat per cycle whatever arrives. The
golden model is :func:`models.symbols.map_symbols`.

Register map (``lut_write``: ``en``, 3-bit ``addr``, 8-bit ``data``)
--------------------------------------------------------------------
====  ==================================  =======
addr  register                            reset
====  ==================================  =======
0     IM DAC code, signal                 0xE0
1     IM DAC code, decoy                  0x48
2     IM DAC code, vacuum                 0x00
3     IM DAC code, laser off (safe symbol)  0x00
4     PM phase code, H (Z, bit 0)         0x00
5     PM phase code, V (Z, bit 1)         0x80
6     PM phase code, D (X, bit 0)         0x40
7     PM phase code, A (X, bit 1)         0xC0
====  ==================================  =======

``thresholds`` (9-bit thresholds, 8-bit resolution): ``signal_below`` (reset 128), ``decoy_below``
(192), ``z_below`` (128). Probabilities: p_S = signal_below/256, p_D = (decoy_below -
signal_below)/256, p_V = rest, p_Z = z_below/256.

Latency, throughput
-------------------
One register stage: latency 1 cycle, one beat (``lanes`` pulses) per cycle, so 625 MS/s at
156.25 MHz with 4 lanes. ``i.ready = ~o.valid | o.ready``. ``safe_drive`` (the safe symbol's
codes: IM register 3, PM register 4) comes straight from the registers.
"""

from __future__ import annotations

from amaranth.hdl import Array, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from models.constants import LANES
from models.symbols import DEFAULT_LUT, IM_LUT_BASE, LUT_SIZE, PM_LUT_BASE, MapperConfig
from rtl.satellite.layouts import Basis, Drive, Intensity, LutWrite, mapped_beat, qrng_beat
from rtl.satellite.layouts import MapperConfig as MapperConfigLayout

_DEFAULT_CONFIG = MapperConfig()
CONFIG_INIT = {
    "signal_below": _DEFAULT_CONFIG.signal_below,
    "decoy_below": _DEFAULT_CONFIG.decoy_below,
    "z_below": _DEFAULT_CONFIG.z_below,
}


class SymbolMapper(wiring.Component):
    """QRNG words to BB84 decoy-state symbols and modulator drive codes.

    Latency one cycle, one beat of ``lanes`` pulses per cycle, ``i.ready = ~o.valid | o.ready``.

    Members
    -------
    i : In(stream.Signature(qrng_beat(lanes)))
        QRNG words, one per lane.
    o : Out(stream.Signature(mapped_beat(lanes)))
        Symbols and drive codes.
    thresholds : In(MapperConfigLayout)
        Intensity and basis thresholds.
    lut_write : In(LutWrite)
        Writes of the DAC and phase code registers (register map).
    safe_drive : Out(Drive)
        Drive codes of the safe symbol (laser off, PM at the H code).
    """

    def __init__(self, lanes: int = LANES) -> None:
        self._lanes = lanes
        super().__init__({
            "i": In(stream.Signature(qrng_beat(lanes))),
            "o": Out(stream.Signature(mapped_beat(lanes))),
            "thresholds": In(MapperConfigLayout, init=CONFIG_INIT),
            "lut_write": In(LutWrite),
            "safe_drive": Out(Drive),
        })

    def elaborate(self, platform):
        m = Module()
        lut = Array(
            Signal(8, init=value, name=f"lut{addr}")
            for addr, value in enumerate(DEFAULT_LUT.registers())
        )
        assert len(lut) == LUT_SIZE
        with m.If(self.lut_write.en):
            m.d.sync += lut[self.lut_write.addr].eq(self.lut_write.data)

        m.d.comb += [
            self.i.ready.eq(~self.o.valid | self.o.ready),
            self.safe_drive.im.eq(lut[IM_LUT_BASE + Intensity.OFF.value]),
            self.safe_drive.pm.eq(lut[PM_LUT_BASE]),
        ]
        with m.If(self.o.valid & self.o.ready):
            m.d.sync += self.o.valid.eq(0)
        with m.If(self.i.valid & self.i.ready):
            m.d.sync += self.o.valid.eq(1)
            for lane in range(self._lanes):
                word = self.i.payload[lane]
                u_intensity, u_basis, bit = word[0:8], word[8:16], word[16]
                intensity = Signal(Intensity, name=f"intensity{lane}")
                basis = Signal(Basis, name=f"basis{lane}")
                with m.If(u_intensity < self.thresholds.signal_below):
                    m.d.comb += intensity.eq(Intensity.SIGNAL)
                with m.Elif(u_intensity < self.thresholds.decoy_below):
                    m.d.comb += intensity.eq(Intensity.DECOY)
                with m.Else():
                    m.d.comb += intensity.eq(Intensity.VACUUM)
                m.d.comb += basis.eq(Basis.X)
                with m.If(u_basis < self.thresholds.z_below):
                    m.d.comb += basis.eq(Basis.Z)
                symbol = self.o.payload.symbol[lane]
                drive = self.o.payload.drive[lane]
                m.d.sync += [
                    symbol.intensity.eq(intensity),
                    symbol.basis.eq(basis),
                    symbol.bit.eq(bit),
                    drive.im.eq(lut[IM_LUT_BASE + intensity.as_value()]),
                    drive.pm.eq(lut[PM_LUT_BASE + (basis.as_value() << 1) + bit]),
                ]
        return m
