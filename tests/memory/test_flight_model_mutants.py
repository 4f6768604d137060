"""models.memory.flight: the cache is the smallest power of two of pulses that covers the last
copy's lookup, on the rounding edges (``repeat_pulses`` a power of two, one above, one below);
the copy time is set so that the repeat lands on each edge."""

import math

import pytest

from models.channel.config import load_pass
from models.memory import flight
from tests.memory.test_flight_sizes import JINAN


@pytest.mark.parametrize(("offset", "doubles"), [(-1, False), (0, False), (1, True)])
def test_cache_rounds_repeat_up_to_a_power_of_two_on_its_edges(monkeypatch, offset, doubles):
    config = load_pass(JINAN)
    base = flight.flight_sizes(config)
    f, p = base.pulse_rate_hz, base.frame_pulses
    power = 1 << (2 * p + math.ceil(2 * base.light_time_s * f)).bit_length()
    repeat = power + offset
    # repeat = ceil((2 P + 2 L + copy) f): a copy half a pulse short of it lands on `repeat`
    copy = (repeat - 0.5) / f - 2 * p / f - 2 * base.light_time_s
    monkeypatch.setattr(flight, "uplink_copy_s", lambda records: copy)
    sizes = flight.flight_sizes(config)
    assert sizes.repeat_pulses == repeat
    assert sizes.cache_pulses == (2 * power if doubles else power)
