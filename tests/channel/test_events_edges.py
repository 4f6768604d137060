"""The photon channel model (:mod:`models.channel`) at its windows' edges: a slice of link
efficiency 1 between two slices of 0 gives detections on exactly its pulses (first and last
included, the pulse before and after not); the dead time keeps a click exactly ``dead`` pulses
after the last registered one of its detector and loses one a pulse earlier (non-paralysable:
measured from the registered click, not from a lost one); the moon's window adds background to
the slice that starts on its first second and not to the one that starts on its end; the
detector and slice parameters are taken on their range ends and refused one step outside."""

from dataclasses import replace

import numpy as np
import pytest

from models.channel.config import REPO_CONFIGS, load_pass
from models.channel.events import (
    ChannelError,
    DetectorParams,
    SourceParams,
    _apply_dead_time,
    generate_detections,
)
from models.channel.passmodel import config_slices

QUIET = DetectorParams(background_cps=0.0, dark_cps=0.0, afterpulse_prob=0.0, dead_time_ns=0.0)


def test_detections_on_exactly_the_pulses_of_the_lit_slice():
    # 30 photons a pulse on every class: a pulse without a click has probability e^-30
    source = SourceParams(intensities=(30.0, 30.0, 30.0))
    edges = np.array([0, 1000, 1050, 2000])
    d = generate_detections(3, 4, edges, np.array([0.0, 1.0, 0.0]), source, QUIET, rng_seed=2)
    assert d.pulse.tolist() == list(range(1000, 1050))
    last = generate_detections(3, 4, np.array([0, 10, 20]), np.array([0.0, 1.0]), source, QUIET,
                               rng_seed=2)
    assert last.pulse.tolist() == list(range(10, 20))  # the last pulse of the pass included


# 22 ns at 1.6 ns a pulse: 13.75 pulses dead, so a click 14 pulses on is kept, 13 is lost
DEAD = 22e3 / SourceParams().period_ps


@pytest.mark.parametrize(("pulses", "kept"), [
    ([0, 13], [1, 0]),
    ([0, 14], [1, 1]),
    ([0, 15], [1, 1]),
    ([0, 13, 14], [1, 0, 1]),  # 14 is measured from the click at 0, not from the lost 13
    ([0, 13, 27], [1, 0, 1]),
    ([0, 14, 27], [1, 1, 0]),
])
def test_dead_time_edge_on_one_detector(pulses, kept):
    keep = _apply_dead_time(np.array(pulses), np.zeros(len(pulses), dtype=np.uint8), DEAD)
    assert keep.astype(int).tolist() == kept


def test_dead_time_is_per_detector():
    keep = _apply_dead_time(np.array([0, 5, 0, 5]), np.array([0, 0, 1, 1], dtype=np.uint8), DEAD)
    assert keep.tolist() == [True, False, True, False]
    keep = _apply_dead_time(np.array([0, 0]), np.array([0, 1], dtype=np.uint8), DEAD)
    assert keep.tolist() == [True, True]


def test_moon_window_from_a_slice_start_up_to_but_not_including_its_end():
    config = load_pass(REPO_CONFIGS / "passes" / "wuhan-2023-09-01.toml")
    base = config_slices(config)
    start = base.edges[:-1] / config.source.pulse_rate_hz  # slice starts, seconds
    k, m = 40, 50
    slices = config_slices(replace(config, moon_fov_s=(float(start[k]), float(start[m]))))
    lit = np.flatnonzero(slices.extra_background_cps).tolist()
    assert lit == list(range(k, m))
    assert np.all(slices.extra_background_cps[k:m] == config.moon_fov_cps)


@pytest.mark.parametrize("edges", [[0, 1], [5, 6, 7]])
def test_slices_of_one_pulse_are_taken(edges):
    eta = np.zeros(len(edges) - 1)
    assert len(generate_detections(1, 2, np.array(edges), eta, detector=QUIET)) == 0


@pytest.mark.parametrize(("edges", "eta", "match"), [
    ([0, 10, 10], [0.1, 0.1], "ascending"),
    ([0, 10], [1 + 1e-12], "eta"),
    ([0, 10], [-1e-12], "eta"),
])
def test_slices_one_step_outside_are_refused(edges, eta, match):
    with pytest.raises(ChannelError, match=match):
        generate_detections(1, 2, np.array(edges), np.array(eta))


@pytest.mark.parametrize("eta", [0.0, 1.0])
def test_efficiency_ends_are_taken(eta):
    generate_detections(1, 2, np.array([0, 10]), np.array([eta]), detector=QUIET)


@pytest.mark.parametrize("name", ["afterpulse_prob", "pol_error", "z_split"])
def test_probabilities_on_their_ends_taken_one_step_outside_refused(name):
    for value in (0.0, 1.0):
        DetectorParams(**{name: value})
    for value in (-1e-12, 1 + 1e-12):
        with pytest.raises(ChannelError, match=name):
            DetectorParams(**{name: value})


def test_rates_and_gate_on_their_ends():
    DetectorParams(background_cps=0.0, dark_cps=0.0, dead_time_ns=0.0, afterpulse_tau_ns=0.0,
                   gate_ps=1e-9)
    with pytest.raises(ChannelError, match="gate_ps"):
        DetectorParams(gate_ps=0.0)
    with pytest.raises(ChannelError, match="dead_time_ns"):
        DetectorParams(dead_time_ns=-1e-12)
