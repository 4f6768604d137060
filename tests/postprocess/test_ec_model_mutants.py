"""models.postprocess.ec details the decoding-statistics tests do not pin: the prior's 3-sigma
gate, the syndrome-length cap, the decoder's LLRs of the padding, and immutable estimates."""

import dataclasses

import numpy as np
import pytest

from models.postprocess import ec


def counters(n, e):
    """[basis, intensity] sampled counters, Z basis only."""
    return np.array([n, [0, 0, 0]]), np.array([e, [0, 0, 0]])


def test_prior_is_pooled_within_three_sigma_and_ignored_beyond():
    """Sample 2 % of 10 000 (sigma 0.14 %): a prior at 2.3 % is pooled (the estimate moves
    towards it), one at 3 % is a jump and leaves the estimate as without a prior."""
    cfg = dataclasses.replace(ec.EcConfig(), prior_weight=0.1)
    sample = counters([10_000, 0, 0], [200, 0, 0])
    alone = ec.estimate_channel(*sample, cfg)
    near = ec.estimate_channel(*sample, cfg, prior=counters([100_000, 0, 0], [2300, 0, 0]))
    jump = ec.estimate_channel(*sample, cfg, prior=counters([100_000, 0, 0], [3000, 0, 0]))
    assert near.q[0] == pytest.approx((200 + 230 + 0.5) / (10_000 + 10_000 + 1.0))
    assert jump.q[0] == alone.q[0] == pytest.approx(200.5 / 10_001)


@pytest.mark.parametrize("fraction", [0.999, 1.5])
def test_syndrome_never_reaches_the_codeword_length(fraction):
    """A fraction near or above 1 rounds up to a rung beyond n: capped at n - 1 checks."""
    assert ec.syndrome_bits_for(100, fraction) == 99


def test_decoder_punctures_hidden_padding_and_fixes_disclosed_padding():
    """Before any disclosure every padding slot has LLR 0 (probability 1/2); disclosed slots get
    +-KNOWN_LLR by their bit, the rest stay 0; public zero slots are known zeros."""
    cfg = dataclasses.replace(ec.INTERACTIVE, codeword_bits=4000, f_start=((0.01, 0.8),),
                              f_step=0.1)
    rng = np.random.default_rng(2)
    x = rng.integers(0, 2, 4000, dtype=np.uint8)
    tags = np.zeros(4000, dtype=np.uint8)
    est = ec.estimate_channel(*counters([11_000, 0, 0], [220, 0, 0]), cfg)
    plans = ec.plan_codewords(tags, est, cfg)
    plan = plans[0]
    assert plan.d >= 4
    pad = ec.SatellitePad(plans, rng.integers(0, 2, ec.pad_bits_needed(plans), dtype=np.uint8))
    decoder = ec.GroundDecoder(x, tags, ec.encode(x, plans, np.concatenate(pad.pads), cfg),
                               est.q, cfg)
    pads = plan.pad_positions()
    _, _, llr = decoder._decoder_input(0)
    assert (llr[pads] == 0).all()
    assert (llr[plan.zero_positions()] == ec.KNOWN_LLR).all()
    shown = pad.pads[0][:3]
    decoder.reveal(0, shown)
    _, _, llr = decoder._decoder_input(0)
    assert llr[pads[:3]].tolist() == [-ec.KNOWN_LLR if b else ec.KNOWN_LLR for b in shown]
    assert (llr[pads[3:]] == 0).all()


def test_channel_estimate_is_immutable():
    est = ec.estimate_channel(*counters([1000, 0, 0], [10, 0, 0]), ec.EcConfig())
    with pytest.raises(dataclasses.FrozenInstanceError):
        est.q = est.q_up
