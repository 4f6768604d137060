"""Flight sizes of the RND cache and the record store (``models.memory.flight``): the table in
``docs/memory.md`` is the generator's, the sizes follow the protocol's timing, and the RTL
refuses anything smaller at elaboration."""

from pathlib import Path

import pytest

from models.channel.config import load_pass
from models.memory.flight import (
    FlightSizeError,
    flight_sizes,
    flight_table,
    main,
    poisson_bound,
)
from models.sifting.classical_link import SiftConfig
from rtl.memory.dram_cache import DramRndCache, MemoryConfigError
from rtl.memory.dram_store import DramRecordStore
from rtl.memory.litedram_gen import CoreConfig, core_address_bits
from rtl.sifting.layouts import Report
from rtl.sifting.satellite_sift import SatelliteSiftUnit

ROOT = Path(__file__).resolve().parents[2]
JINAN = ROOT / "configs" / "passes" / "jinan-2022-09-25.toml"


@pytest.fixture(scope="module")
def jinan():
    return flight_sizes(load_pass(JINAN))


def test_docs_table_is_the_generated_one(jinan):
    docs = (ROOT / "docs" / "memory.md").read_text()
    assert flight_table(jinan) in docs, "docs/memory.md: regenerate with python -m " \
        "models.memory.flight"


def test_sizes_follow_the_protocol_timing(jinan):
    f, p = jinan.pulse_rate_hz, jinan.frame_pulses
    light = jinan.light_time_s * f
    assert 4.5e-3 < jinan.light_time_s < 4.7e-3  # 1,375 km at 15.7 degrees elevation
    assert jinan.round_trip_pulses == pytest.approx(p + 2 * light + 2 * jinan.uplink_copy_s * f,
                                                    abs=1)
    assert jinan.repeat_pulses - jinan.round_trip_pulses == pytest.approx(
        p - jinan.uplink_copy_s * f, abs=1)
    assert jinan.cache_pulses == 1 << 24 and jinan.cache_pulses // 2 < jinan.round_trip_pulses
    # A lost frame waits one period plus the cache life (a multiple of P), whatever the outage.
    assert jinan.uplink_outage.wait_s == pytest.approx((p + jinan.cache_pulses) / f, abs=1e-5)
    assert jinan.downlink_burst.wait_s == pytest.approx(
        jinan.uplink_outage.wait_s + 0.05 + p / f)
    assert jinan.store_records == poisson_bound(1e6 * jinan.downlink_burst.wait_s)
    assert 20_000 < jinan.peak_rate < 30_000
    assert jinan.lossless.records_budget < jinan.uplink_outage.records_budget


def test_a_longer_frame_period_needs_a_longer_cache():
    config = load_pass(JINAN)
    sizes = flight_sizes(config, SiftConfig(frame_pulses=1 << 23))
    assert sizes.cache_pulses == 1 << 25 and sizes.frame_records > 4 * 3_355
    with pytest.raises(FlightSizeError, match="design rate -1"):
        flight_sizes(config, design_rate=-1)


def test_flight_sizes_build_and_half_the_cache_is_refused(jinan):
    bits = core_address_bits(CoreConfig("ecp5", rows=8192))
    assert bits == 23  # 1 Gbit: 2^23 words; the two take 2^19 + 85,290 of them
    assert bits == 23  # 1 Gbit: 2^23 words; the two take 2^19 + 85,290 of them
    DramRndCache(capacity=jinan.cache_pulses, round_trip=jinan.round_trip_pulses, addr_bits=bits)
    DramRecordStore(width=Report.size, depth=jinan.store_records,
                    frame_records=jinan.frame_records, addr_bits=bits,
                    base=jinan.cache_words)
    with pytest.raises(MemoryConfigError, match=f"cache life {jinan.cache_pulses // 2} pulses "
                       f"is shorter than the link round trip {jinan.round_trip_pulses} pulses"):
        DramRndCache(capacity=jinan.cache_pulses // 2, round_trip=jinan.round_trip_pulses,
                     addr_bits=bits)


def test_on_chip_cache_below_the_round_trip_is_refused(jinan):
    """The synthesis-size on-chip cache (4 lanes x 16384 rows) cannot serve a real pass."""
    with pytest.raises(MemoryConfigError, match="SatelliteSiftUnit: cache life 65536 pulses is "
                       f"shorter than the link round trip {jinan.round_trip_pulses} pulses"):
        SatelliteSiftUnit(round_trip=jinan.round_trip_pulses)
    SatelliteSiftUnit(lanes=1, rows=64, round_trip=64)


def test_cli_prints_the_table_or_one_error_line(tmp_path, capsys):
    assert main([str(JINAN)]) == 0
    assert "| **RND cache** | **16,777,216 pulses" in capsys.readouterr().out
    assert main([str(tmp_path / "none.toml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
