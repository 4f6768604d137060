"""Stream payloads of the sifting blocks. Bit orders match the golden models (LSB first):

* :data:`DetectionRecord` is the ground timing chain's output (SPEC 4.3), the input of
  :class:`rtl.sifting.ground_report.GroundReport`: 64-bit pulse index, basis, measured bit.
* :data:`Report` adds the sampling flag. The ground keeps the measured bit in ``bit``; the uplink
  frame carries ``bit & sampled`` (``models.sifting.messages``), which is what the satellite sees.
* :data:`SiftEntry` is the 4-bit sift entry of ``models.sifting.entries`` (integer value =
  ``intensity | match << 2 | missing << 3``).
* :data:`KeyBeat` is one sifted-key bit with its tags, as ``models.sifting.packets.key_beats``.
"""

from amaranth.lib import data

from rtl.satellite.layouts import PULSE_INDEX_BITS, Basis

DetectionRecord = data.StructLayout({"pulse": PULSE_INDEX_BITS, "basis": Basis, "bit": 1})

Report = data.StructLayout({"pulse": PULSE_INDEX_BITS, "basis": Basis, "sampled": 1, "bit": 1})

SiftEntry = data.StructLayout({"intensity": 2, "match": 1, "missing": 1})

KeyBeat = data.StructLayout({"bit": 1, "basis": Basis, "intensity": 2, "last": 1})

# Input of the common sifting back end (rtl.sifting.sifter.Sifter): one detection.
SiftItem = data.StructLayout({
    "entry": SiftEntry,
    "basis": Basis,
    "sampled": 1,
    "key_bit": 1,  # the bit this side puts in its key (satellite: symbol bit, ground: measured)
    "ref_bit": 1,  # the satellite: the reported bit of a sampled detection (error count)
})

# Per-(basis, intensity) counter arrays, index 3 * basis + intensity.
COUNTER_BITS = 32
Counters = data.ArrayLayout(COUNTER_BITS, 6)


def check_sizes(owner: str, **sizes: tuple[int, int, int]) -> None:
    """Raise ``ValueError`` naming the first size ``name=(value, low, high)`` that is not a power
    of two in ``low..high`` (buffer depths, frame lengths: they index memories by bit slices)."""
    for name, (value, low, high) in sizes.items():
        if value < low or value & (value - 1) or value > high:
            raise ValueError(f"{owner}: {name}={value} must be a power of two in {low}..{high}")
