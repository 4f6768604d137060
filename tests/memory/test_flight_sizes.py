"""Flight sizes of the RND cache and the record store (``models.memory.flight``): the table in
``docs/memory.md`` is the generator's, the sizes follow the protocol's timing, and the RTL
refuses anything smaller at elaboration."""

import re
from pathlib import Path

import numpy as np
import pytest
from amaranth.hdl import Fragment

from models.channel.config import load_pass
from models.memory.flight import (
    DESIGN_DETECTION_RATE,
    FlightSizeError,
    flight_pass_sizes,
    flight_sizes,
    flight_table,
    main,
    poisson_bound,
)
from models.sifting.classical_link import (
    MISSING_HEAD,
    LinkConfig,
    SiftConfig,
    downlink_config,
    qrng_symbols,
    run_sifting,
)
from rtl.memory.dram_cache import DramRndCache, MemoryConfigError
from rtl.memory.dram_store import DramRecordStore
from rtl.memory.litedram_gen import CoreConfig, core_address_bits
from rtl.sifting.layouts import Report
from rtl.sifting.link_layer import GroundLink, SatelliteLink
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
    # A lost frame waits one period plus the cache life (a multiple of P) plus the message's
    # flight down, whatever the outage.
    assert jinan.uplink_outage.wait_s == pytest.approx(
        (p + jinan.cache_pulses) / f + jinan.light_time_s, abs=1e-5)
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
    assert bits == 23  # 1 Gbit: 2^23 words; the two take 2^19 + 89,923 of them
    assert bits == 23  # 1 Gbit: 2^23 words; the two take 2^19 + 89,923 of them
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


def test_link_layers_choose_dram_and_refuse_what_cannot_serve_the_pass(jinan):
    """The link layers' constructors apply the flight checks in both memory choices, with one
    line naming the numbers; the tops' sizes are the Jinan pass's."""
    assert flight_pass_sizes() == jinan
    sat = SatelliteLink(memory="dram", cache_pulses=jinan.cache_pulses,
                        round_trip=jinan.round_trip_pulses)
    gnd = GroundLink(memory="dram", store_depth=jinan.store_records,
                     frame_records=jinan.frame_records)
    assert sat.signature.members["dram"].is_signature and "dram" in gnd.signature.members
    assert "dram" not in GroundLink().signature.members  # on-chip by default
    Fragment.get(sat, None), Fragment.get(gnd, None)
    refused = [
        (lambda: SatelliteLink(memory="dram", cache_pulses=jinan.cache_pulses // 2,
                               round_trip=jinan.round_trip_pulses),
         f"SatelliteLink: cache life {jinan.cache_pulses // 2} pulses is shorter than the link "
         f"round trip {jinan.round_trip_pulses} pulses"),
        (lambda: SatelliteLink(round_trip=jinan.round_trip_pulses),
         f"SatelliteLink: cache life 65536 pulses is shorter than the link round trip "
         f"{jinan.round_trip_pulses} pulses"),
        (lambda: GroundLink(memory="dram", store_depth=jinan.frame_records - 1,
                            frame_records=jinan.frame_records),
         f"GroundLink: {jinan.frame_records - 1} records cannot hold one frame period's "
         f"{jinan.frame_records} records"),
        (lambda: GroundLink(frame_records=jinan.frame_records),  # on-chip: 1024 records
         f"GroundLink: 1024 records cannot hold one frame period's {jinan.frame_records}"),
        (lambda: GroundLink(memory="ddr"), "GroundLink: memory='ddr', expected one of bram, dram"),
        (lambda: SatelliteLink(cache_pulses=1 << 20),
         "SatelliteLink: an on-chip cache holds lanes x rows = 65536 pulses, not 1048576"),
    ]
    for make, message in refused:
        with pytest.raises(MemoryConfigError, match=re.escape(message)):
            make()


def test_cli_prints_the_table_or_one_error_line(tmp_path, capsys):
    assert main([str(JINAN)]) == 0
    assert "| **RND cache** | **16,777,216 pulses" in capsys.readouterr().out
    assert main([str(tmp_path / "none.toml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1


@pytest.fixture(scope="module")
def flight_pass(jinan):
    """0.2 s of detections at the design rate (1 M/s), uniform over the pulses."""
    rng = np.random.default_rng(11)
    pulses = int(0.2 * jinan.pulse_rate_hz)
    count = int(0.2 * DESIGN_DETECTION_RATE)
    pulse = np.sort(rng.choice(pulses, count, replace=False)).astype(np.uint64)
    return pulse, rng.integers(0, 2, (2, count)).astype(np.uint8), pulses


@pytest.mark.parametrize("case", ["lossless", "uplink_burst", "both_bursts"])
def test_golden_protocol_at_flight_sizes(jinan, flight_pass, case):
    """The golden protocol with the derived cache and store, the pass's light time and 1 M
    detections/s: a lossless link sifts every frame with no lookup expired; a 50 ms uplink
    burst loses frames that are declared missing (on expiry or on the gap), the store never
    overflows; nor with a 50 ms downlink burst on top."""
    pulse, (basis, bit), pulses = flight_pass
    burst = ((0.05, 0.05),)
    light = jinan.light_time_s
    sift = SiftConfig(cache_pulses=jinan.cache_pulses, store_depth=jinan.store_records,
                      drain_s=0.1)
    up = LinkConfig(latency_s=light, bursts=() if case == "lossless" else burst)
    down = downlink_config(latency_s=light, bursts=burst if case == "both_bursts" else ())
    run = run_sifting(pulse, basis, bit, qrng_symbols(3), sift=sift, uplink=up, downlink=down,
                      pulses=pulses)
    assert run.ground_frames == run.frames and run.store_dropped == 0
    assert run.satellite.dropped == 0, "a lookup expired"
    size = {"lossless": jinan.lossless, "uplink_burst": jinan.uplink_outage,
            "both_bursts": jinan.downlink_burst}[case]
    assert run.store_peak <= size.records_design
    if case == "lossless":
        assert run.missing_frames == 0 and run.store_peak > jinan.uplink_outage.records_design / 3
    else:
        # 50 ms = 15 frame periods: their frames are lost, some declared on the deadline.
        assert run.missing_frames >= 14 and run.timeout_frames > 0
        lost = [seq for seq, head in run.satellite_log if head == MISSING_HEAD]
        frame_of = pulse // np.uint64(sift.frame_pulses)
        assert run.ground.missing == np.count_nonzero(np.isin(frame_of, lost)) > 0
        assert run.store_peak > jinan.lossless.records_design
