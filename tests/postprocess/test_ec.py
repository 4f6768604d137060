"""LDPC syndrome error correction: code family, rate choice, decoding success versus QBER."""

import dataclasses

import numpy as np
import pytest

from models.postprocess import ec, qc_code
from models.postprocess.finitekey import binary_entropy
from models.postprocess.synthetic import measure_ec


def test_syndrome_is_linear():
    rng = np.random.default_rng(1)
    h = ec.parity_check_matrix(2000, 300, 1)
    x, y = (rng.integers(0, 2, 2000, dtype=np.uint8) for _ in range(2))
    assert np.array_equal(ec.syndrome(h, x ^ y), ec.syndrome(h, x) ^ ec.syndrome(h, y))


def test_split_codewords():
    assert [(s.start, s.stop) for s in ec.split_codewords(100_000, 10_000)][:2] == [
        (0, 10_000), (10_000, 20_000)]
    parts = ec.split_codewords(25_001, 10_000)
    assert len(parts) == 3 and parts[-1].stop == 25_001
    assert max(p.stop - p.start for p in parts) <= 10_000


def encode_plain(x, tags, est, cfg):
    """Syndromes without padding (one-way mode punctures nothing)."""
    cfg = dataclasses.replace(cfg, mode="one-way")
    plans = ec.plan_codewords(tags, est, cfg)
    assert all(p.d == 0 for p in plans)
    return ec.encode(x, plans, np.zeros(0, dtype=np.uint8), cfg)


def counters(n, e):
    """[basis, intensity] sampled counters with n samples and e errors per intensity (Z only)."""
    return np.array([n, [0, 0, 0]]), np.array([e, [0, 0, 0]])


def test_channel_estimate_per_intensity():
    cfg = ec.EcConfig()
    est = ec.estimate_channel(*counters([10_000, 600, 20], [100, 9, 9]), cfg)
    assert est.q == pytest.approx([100.5 / 10_001, 9.5 / 601, 9.5 / 21])
    sigma = np.sqrt(est.q * (1 - est.q) / np.array([10_000, 600, 20]))
    assert est.q_up == pytest.approx(np.minimum(est.q + cfg.z_margin * sigma, 0.5))
    empty = ec.estimate_channel(*counters([0, 0, 0], [0, 0, 0]), cfg)
    assert list(empty.q_up) == [0.5, 0.5, 0.5]  # nothing sampled: assume the worst


