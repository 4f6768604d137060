"""System constants that every layer shares (SPEC 1, 2): the one place each is defined.

The satellite emits one pulse per 1.6 ns (625 MS/s). Both FPGAs run their fabric at a quarter of
the pulse rate and handle ``LANES`` pulses per clock cycle; a sync frame (one sync word, 9.5 kHz)
spans ``FRAME_PULSES`` pulses. RTL parameters, golden models, testbenches and runners import these
names instead of repeating the numbers.

Seeds of the simulation's stand-ins for physical randomness have one name per meaning; each is
the default of a configuration field that a run can override:

* :data:`SAMPLE_SEED`: the ground's sampling choice (which detections are revealed for the error
  estimate), :func:`models.sifting.entries.sample_hash`.
* :data:`SQUASH_SEED`: the ground's random choice among simultaneous clicks (squashing),
  :func:`models.ground.squash.squash`.
"""

from __future__ import annotations

PULSE_PERIOD_PS = 1600
"""Time between two pulses of the transmitter (625 MHz)."""

PULSE_RATE_HZ = 625e6

LANES = 4
"""Pulses handled per fabric clock cycle (lane ``k`` of cycle ``c`` is pulse ``LANES * c + k``)."""

FABRIC_CLOCK_PS = LANES * PULSE_PERIOD_PS
"""Fabric clock period of both FPGAs, 6400 ps (156.25 MHz)."""

FABRIC_CLOCK_HZ = PULSE_RATE_HZ / LANES

FRAME_PULSES = 1 << 16
"""Pulses per sync frame (one sync word every 104.9 us, 9.54 kHz)."""

SAMPLE_SEED = 0x5EED_0F_6A0
"""Seed of the ground's sampling hash (error-estimation sample)."""

SQUASH_SEED = 0x6A09E667F3BCC908
"""Seed of the ground's squashing hash (one detector among simultaneous clicks)."""
