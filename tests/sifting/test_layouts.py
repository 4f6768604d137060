"""``rtl.sifting.layouts.check_sizes``: buffer depths and frame lengths must be powers of two in
their range (they index memories by bit slices); the first bad size is named."""

import pytest

from rtl.sifting.layouts import check_sizes


def test_powers_of_two_at_both_ends_of_the_range_pass():
    check_sizes("Block", depth=(2, 2, 1 << 23), window=(1 << 16, 2, 1 << 16), one=(1, 1, 1))


@pytest.mark.parametrize(("size", "value"), [
    ((1, 2, 1 << 16), 1),                # below the range
    ((1 << 17, 2, 1 << 16), 1 << 17),    # above it
    ((6, 2, 1 << 16), 6),                # not a power of two
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
