"""models.ground.sync_join configuration: the smallest FIFO the join accepts."""

import pytest

from models.ground.sync_join import JoinConfig, JoinConfigError


@pytest.mark.parametrize("depth", [0, 1, 3])
def test_fifo_depth_below_two_or_not_a_power_of_two_is_one_error(depth):
    with pytest.raises(JoinConfigError, match=f"depth {depth} must be a power of two >= 2"):
        JoinConfig(depth=depth)


def test_fifo_depth_two_is_accepted():
    assert JoinConfig(depth=2).depth == 2
