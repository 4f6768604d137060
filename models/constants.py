"""System constants that every layer shares (SPEC 1, 2): the one place each is defined.

The satellite emits one pulse per 1.6 ns (625 MS/s). Both FPGAs run their fabric at a quarter of
the pulse rate and handle ``LANES`` pulses per clock cycle; a sync frame (one sync word, 9.5 kHz)
spans ``FRAME_PULSES`` pulses. RTL parameters, golden models, testbenches and runners import these
names instead of repeating the numbers.

Seeds of the simulation's stand-ins for the ground station's physical randomness have one name
per meaning (a ``sample_seed`` / ``squash_seed`` parameter takes exactly that seed):

* :data:`SAMPLE_SEED`: the ground's sampling choice (which detections are revealed for the error
  estimate), :func:`models.sifting.entries.sample_hash`; the default of
  ``SiftConfig.ground_seed`` (:mod:`models.sifting.classical_link`), which is this seed and
  nothing else.
* :data:`SQUASH_SEED`: the ground's random choice among simultaneous clicks (squashing),
  :func:`models.ground.squash.squash` and :class:`rtl.ground.squash.Squasher` in the
  co-simulation (the ground_rx and end-to-end tops).
* A whole-pass run (:mod:`models.channel`) configures one station seed, ``PassConfig.ground_seed``:
  its sampling hash takes it as is, its squashing hash takes :func:`pass_squash_seed` of it, so
  the two choices are independent.
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

PASS_SQUASH_XOR = 0x5A5A_5A5A_5A5A_5A5A


def pass_squash_seed(ground_seed: int) -> int:
    """Squash seed of a whole-pass run whose station seed (= its sample seed) is ``ground_seed``."""
    return ground_seed ^ PASS_SQUASH_XOR

TDC_TAPS = 320
"""Sampled taps of each TDC channel's carry-chain delay line: every second output of a
640-bit carry chain (about 7.6 ns: one fabric clock period plus the margin for delay spread and
drift; the choice and its measured cost: ``docs/ground.md``)."""

TDC_TAP_STRIDE = 2
"""Carry outputs per sampled tap (the second output of every two-bit CCU2C)."""

TDC_FINE_BITS = 10
"""Width of a TDC fine code (the ones count of the sampled line, at most ``TDC_TAPS``)."""

TDC_CHANNELS = 5
"""TDC channels: the four detectors (0..3, H V D A) and the sync strobe (4)."""

TDC_LINE_SEED = 0x7DC_11E5
"""Seed of the behavioural delay line's per-tap delays, skews and bubbles (simulation only)."""

TDC_PULSE_PS = 10_000
"""Width of a detector's output pulse at the TDC input (longer than one fabric clock period)."""

TDC_DEAD_CYCLES = 4
"""Default dead time of a TDC channel in fabric cycles (25.6 ns, within a SPAD's dead time)."""

TDC_STUCK_CYCLES = 16
"""Cycles a TDC input may stay high before it is reported stuck (102.4 ns, 10 pulse widths)."""

TDC_CAL_SLOT_CYCLES = 8
"""Length of a TDC calibration slot in fabric cycles: the line input is switched to the on-chip
ring oscillator, which gives one pulse whose rise is uniform over one clock period, starting one
period after the switch (``models.ground.tdc.channel_input``)."""

TDC_MUX_DELAY_PS = 500
"""Delay of the calibration mux's switching after the clock edge that changes its select (a
fabric flop's clock-to-output plus routing): a phantom edge made by switching back onto a high
detector pulse comes after the edge, never at it."""

TDC_CAL_PERIOD = 1024
"""Default fabric cycles from one calibration slot to the next (a power of two: slots start
where ``cycle % TDC_CAL_PERIOD == 0``); 152.6k calibration hits per second per channel, and
9/1024 of the detector time blanked (the slot and the cycle after it)."""

TDC_CAL_HITS = 1 << 16
"""Default calibration hits per code-density table (a power of two: the division is a shift);
0.43 s per table at the default period, statistical INL of a bin centre about 10 ps RMS."""

TDC_CAL_SEED = 0xCA1_05C
"""Seed of the calibration ring oscillators' pulse phases (simulation only)."""

TDC_SKEW_BITS = 16
"""Width of a TDC channel's signed skew register in ps (+-32.7 ns)."""
