"""The clock-recovery model (:mod:`models.link.cdr`) and the receiver model's use of its lock pin
(:func:`models.link.receiver.receive` with ``cdr_lock``)."""

import itertools

import numpy as np
import pytest

from models.link import cdr, framing, line_code, receiver
from models.link.line_code import BLOCK_BITS

BLOCKS = 2048
CONFIG = receiver.RxConfig(lock_good=16, lock_bad=4, window=16)


def run(ppm: float, phase: float = 0.3, **kwargs) -> cdr.Recovery:
    return cdr.recover(np.full(BLOCKS, ppm * 1e-6), 12_800.0, phase_ui=phase, **kwargs)


@pytest.mark.parametrize("ppm", [0.0, 27.0, -27.0, 60.0, -60.0])
def test_inside_the_range_it_locks_and_then_takes_every_line_bit_once(ppm):
    rec = run(ppm)
    assert rec.lock_block is not None and rec.lock_block < 400 and rec.locked[-1]
    assert rec.locked[rec.lock_block:].all()
    sampled = cdr.sampled_bits(rec, offset=5).reshape(BLOCKS, BLOCK_BITS)
    after = sampled[rec.lock_block:].ravel()
    assert np.array_equal(np.diff(after), np.ones(len(after) - 1))
    # the recovered block clock runs at the arriving rate: the reference over 1 + d
    assert rec.period_ps[-1] == pytest.approx(12_800.0 / (1 + ppm * 1e-6), rel=1e-9)


def test_sampled_bits_a_stretch_at_a_time_are_the_whole_run_cut():
    rec = run(150.0)  # slipping: the stretches must carry the phase across their ends
    whole = cdr.sampled_bits(rec, offset=7)
    cuts = [0, 1, 500, 1333, BLOCKS]
    parts = [cdr.sampled_bits(rec, 7, a, b) for a, b in itertools.pairwise(cuts)]
    assert np.array_equal(np.concatenate(parts), whole)


@pytest.mark.parametrize("ppm", [150.0, -150.0, 3000.0])
def test_beyond_the_range_it_never_locks_and_slips_bits(ppm):
    rec = run(ppm)
    assert rec.lock_block is None and not rec.locked.any()
    steps = np.diff(cdr.sampled_bits(rec))
    assert set(np.unique(steps)) == {1, 2 if ppm > 0 else 0}  # bits dropped or repeated
    assert not cdr.holds_lock(ppm * 1e-6)


def test_tracking_range_is_the_tuning_range_less_the_phase_margin():
    assert cdr.tracking_range_ppm(step_ppm=10.0) == 90.0
    narrow = cdr.CdrConfig(pull_in_ppm=40.0)
    assert cdr.holds_lock(27e-6, narrow) and not cdr.holds_lock(45e-6, narrow)


def test_without_light_the_lock_is_lost_and_the_loop_holds_no_frequency():
    signal = np.ones(BLOCKS, dtype=bool)
    signal[1000:] = False
    rec = run(20.0, signal=signal, seed=3)
    assert rec.locked[999] and not rec.locked[1000:].any()


def test_relative_rate_adds_the_oscillators_and_the_doppler_shift():
    assert cdr.relative_rate(1.0, -1.0, 0.0) == pytest.approx(2e-6, rel=1e-5)
    receding = cdr.relative_rate(0.0, 0.0, 7500.0)
    assert receding == pytest.approx(-7500.0 / 299_792_458.0, rel=1e-4)


def test_the_schedule_averages_the_periods_per_segment():
    rec = run(27.0)
    sched = cdr.schedule(rec, 16, 100.0)
    assert len(sched.periods_as) == BLOCKS // 16 and sched.phase_as == 100_000_000
    assert sched.periods_as[5] == round(rec.period_ps[80:96].mean() * 1e6)


@pytest.mark.parametrize("kwargs", [{"pull_in_ppm": 0.0}, {"kp": 1.5}, {"ki": 0.5},
                                    {"lock_blocks": 0}, {"lock_ui": 0.5}])
def test_bad_loop_parameters_are_refused(kwargs):
    with pytest.raises(cdr.CdrConfigError, match="CDR"):
        cdr.CdrConfig(**kwargs)


def _line(lead: int = 100) -> tuple[np.ndarray, list[list[int]]]:
    msgs = [[1, 2, 3], [4, 5, 6, 7, 8, 9, 10, 11], [12]]
    headers, bodies = framing.frame(msgs, lead=lead, gap=1, tail=4)
    return line_code.words_to_bits(line_code.encode(headers, bodies)[0]), msgs


def test_the_receiver_does_not_lock_while_the_cdr_pin_is_low():
    bits, msgs = _line()
    words = len(bits) // BLOCK_BITS
    assert receiver.messages(receiver.receive(bits, CONFIG).beats) == [(m, False) for m in msgs]
    low = receiver.receive(bits, CONFIG, np.zeros(words))
    assert low.counters["locks"] == 0 and not low.beats and not low.locked


def test_a_falling_pin_loses_the_lock_and_cuts_the_open_message():
    bits, msgs = _line()
    pins = np.ones(len(bits) // BLOCK_BITS)
    pins[100 + 5 + 2 + 3] = 0  # inside the second message
    got = receiver.receive(bits, CONFIG, pins)
    assert got.counters["lock_losses"] == 1 and got.counters["aborted"] == 1
    assert receiver.messages(got.beats)[0] == (msgs[0], False)
    assert receiver.messages(got.beats)[1][1]  # the second one cut, flagged
    with pytest.raises(receiver.RxConfigError, match="lock pin"):
        receiver.receive(bits, CONFIG, pins[:-1])


def test_it_follows_a_doppler_ramp_without_a_slip():
    """From -27 to +27 ppm across 2048 blocks: millions of times the fastest change of a pass
    (50 ppm over minutes), and still no slip once locked."""
    rates = np.linspace(-27e-6, 27e-6, BLOCKS)
    rec = cdr.recover(rates, 12_800.0, phase_ui=-0.2)
    assert rec.lock_block is not None and rec.locked[rec.lock_block:].all()
    after = cdr.sampled_bits(rec, offset=3)[rec.lock_block * BLOCK_BITS:]
    assert np.array_equal(np.diff(after), np.ones(len(after) - 1))
    assert rec.period_ps[-1] == pytest.approx(12_800.0 / (1 + 27e-6), rel=2e-7)
