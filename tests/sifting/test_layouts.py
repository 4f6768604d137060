"""``rtl.sifting.layouts``: the payload layouts carry the models' bit orders (SPEC 4.3-5), and
``check_sizes`` wants buffer depths and frame lengths that are powers of two in their range
(they index memories by bit slices), naming the first bad size."""

import pytest
from amaranth.hdl import Shape, unsigned

from models.sifting.entries import SiftCode
from models.sifting.messages import ENTRY_BITS
from rtl.common.payload import pack
from rtl.satellite.layouts import PULSE_INDEX_BITS
from rtl.sifting.layouts import DetectionRecord, KeyBeat, Report, SiftEntry, check_sizes


def test_layouts_carry_the_models_bit_orders():
    # A sift entry is the 4-bit code of models.sifting.entries: intensity | match << 2 |
    # missing << 3 (8 per downlink word).
    assert SiftEntry.size == ENTRY_BITS
    assert [pack(SiftEntry, {"intensity": c & 3, "match": c >> 2 & 1, "missing": c >> 3})
            for c in range(16)] == list(range(16))
    assert pack(SiftEntry, {"intensity": 3, "match": 0, "missing": 1}) == SiftCode.MISSING
    one = unsigned(1)
    assert [Shape.cast(DetectionRecord[f].shape) for f in ("basis", "bit")] == [one] * 2
    assert [Shape.cast(Report[f].shape) for f in ("basis", "sampled", "bit")] == [one] * 3
    assert DetectionRecord.size == PULSE_INDEX_BITS + 2 and Report.size == PULSE_INDEX_BITS + 3
    assert KeyBeat.size == 5


def test_powers_of_two_at_both_ends_of_the_range_pass():
    check_sizes("Block", depth=(2, 2, 1 << 23), window=(1 << 16, 2, 1 << 16), one=(1, 1, 1))


@pytest.mark.parametrize(("size", "value"), [
    ((1, 2, 1 << 16), 1),                # below the range
    ((1 << 17, 2, 1 << 16), 1 << 17),    # above it
    ((6, 2, 1 << 16), 6),                # not a power of two
    ((5, 2, 1 << 16), 5),                # nor with its set bits apart
    (((1 << 16) - 1, 2, 1 << 16), (1 << 16) - 1),
])
def test_a_bad_size_is_named_with_its_range(size, value):
    low, high = size[1], size[2]
    with pytest.raises(ValueError, match=rf"^Block: depth={value} must be a power of two in "
                                         rf"{low}\.\.{high}$"):
        check_sizes("Block", window=(4, 2, 8), depth=size)


def test_the_first_bad_size_is_the_one_named():
    with pytest.raises(ValueError, match="window=3"):
        check_sizes("Block", window=(3, 2, 8), depth=(5, 2, 8))
