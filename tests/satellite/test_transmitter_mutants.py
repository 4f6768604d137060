"""SatelliteTx's default RND cache: the RND cache's own default, 16384 rows of LANES pulses (one
16384 x 1 block RAM per bit on the ECP5), the size the co-simulation runs shrink."""

from models.constants import LANES
from rtl.satellite.rnd_cache import EBR_DEPTH, RndCache
from rtl.satellite.transmitter import SatelliteTx


def test_default_cache_is_one_block_ram_deep_of_lanes_pulses() -> None:
    tx = SatelliteTx()
    assert tx.cache.capacity == EBR_DEPTH * LANES == RndCache().capacity
