"""models.postprocess.finitekey: a parsed COUNTS.json block is a value (no field can be
rebound after its checks ran)."""

import dataclasses

import pytest

from tests.postprocess.test_finitekey import counts


def test_key_rate_input_cannot_be_changed_after_its_checks():
    block = counts([1000, 100, 10], [10, 5, 5])
    with pytest.raises(dataclasses.FrozenInstanceError):
        block.leak_ec_bits = {"Z": -1, "X": -1}
