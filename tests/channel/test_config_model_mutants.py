"""models.channel.config: each range check accepts its bound and rejects just beyond it."""

from pathlib import Path

import pytest

from models.channel.config import PassConfigError, load_pass
from tests.channel.test_config import GOOD

STATION = 'station = "jinan"\n'


def _load(tmp_path: Path, text: str):
    path = tmp_path / "p.toml"
    path.write_text(text)
    return load_pass(path)


@pytest.mark.parametrize("text", [
    GOOD + "[postprocess]\npacket_bits = 1000\npa_block_bits = 500000\n",
    GOOD + f"seed = {(1 << 64) - 1}\n",
    STATION + "max_elevation_deg = 90.0\n",
    GOOD + "duration_s = 3600.0\n",
])
def test_range_bounds_are_accepted(tmp_path: Path, text: str):
    _load(tmp_path, text)


@pytest.mark.parametrize(("text", "match"), [
    (GOOD + "[postprocess]\npacket_bits = 999\npa_block_bits = 499500\n", "packet_bits=999"),
    (GOOD + f"seed = {1 << 64}\n", "seed="),
    (GOOD + f"ground_seed = {1 << 64}\n", "ground_seed="),
    (STATION + "max_elevation_deg = 90.5\n", "max_elevation_deg=90.5"),
    (GOOD + "duration_s = 3600.5\n", "duration_s=3600.5"),
])
def test_values_just_beyond_a_bound_are_rejected(tmp_path: Path, text: str, match: str):
    with pytest.raises(PassConfigError, match=match):
        _load(tmp_path, text)
