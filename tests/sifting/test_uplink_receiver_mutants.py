"""UplinkReceiver, directed: its parameter limits at their edges (a copy's word count fits the
24-bit count field: at most 2**23 buffer words; the cache life up to 2**48 pulses)."""

import pytest

from rtl.sifting.uplink_receiver import UplinkReceiver


def test_buffer_depth_and_cache_life_limits():
    UplinkReceiver(frame_pulses=64, depth=1 << 23, cache_pulses=1 << 48)
    UplinkReceiver(frame_pulses=64, depth=2, cache_pulses=1)
    with pytest.raises(ValueError, match="depth=16777216"):
        UplinkReceiver(frame_pulses=64, depth=1 << 24)
    for cache in (0, (1 << 48) + 1):
        with pytest.raises(ValueError, match=f"cache_pulses={cache}"):
            UplinkReceiver(frame_pulses=64, cache_pulses=cache)
