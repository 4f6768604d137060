"""rtl.common.payload at the corners the layouts of rtl/ do not reach: an unknown field in an
array of structs given as a struct of arrays, a 63-bit signed leaf, a 64-bit leaf that straddles
two words by one bit."""

import numpy as np
import pytest
from amaranth.hdl import signed
from amaranth.lib import data

from rtl.common.payload import PayloadError, pack, pack_array, unpack, unpack_array

PAIR = data.StructLayout({"a": 4, "b": 4})


def test_unknown_field_in_an_array_of_structs_given_as_a_struct_of_arrays_is_an_error():
    layout = data.ArrayLayout(PAIR, 3)
    rows = np.arange(6).reshape(2, 3)
    assert pack_array(layout, {"a": rows, "b": rows}).tolist() == [
        sum(v << (8 * i) | v << (8 * i + 4) for i, v in enumerate(row)) for row in rows.tolist()]
    with pytest.raises(PayloadError, match=r"unknown field\(s\) \['c'\]"):
        pack_array(layout, {"a": rows, "b": rows, "c": rows})


def test_63_bit_signed_leaf_keeps_its_sign():
    layout = data.StructLayout({"x": signed(63)})
    values = [-1, -(1 << 62), (1 << 62) - 1, 0]
    assert unpack_array(layout, pack_array(layout, {"x": np.array(values)}))["x"].tolist() \
        == values
    assert unpack(layout, pack(layout, {"x": -5})) == {"x": -5}


def test_64_bit_leaf_one_bit_into_the_word_carries_its_top_bit_into_the_next():
    layout = data.StructLayout({"a": 1, "b": 64})
    a, b = [1, 0, 1], [(1 << 64) - 1, 1 << 63, 5]
    packed = pack_array(layout, {"a": np.array(a), "b": np.array(b, dtype=np.uint64)})
    assert packed.tolist() == [x | y << 1 for x, y in zip(a, b, strict=True)]
    assert unpack_array(layout, packed)["b"].tolist() == b
