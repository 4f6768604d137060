r"""QRNG intake with SP 800-90B-style online health tests (SPEC 3.1).

Overview
--------
Every byte of every lane's 32-bit QRNG word is one channel of 8-bit samples (``4 * lanes``
channels). Each channel runs the repetition count test and the adaptive proportion test of
:mod:`models.health` (cutoffs from :class:`models.health.HealthConfig`). The tests judge each
input beat *before* it is forwarded: a beat that trips a test never reaches the symbol mapper. The
alarm is sticky until reset, and after it no beat is forwarded (symbol generation stops); the
input keeps being drained so the physical QRNG never backs up.

Stream contract
---------------
``i``: raw QRNG beats (:func:`rtl.satellite.layouts.qrng_beat`). ``o``: the same beats, unchanged,
while the source is healthy. ``alarm``: which test failed (sticky).

Latency, throughput
Two register stages: the probe register holds the accepted beat with each channel's verdict, the
output register takes it one cycle later if every channel passed. Latency 2 cycles, one beat per
cycle; both stages move together, so ``i.ready = ~o.valid | o.ready`` (or 1 once alarmed)::

    clk      _/‾\_/‾\_/‾\_/‾\_/‾\_/‾\_
    i.valid  ‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾
    i.payload  A   B   C(fails)
    o.valid  ________/‾‾‾‾‾‾‾\________
    o.payload          A   B
    alarm    ________________/‾‾‾‾‾‾‾‾

Resources: per channel an 8-bit last sample, a run counter, an 8-bit window reference, a window
counter and two verdict flags; one shared window position counter; the probe's payload.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from models.constants import LANES
from models.health import SAMPLE_BITS, HealthConfig
from rtl.satellite.layouts import QRNG_WORD_BITS, HealthAlarm, qrng_beat

#: Cycles from a beat taken on ``i`` to the same beat on ``o`` (probe and output registers).
INTAKE_LATENCY = 2


class QrngHealthIntake(wiring.Component):
    """QRNG beats through repetition count and adaptive proportion tests.

    Latency 2 cycles, one beat per cycle, ``i.ready = ~o.valid | o.ready`` (1 once alarmed).

    Members
    -------
    i : In(stream.Signature(qrng_beat(lanes)))
        Raw QRNG beats.
    o : Out(stream.Signature(qrng_beat(lanes)))
        The same beats while the source is healthy; none after an alarm.
    alarm : Out(HealthAlarm)
        Which test failed (sticky until reset).
    """

    def __init__(self, lanes: int = LANES, config: HealthConfig = HealthConfig()) -> None:
        self._lanes = lanes
        self._config = config
        super().__init__({
            "i": In(stream.Signature(qrng_beat(lanes))),
            "o": Out(stream.Signature(qrng_beat(lanes))),
            "alarm": Out(HealthAlarm),
        })

    def elaborate(self, platform):
        m = Module()
        cfg = self._config
        rct_cutoff, apt_cutoff, window = cfg.rct_cutoff, cfg.apt_cutoff, cfg.apt_window

        alarmed = Signal()
        m.d.comb += alarmed.eq(self.alarm.rct | self.alarm.apt)
        can_load = ~self.o.valid | self.o.ready
        m.d.comb += self.i.ready.eq(can_load | alarmed)
        accept = Signal()
        m.d.comb += accept.eq(self.i.valid & self.i.ready & ~alarmed)

        window_pos = Signal(range(window))
        window_start = window_pos == 0
        with m.If(accept):
            m.d.sync += window_pos.eq(Mux(window_pos == window - 1, 0, window_pos + 1))

        # Stage 1 (``probe``): the accepted beat with its per-channel verdicts. Stage 2 (``o``):
        # the beat when every channel passed. Registering the verdicts keeps the 8-bit compares
        # and the 2 * 4 * lanes-input OR on separate cycles (Fmax); the OR then reads flip-flops
        # next to ``o.valid`` instead of the far payload register.
        probe_valid = Signal()
        probe_payload = Signal.like(self.i.payload)
        channels = self._lanes * (QRNG_WORD_BITS // SAMPLE_BITS)
        probe_rct = Signal(channels)
        probe_apt = Signal(channels)

        rct_fails, apt_fails = [], []
        per_word = QRNG_WORD_BITS // SAMPLE_BITS
        for lane in range(self._lanes):
            for byte in range(per_word):
                sample = self.i.payload[lane][byte * SAMPLE_BITS:(byte + 1) * SAMPLE_BITS]
                tag = f"l{lane}b{byte}"

                # Counters stay below their cutoffs until the alarm, so "this sample reaches the
                # cutoff" is "it repeats and the counter is at cutoff - 1": a registered flag
                # keeps the counters' adders off the path that gates the output (Fmax).
                last = Signal(SAMPLE_BITS, name=f"rct_last_{tag}")
                run = Signal(range(rct_cutoff + 1), name=f"rct_run_{tag}")
                run_next = Signal.like(run, name=f"rct_run_next_{tag}")
                run_at_max = Signal(name=f"rct_at_max_{tag}", init=rct_cutoff <= 1)
                repeats = sample == last
                m.d.comb += run_next.eq(Mux(repeats, run + 1, 1))
                rct_fails.append((repeats & run_at_max) | (rct_cutoff <= 1))

                ref = Signal(SAMPLE_BITS, name=f"apt_ref_{tag}")
                count = Signal(range(window + 1), name=f"apt_count_{tag}")
                count_next = Signal.like(count, name=f"apt_count_next_{tag}")
                count_at_max = Signal(name=f"apt_at_max_{tag}", init=apt_cutoff <= 1)
                matches = sample == ref
                m.d.comb += count_next.eq(Mux(window_start, 1, count + matches))
                apt_fails.append(Mux(window_start, apt_cutoff <= 1, matches & count_at_max))

                with m.If(accept):
                    m.d.sync += [
                        last.eq(sample), run.eq(run_next), count.eq(count_next),
                        run_at_max.eq(run_next == rct_cutoff - 1),
                        count_at_max.eq(count_next == apt_cutoff - 1),
                    ]
                    with m.If(window_start):
                        m.d.sync += ref.eq(sample)

        with m.If(accept):
            m.d.sync += [
                probe_payload.eq(self.i.payload),
                probe_rct.eq(Cat(*rct_fails)),
                probe_apt.eq(Cat(*apt_fails)),
            ]
        with m.If(can_load):
            m.d.sync += probe_valid.eq(accept)

        rct_fail = Signal()
        apt_fail = Signal()
        m.d.comb += [
            rct_fail.eq(probe_rct.any()),
            apt_fail.eq(probe_apt.any()),
        ]
        # The probe moves on whenever the output register can load; a failing beat is dropped
        # there and sets the alarm (only the first one: beats accepted behind it are dropped).
        with m.If(self.o.valid & self.o.ready):
            m.d.sync += self.o.valid.eq(0)
        with m.If(probe_valid & can_load & ~alarmed):
            m.d.sync += self.o.payload.eq(probe_payload)
            with m.If(rct_fail | apt_fail):
                m.d.sync += [self.alarm.rct.eq(rct_fail), self.alarm.apt.eq(apt_fail)]
            with m.Else():
                m.d.sync += self.o.valid.eq(1)
        return m

