"""SatelliteSiftUnit, directed: its defaults are the flight RND cache (the transmitter's
``RndCache`` default, 4 lanes x 16384 rows; the tests elsewhere use small caches)."""

from amaranth.hdl import Value

from models.constants import LANES
from rtl.satellite.rnd_cache import RndCache
from rtl.sifting.satellite_sift import SatelliteSiftUnit


def test_defaults_build_the_flight_cache():
    unit = SatelliteSiftUnit()
    cache = RndCache()
    assert Value.cast(unit.write.payload).shape() == Value.cast(cache.write.payload).shape()
    assert len(Value.cast(unit.write.payload)) == 4 * LANES == 16