def test_rate_rises_with_qber_and_uses_the_tags():
    cfg = ec.EcConfig(f_design=((0.004, 1.85), (0.01, 1.65), (0.02, 1.6)))
    tags = np.array([0] * 940 + [1] * 58 + [2] * 2)
    fr = [ec.syndrome_fraction(ec.estimate_channel(*counters([10_000, 600, 20],
                                                            [int(q * 10_000), 9, 9]), cfg),
                               tags, cfg) for q in (0.005, 0.01, 0.02, 0.04)]
    assert fr == sorted(fr)
    est = ec.estimate_channel(*counters([10_000, 600, 20], [200, 9, 9]), cfg)
    h = [binary_entropy(v) for v in est.q_up]
    assert est.f_design(cfg) == 1.6  # beyond the last point of the f_design table
    assert fr[2] == pytest.approx(1.6 * (0.940 * h[0] + 0.058 * h[1] + 0.002 * h[2]))
    mid = ec.estimate_channel(*counters([10_000, 600, 20], [150, 9, 9]), cfg)
    assert mid.f_design(cfg) == pytest.approx(1.65 - 0.05 * (150.5 / 10_001 - 0.01) / 0.01)
    m = ec.syndrome_bits_for(10_000, 0.1234)
    assert 1234 <= m <= 1234 * 1.05 + 16  # the next rung, in whole layers of 16 checks
    assert m % 16 == 0 and qc_code.code_lift(10_000 + m // 2, m) == 16
    rungs = {ec.syndrome_bits_for(20_000, f / 1000) for f in range(100, 200)}
    assert len(rungs) <= 40  # 100 fractions share few shapes: codes are reused


# f of a packet: one-way 1.24 to 1.41, interactive 1.08 to 1.18 (docs/postprocessing.md)
F_RANGE = {"one-way": (1.15, 1.5), "interactive": (1.0, 1.2)}


@pytest.mark.parametrize("mode", ec.EC_MODES)
@pytest.mark.parametrize("qber", [0.01, 0.02, 0.03])
def test_decoding_success_versus_qber(qber, mode):
    r = measure_ec(qber, 3, seed=int(qber * 1000), cfg=ec.ec_config(mode))
    assert r.successes >= 2
    low, high = F_RANGE[mode]
    assert low < r.f_mean < high
    if mode == "one-way":
        assert r.rounds_mean == 0


def test_one_way_sends_one_syndrome_and_never_reveals():
    """One-way: no padding, the leak is the syndrome length, a failed codeword gets no second
    chance (the satellite's disclose is never called)."""
    cfg = ec.EcConfig()
    assert cfg.mode == "one-way" and ec.ec_config("one-way") == cfg
    rng = np.random.default_rng(8)
    x = rng.integers(0, 2, 20_000, dtype=np.uint8)
    tags = np.zeros(20_000, dtype=np.uint8)
    est = ec.estimate_channel(*counters([11_000, 0, 0], [110, 0, 0]), cfg)
    plans = ec.plan_codewords(tags, est, cfg)
    assert all(p.d == 0 and p.leak(0) == p.m for p in plans)
    syn = ec.encode(x, plans, np.zeros(0, dtype=np.uint8), cfg)
    assert syn.bits.size == syn.leak_bits == sum(p.m for p in plans)
    calls = []
    for rate in (0.01, 0.06):  # decodable, and far beyond the rate
        e = (rng.random(20_000) < rate).astype(np.uint8)
        session = ec.GroundDecoder(x ^ e, tags, syn, est.q, cfg)
        assert ec.run_rounds(session, lambda failed: calls.append(failed) or {}) == 0
        assert session.result().converged == (rate == 0.01)
    assert calls == []


def test_ec_mode_names_are_checked():
    assert ec.ec_config("interactive") == ec.INTERACTIVE and ec.INTERACTIVE.f_start
    for bad in ("two-way", "", "One-way"):
        with pytest.raises(ec.EcConfigError, match=f"ec_mode '{bad}' is not one of one-way, "
                                                   "interactive"):
            ec.ec_config(bad)
        with pytest.raises(ec.EcConfigError, match="is not one of"):
            ec.EcConfig(mode=bad)


def test_underestimated_qber_fails_cleanly():
    """A packet with far more errors than its sample says must fail (and be dropped)."""
    rng = np.random.default_rng(3)
    cfg = ec.EcConfig()
    x = rng.integers(0, 2, 20_000, dtype=np.uint8)
    e = (rng.random(20_000) < 0.06).astype(np.uint8)
    tags = np.zeros(20_000, dtype=np.uint8)
    est = ec.estimate_channel(*counters([11_000, 0, 0], [110, 0, 0]), cfg)
    syn = encode_plain(x, tags, est, cfg)
    result = ec.decode(x ^ e, tags, syn, est.q, cfg)
    assert not result.converged


def test_error_free_packet_needs_no_decoding():
    cfg = ec.EcConfig()
    x = np.ones(20_000, dtype=np.uint8)
    tags = np.zeros(20_000, dtype=np.uint8)
    est = ec.estimate_channel(*counters([11_000, 0, 0], [110, 0, 0]), cfg)
    result = ec.decode(x.copy(), tags, encode_plain(x, tags, est, cfg), est.q, cfg)
    assert result.converged and result.iterations == 0 and not result.error_mask.any()


def test_mismatched_codeword_shapes_fail():
    cfg = ec.EcConfig()
    x = np.zeros(20_000, dtype=np.uint8)
    est = ec.estimate_channel(*counters([11_000, 0, 0], [110, 0, 0]), cfg)
    syn = encode_plain(x[:15_000], x[:15_000], est, cfg)
    assert not ec.decode(x, x, syn, est.q, cfg).converged


@pytest.mark.slow
@pytest.mark.parametrize("mode", ec.EC_MODES)
@pytest.mark.parametrize("qber", [0.005, 0.01, 0.02, 0.03])
def test_decoding_success_statistics(qber, mode):
    """20 packets per QBER: packet success >= 95 % with the default settings of each mode."""
    r = measure_ec(qber, 20, seed=100 + int(qber * 1000), cfg=ec.ec_config(mode))
    assert r.successes >= 19
    assert r.f_mean < F_RANGE[mode][1]


def test_padding_positions_and_leak():
    plan = ec.Plan(n=1000, m=200, d=60, step=25)
    pad = plan.pad_positions()
    assert plan.length == 1100 and pad[0] == 900 and np.all(np.diff(pad) == 2)
    slots = plan.slot_positions()
    assert slots.size == 100 and np.array_equal(slots[:60], pad)
    assert np.array_equal(plan.zero_positions(), slots[60:])
    h = ec.parity_check_matrix(plan.length, plan.m, 3).toarray()
    assert np.all(h[:, slots].sum(axis=0) == 2)  # staircase columns, no check touches two
    assert np.all(h[:, slots].sum(axis=1) <= 1)
    x = np.arange(1000) % 2
    word = plan.extend(x, np.ones(60, dtype=np.uint8))
    assert np.array_equal(word[plan.key_positions()], x) and np.all(word[pad] == 1)
    assert not word[plan.zero_positions()].any()
    assert plan.leak(0) == 140 and plan.leak(60) == 200  # m - d + revealed


def test_fill_completes_the_blocks_of_the_code():
    plan = ec.Plan(n=1001, m=200, d=60, step=25)  # lift 4: 1001 + 100 - 200 needs 3 fill bits
    assert plan.fill == 3 and plan.length == 1104
    assert qc_code.code_lift(plan.length, plan.m) == 4
    fill = plan.fill_positions()
    assert np.array_equal(fill, [901, 902, 903])  # the end of the information part
    assert np.array_equal(plan.zero_positions()[:3], fill)
    x = np.ones(1001, dtype=np.uint8)
    word = plan.extend(x, np.ones(60, dtype=np.uint8))
    assert not word[fill].any() and plan.key_positions().size == 1001
    assert word.sum() == 1001 + 60 and plan.leak(0) == 140  # public zeros leak nothing


def test_reveal_rounds_rescue_an_optimistic_start():
    """Starting far below the decodable rate, the ground asks for padding until it decodes;
    every disclosed bit is counted in the leak."""
    cfg = dataclasses.replace(ec.INTERACTIVE, codeword_bits=20_000, f_start=((0.01, 0.8),),
                              f_step=0.1)
    rng = np.random.default_rng(5)
    x = rng.integers(0, 2, 20_000, dtype=np.uint8)
    e = (rng.random(20_000) < 0.02).astype(np.uint8)
    tags = np.zeros(20_000, dtype=np.uint8)
    est = ec.estimate_channel(*counters([11_000, 0, 0], [220, 0, 0]), cfg)
    plans = ec.plan_codewords(tags, est, cfg)
    assert 0 < plans[0].d <= plans[0].m // 2  # at most half of the staircase is padding
    pad = ec.SatellitePad(plans, rng.integers(0, 2, ec.pad_bits_needed(plans), dtype=np.uint8))
    syn = ec.encode(x, plans, np.concatenate(pad.pads), cfg)
    session = ec.GroundDecoder(x ^ e, tags, syn, est.q, cfg)
    rounds = ec.run_rounds(session, pad.disclose)
    result = session.result()
    assert rounds >= 1 and result.converged and np.array_equal(result.corrected, x)
    assert pad.revealed_bits == min(plans[0].d, rounds * plans[0].step)
    assert pad.leak_bits == plans[0].m - plans[0].d + pad.revealed_bits
    assert pad.disclose([7]) == {}  # no such codeword: nothing disclosed
