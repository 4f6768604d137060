"""Stream payloads of the ground receiver (values and widths those of :mod:`models.ground`)."""

from amaranth.hdl import signed
from amaranth.lib import data, enum

from models.constants import TDC_FINE_BITS
from models.ground import timing


class Status(enum.Enum, shape=3):
    ACCEPTED = timing.Status.ACCEPTED.value
    OUTSIDE_GATE = timing.Status.OUTSIDE_GATE.value
    NO_SYNC = timing.Status.NO_SYNC.value
    BAD_PERIOD = timing.Status.BAD_PERIOD.value
    OVERFLOW = timing.Status.OVERFLOW.value
    ORDER = timing.Status.ORDER.value
    BAD_CHANNEL = timing.Status.BAD_CHANNEL.value
    TRUNCATED = timing.Status.TRUNCATED.value


Tag = data.StructLayout({
    "time": timing.TIME_BITS,
    "channel": 3,
    "frame": timing.FRAME_BITS,
})

TimingRecord = data.StructLayout({
    "n": 64,
    "channel": 3,
    "r16": signed(16),
    "status": Status,
})

RawHit = data.StructLayout({
    "coarse": timing.TIME_BITS,
    "fine": TDC_FINE_BITS,
    "channel": 3,
    "calibration": 1,
})
"""One TDC hit before calibration: ``coarse`` the 64-bit picosecond time of the clock edge that
sampled it, ``fine`` the ones count of the sampled line (time before that edge, in taps),
``calibration`` set when the hit came from the calibration oscillator (sampled inside a
calibration slot)."""

JoinWindow = data.StructLayout({
    "frame": timing.FRAME_BITS,
    "lo": timing.TIME_BITS,
    "hi": timing.TIME_BITS,
    "deadline": timing.TIME_BITS,
})
"""A frame event waiting in :class:`rtl.ground.sync_join.SyncJoin`: its frame counter, the
window ``[lo, hi]`` in which its strobe must lie and the time after which none can still come."""
