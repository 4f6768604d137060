"""models.channel.link_budget: losses in dB of scalar and array efficiencies."""

import numpy as np
import pytest

from models.channel.link_budget import to_db


def test_to_db_of_scalars_and_arrays():
    assert to_db(0.1) == pytest.approx(10.0) and to_db(1e-3) == pytest.approx(30.0)
    assert to_db(np.array([1.0, 0.01])) == pytest.approx([0.0, 20.0])
