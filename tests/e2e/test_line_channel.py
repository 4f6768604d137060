"""The e2e top's laser-link channel: line faults drawn without a draw per bit, the same for the
same seed, at their rates; applied piece by piece as the testbench does (a capture record at a
time) they give the bits that applying them at once gives; scenario faults in line bits."""

import numpy as np
import pytest

from models.link.channel import BitChannel, ChannelError, apply, event_indices, line_faults
from models.link.line_code import BLOCK_BITS
from sim.e2e_scenario import FADE_BLOCKS, SCENARIO_DIR, line_channels, load_scenario, pass_window

BITS = 2_000_000


def test_event_indices_are_in_range_ascending_and_at_their_rate():
    rng = np.random.default_rng(3)
    at = event_indices(rng, BITS, 1e-3)
    assert np.all(np.diff(at) > 0) and at[0] >= 0 and at[-1] < BITS
    assert abs(len(at) - 2000) < 5 * np.sqrt(2000)
    assert len(event_indices(rng, BITS, 0.0)) == 0


def test_line_faults_are_seeded_and_refuse_bad_rates():
    one = line_faults(BITS, 7, ber=1e-5, fade_rate=1e-5, fade_bits=272, slip_rate=1e-6,
                      bursts=((1000, 500),))
    assert one == line_faults(BITS, 7, ber=1e-5, fade_rate=1e-5, fade_bits=272,
                              slip_rate=1e-6, bursts=((1000, 500),))
    assert one != line_faults(BITS, 8, ber=1e-5, fade_rate=1e-5, fade_bits=272)
    assert (1000, 500) in one.bursts and all(n == 272 for _, n in one.bursts[1:])
    assert 0 < len(one.slips) < 10 and 0 < len(one.flips) < 60
    with pytest.raises(ChannelError, match="ber=2"):
        line_faults(BITS, 7, ber=2.0)


def test_faults_applied_in_pieces_equal_faults_applied_at_once():
    faults = line_faults(200_000, 5, ber=1e-4, fade_rate=1e-4, fade_bits=272,
                         slip_rate=2e-5, bursts=((50_000, 3000),))
    bits = np.random.default_rng(1).integers(0, 2, 200_000, dtype=np.uint8)
    channel = BitChannel(faults)
    pieces = [channel.push(bits[a:a + 16 * BLOCK_BITS])
              for a in range(0, len(bits), 16 * BLOCK_BITS)]
    assert np.array_equal(np.concatenate(pieces), apply(bits, faults))
    assert not np.array_equal(apply(bits, faults)[:len(bits) - 20], bits[:len(bits) - 20])


def test_scenario_faults_become_line_faults():
    scenario = load_scenario(SCENARIO_DIR / "cloud-bursts.toml")
    line = line_channels(scenario, pass_window(scenario), 100_000)
    up = line["up"]
    assert 10_000 < up["latency_cycles"] < 20_000  # ~830 km / c / 32
    bits_per_cycle = BLOCK_BITS / 32
    start, length = up["faults"]["bursts"][0]  # [0.0005 s, 0.0003 s]
    assert start == int(0.0005 / 6.4e-9 * bits_per_cycle)
    assert length == int(0.0003 / 6.4e-9 * bits_per_cycle)
    fades = [b for b in up["faults"]["bursts"] if b[1] == FADE_BLOCKS * BLOCK_BITS]
    assert len(fades) > 0 and line["dn"]["faults"] != up["faults"]
