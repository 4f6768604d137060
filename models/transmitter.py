"""Laser timebase golden model (SPEC 2, 3): which pulses carry a random symbol, which the safe one.

The laser fires every pulse (1.6 ns) whatever the logic does, so the pulse index is the laser's
count: beat ``b`` (pulses ``L*b .. L*b + L-1``) is fired ``b`` cycles after the first. The QRNG
beat offered in cycle ``b`` after reset is the one meant for beat ``b``
(:class:`rtl.satellite.timebase.LaserTimebase`: the intake and the mapper are fixed-latency
stages that never stall); beat ``b`` carries its random symbols, from the words of its own
pulses (:func:`models.qrng.source_words`), unless

* the health tests have raised their alarm at a beat ``<= b`` (cause :attr:`SafeCause.ALARM`:
  the alarm is sticky, every later beat is safe), or else
* the QRNG offered no beat in cycle ``b``, or the symbol path did not deliver it (``hold``)
  (cause :attr:`SafeCause.UNDERFLOW`);

those beats carry the safe symbol (:func:`models.symbols.with_safe`). The health tests see the
offered beats only, in order (:func:`models.health.run_health_tests`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from models.health import HealthConfig, run_health_tests
from models.patterns import happens
from models.qrng import FAULT_NONE, source_words
from models.symbols import DEFAULT_LUT, DriveLut, MapperConfig, Symbols, map_symbols, with_safe

#: Cycles from the QRNG beat of a slot to the timebase that sends it (health intake: two
#: registers, symbol mapper: one); :class:`rtl.satellite.timebase.LaserTimebase` starts this late.
PIPELINE_CYCLES = 3

#: The simulated symbol-path holds: the xorshift generator of seed ``seed ^ this``.
HOLD_SEED_XOR = 0x401D_5EED


def symbol_path_holds(seed: int, per_1024: int, beats: int) -> np.ndarray:
    """Bool per beat: the co-simulation's hold generator (seed ``seed ^ HOLD_SEED_XOR``, running
    from reset) holds the symbol path when the timebase handles that beat, ``PIPELINE_CYCLES``
    cycles after the beat's QRNG slot."""
    return happens(seed ^ HOLD_SEED_XOR, per_1024, beats + PIPELINE_CYCLES)[PIPELINE_CYCLES:]


class SafeCause(enum.IntEnum):
    """Why a beat carries the safe symbol (``NONE``: it carries random symbols)."""

    NONE = 0
    UNDERFLOW = 1
    ALARM = 2


@dataclass(frozen=True)
class QrngFault:
    """A simulated source fault (:mod:`models.qrng` code) from beat ``from_beat`` on."""

    code: int = FAULT_NONE
    from_beat: int = 0


NO_FAULT = QrngFault()


@dataclass(frozen=True)
class LaserSchedule:
    """Per beat, why it is safe (:class:`SafeCause` codes, uint8); the alarm beat and which
    tests failed; the source fault the schedule was made for."""

    cause: np.ndarray
    alarm_beat: int | None = None
    rct: bool = False
    apt: bool = False
    fault: QrngFault = NO_FAULT

    def safe_pulses(self, lanes: int, beats: int | None = None) -> dict[str, int]:
        """Safe pulses by cause among the first ``beats`` beats (all by default)."""
        cause = self.cause[:beats]
        return {c.name.lower(): lanes * int(np.count_nonzero(cause == c))
                for c in (SafeCause.UNDERFLOW, SafeCause.ALARM)}


def laser_schedule(seed: int, lanes: int, offered: np.ndarray, hold: np.ndarray | None = None,
                   fault: QrngFault = NO_FAULT, health: HealthConfig = HealthConfig()
                   ) -> LaserSchedule:
    """The schedule of ``len(offered)`` beats: ``offered[b]`` the QRNG offered beat ``b``,
    ``hold[b]`` the symbol path held it (default never), ``fault`` the source's fault."""
    offered = np.asarray(offered, dtype=bool)
    beats = offered.size
    hold = np.zeros(beats, dtype=bool) if hold is None else np.asarray(hold, dtype=bool)
    if hold.size != beats:
        raise ValueError(f"laser_schedule: hold has {hold.size} beats, offered {beats}")
    cause = np.where(offered & ~hold, SafeCause.NONE, SafeCause.UNDERFLOW).astype(np.uint8)
    alarm_beat, rct, apt = None, False, False
    if fault.code != FAULT_NONE:
        slots = np.flatnonzero(offered)
        words = qrng_slot_words(seed, lanes, slots, fault)
        verdict = run_health_tests(words, health)
        if verdict.fail_beat is not None:
            alarm_beat = int(slots[verdict.fail_beat])
            rct, apt = verdict.rct, verdict.apt
            cause[alarm_beat:] = SafeCause.ALARM
    return LaserSchedule(cause, alarm_beat, rct, apt, fault)


def pulse_words(seed: int, lanes: int, pulses: np.ndarray, fault: QrngFault = NO_FAULT
                ) -> np.ndarray:
    """The words the simulated source offers for pulse indices ``pulses`` (any shape)."""
    pulses = np.asarray(pulses, dtype=np.uint64)
    words = source_words(seed, pulses)
    if fault.code != FAULT_NONE:
        faulty = pulses >= np.uint64(fault.from_beat * lanes)
        words[faulty] = source_words(seed, pulses[faulty], fault.code)
    return words


def qrng_slot_words(seed: int, lanes: int, beats: np.ndarray, fault: QrngFault = NO_FAULT
                    ) -> np.ndarray:
    """``[len(beats), lanes]`` words the simulated source offers for beats ``beats``."""
    beats = np.asarray(beats, dtype=np.uint64)
    return pulse_words(seed, lanes, beats[:, None] * np.uint64(lanes) + np.arange(
        lanes, dtype=np.uint64), fault)


def transmitted_symbols(seed: int, pulses: np.ndarray, schedule: LaserSchedule, lanes: int,
                        config: MapperConfig = MapperConfig(), lut: DriveLut = DEFAULT_LUT
                        ) -> Symbols:
    """What the laser sent at pulse indices ``pulses`` (any shape, all inside the schedule):
    the random symbol of the pulse (from the source's words, the schedule's fault included), or
    the safe symbol where its beat is safe."""
    pulses = np.asarray(pulses, dtype=np.uint64)
    beat = (pulses // np.uint64(lanes)).astype(np.int64)
    if beat.size and int(beat.max()) >= schedule.cause.size:
        raise ValueError(f"transmitted_symbols: pulse {int(pulses.max())} is beyond the "
                         f"schedule's {schedule.cause.size} beats")
    symbols = map_symbols(pulse_words(seed, lanes, pulses, schedule.fault), config, lut)
    return with_safe(symbols, schedule.cause[beat] != SafeCause.NONE, lut)
