"""Satellite transmitter top (SPEC 3): QRNG intake -> symbol mapper -> modulators + RND cache,
and the sync framer of the downlink. This is the synthesised ``satellite_tx`` top.

::

                 +--------------+   +--------------+  symbols (to IM/PM DACs)
    qrng ------->| health tests |-->| symbol mapper|---------+-------------------->
                 +--------------+   +--------------+         |
                        | alarm        ^ thresholds, lut_write   v
                                                        +-----------+
    query (pulse) ------------------------------------->| RND cache |--> answer
                                                        +-----------+
    link_payload ---------------------------------------> sync framer ---> downlink

Latency: QRNG beat to ``symbols`` 4 cycles; ``query`` to ``answer`` 3 cycles
(:data:`rtl.satellite.rnd_cache.ANSWER_LATENCY`: address, EBR output, lane mux); one beat of
``lanes`` pulses per cycle (625 MS/s at 156.25 MHz, 4 lanes). The RND cache writes every beat
that leaves on ``symbols``, so a pulse is in the cache from the cycle after it is sent.
"""

from __future__ import annotations

from amaranth.hdl import Module
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out, connect, flipped

from models.constants import LANES
from models.health import HealthConfig
from rtl.satellite.framer import SyncFramer
from rtl.satellite.health import QrngHealthIntake
from rtl.satellite.layouts import (
    CacheAnswer,
    CacheQuery,
    DownlinkWord,
    HealthAlarm,
    LutWrite,
    MapperConfig,
    SafeCounts,
    qrng_beat,
    symbol_beat,
)
from rtl.satellite.mapper import CONFIG_INIT, SymbolMapper
from rtl.satellite.rnd_cache import RndCache
from rtl.satellite.timebase import LaserTimebase


class SatelliteTx(wiring.Component):
    """The satellite transmitter: health tests, symbol mapper, laser timebase, RND cache, sync
    framer.

    Latency: QRNG beat to ``symbols`` 4 cycles, ``query`` to ``answer`` 3 cycles; one beat of
    ``lanes`` pulses per cycle; the downlink one word per cycle at most.

    Members
    -------
    qrng : In(stream.Signature(qrng_beat(lanes)))
        Raw QRNG beats (always ready: the beat of cycle ``c`` is meant for beat ``c``);
        ``alarm`` : Out, the health tests' verdict.
    symbols : Out(stream.Signature(symbol_beat(lanes)))
        Fired beats to the modulators, valid every cycle after start-up (also written into the
        RND cache); the sink must take every beat: ``ready`` is not an input of the logic (the
        timebase's own port is ``always_ready``, which Amaranth 0.5 cannot make a top-level
        port of the ``satellite_tx`` synthesis top). ``safe`` : Out(SafeCounts), the safe
        pulses by cause; ``fired`` : Out(64), the pulses sent (the beat on ``symbols``
        included).
    hold : In(1)
        The symbol path misses the cycle's beat (the laser sends the safe symbol): a test hook
        that proves the timebase independent of the symbol path, tied to 0 in use.
    thresholds, lut_write : In
        Mapper registers.
    query, answer, cache_head
        RND cache lookups and its write head.
    link_payload : In(stream.Signature(32)), downlink : Out(stream.Signature(DownlinkWord))
        Payload words into the sync framer, and its downlink words.
    """

    def __init__(
        self, lanes: int = LANES, cache_rows: int = 16384, health: HealthConfig = HealthConfig()
    ) -> None:
        self._lanes = lanes
        self.intake = QrngHealthIntake(lanes, health)
        self.mapper = SymbolMapper(lanes)
        self.timebase = LaserTimebase(lanes)
        self.cache = RndCache(lanes, cache_rows)
        self.framer = SyncFramer()
        super().__init__({
            "qrng": In(stream.Signature(qrng_beat(lanes))),
            "symbols": Out(stream.Signature(symbol_beat(lanes))),
            "safe": Out(SafeCounts),
            "fired": Out(64),
            "hold": In(1),
            "thresholds": In(MapperConfig, init=CONFIG_INIT),
            "lut_write": In(LutWrite),
            "alarm": Out(HealthAlarm),
            "query": In(stream.Signature(CacheQuery)),
            "answer": Out(stream.Signature(CacheAnswer)),
            "cache_head": Out(64),
            "link_payload": In(stream.Signature(32)),
            "downlink": Out(stream.Signature(DownlinkWord)),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.intake = intake = self.intake
        m.submodules.mapper = mapper = self.mapper
        m.submodules.timebase = timebase = self.timebase
        m.submodules.cache = cache = self.cache
        m.submodules.framer = framer = self.framer

        connect(m, flipped(self.qrng), intake.i)
        connect(m, intake.o, mapper.i)
        connect(m, mapper.o, timebase.i)
        m.d.comb += [
            self.symbols.valid.eq(timebase.o.valid),
            self.symbols.payload.eq(timebase.o.payload),
            self.alarm.eq(intake.alarm),
            mapper.thresholds.eq(self.thresholds),
            mapper.lut_write.eq(self.lut_write),
            timebase.alarm.eq(intake.alarm.as_value().any()),
            timebase.hold.eq(self.hold),
            timebase.safe_drive.eq(mapper.safe_drive),
            self.safe.eq(timebase.safe),
            self.fired.eq(timebase.fired),
            # Every fired beat, random or safe, goes into the cache (always ready).
            cache.write.valid.eq(timebase.o.valid),
            cache.write.payload.eq(timebase.o.payload.symbol),
            self.cache_head.eq(cache.head),
        ]
        connect(m, flipped(self.query), cache.query)
        connect(m, cache.answer, flipped(self.answer))
        connect(m, flipped(self.link_payload), framer.payload)
        connect(m, framer.o, flipped(self.downlink))
        return m
