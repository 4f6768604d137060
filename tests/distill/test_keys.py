"""The key run at the end of ``make sim`` (sim.distill): whole packets only, the scoreboards
against the golden pipeline (each must catch a wrong syndrome, key word, CRC and tag), and the
satellite's engines in Verilator producing the ground's final key."""

import numpy as np
import pytest

from models.sifting.packets import PACKET_BITS
from rtl.common.payload import pack
from rtl.distill.layouts import AuthResult, AuthStatus, CrcResult, SyndromeStatus, syndrome_status
from rtl.distill.toeplitz_layouts import PaStatus, PaStatusLayout
from sim.distill import (
    block_line,
    distill_window,
    e2e_keys,
    expected_run,
    run_golden,
    score,
    summary_lines,
    synthetic_window,
    whole_packets,
)

SEED = 5


def test_unfinished_packet_is_abandoned():
    sat, _, _, _ = synthetic_window(2, 0.02, SEED)
    packets, partial = whole_packets(sat)
    assert [p.bit.size for p in packets] == [PACKET_BITS] * 2
    assert partial == len(sat) - 2 * PACKET_BITS > 0


def test_window_without_a_packet_gives_no_key():
    sat, gnd, det, err = synthetic_window(0, 0.02, SEED)
    run = distill_window(sat, gnd, det, err, SEED)  # no packet: no simulation either
    assert (run.packets, run.abandoned_bits, run.blocks) == (0, len(sat), [])
    assert run.satellite_key.size == run.ground_key.size == 0
    assert "no whole 100,000-bit packet" in summary_lines(run, len(sat))[0]


def perfect_output(expected) -> dict:
    """The RTL output that matches ``expected`` word for word."""
    status = syndrome_status(max(1, len(expected.shapes).bit_length()))
    results = [pack(AuthResult, {"status": AuthStatus.OK.value, "tag": 0 if v else t})
               for t, v in zip(expected.tags, expected.ground_verify, strict=True)]
    return {"syndrome": [list(s) for s in expected.syndromes],
            "syndrome_status": [pack(status, {"status": SyndromeStatus.OK.value, "rate": 0})
                                ] * len(expected.syndromes),
            "pa_key": [list(b["key"]) for b in expected.blocks],
            "pa_status": [pack(PaStatusLayout, {"status": PaStatus.OK.value})
                          ] * len(expected.blocks),
            "crc": [pack(CrcResult, {"crc": b["crc"], "words": 0}) for b in expected.blocks],
            "auth": results}


@pytest.fixture(scope="module")
def golden_run():
    sat, gnd, det, err = synthetic_window(1, 0.02, SEED)
    packets_sat, _ = whole_packets(sat)
    packets_gnd, _ = whole_packets(gnd)
    from models.postprocess.pipeline import DistillConfig, PacketPair

    config = DistillConfig(ec_workers=1)
    golden = run_golden([PacketPair(packets_sat[0], packets_gnd[0], det[0], err[0])], SEED,
                        config)
    return golden, expected_run(golden, config)


def test_scoreboards_pass_the_golden_output(golden_run):
    golden, expected = golden_run
    run = score(expected, golden, perfect_output(expected))
    assert run.mismatches == 0
    assert run.keys_equal and run.satellite_key.size > 0
    assert {n: t.compared > 0 for n, t in run.tallies.items()} == dict.fromkeys(run.tallies,
                                                                                 True)


def test_summary_names_each_blocks_outcome(golden_run):
    """Each PA block gets a line with its status, ℓ and phase-error bound, so a zero-bit key
    says why (the bound left no key) instead of a bare zero."""
    golden, expected = golden_run
    run = score(expected, golden, perfect_output(expected))
    lines = summary_lines(run, PACKET_BITS)
    block = run.blocks[0]
    assert block["status"] == "ok" and block["key_bits"] == run.satellite_key.size
    assert f"PA block 0: 100,000 bits -> ℓ = {block['key_bits']:,}, ok" in lines[2]
    starved = block | {"key_bits": 0, "status": "no_key", "phi": {"Z": 0.1268, "X": 0.1349}}
    assert block_line(starved) == ("  PA block 0: 100,000 bits -> ℓ = 0, no_key "
                                   "(phase-error bound Z 12.68%, X 13.49%)")


# (scoreboard, output, path to one beat, bit flipped): a data bit of a syndrome word, a key
# word, a CRC and a signed tag, and the status bit of the check of a ground message
WRONG = [("syndrome", "syndrome", (0, 7), 2), ("pa_key", "pa_key", (0, 3), 2),
         ("crc", "crc", (0,), 2), ("tags", "auth", (0,), 2), ("tags", "auth", (1,), 0)]


@pytest.mark.parametrize("stream, output, path, bit", WRONG)
def test_scoreboards_catch_a_wrong_output(golden_run, stream, output, path, bit):
    golden, expected = golden_run
    assert expected.ground_verify[1] and not expected.ground_verify[0]
    out = perfect_output(expected)
    target = out[output]
    for k in path[:-1]:
        target = target[k]
    target[path[-1]] ^= 1 << bit
    run = score(expected, golden, out)
    assert run.tallies[stream].mismatches == 1
    assert run.mismatches == 1
    if stream == "pa_key":
        assert not run.keys_equal


@pytest.mark.slow
@pytest.mark.cocotb
def test_satellite_engines_give_the_ground_key():
    """One packet at 2 % QBER through the satellite's engines in Verilator: syndrome, PA key,
    CRC and every tag as the golden pipeline's, the RTL's final key equal to the ground's."""
    sat, gnd, det, err = synthetic_window(1, 0.02, SEED)
    run = distill_window(sat, gnd, det, err, SEED, "verilator")
    assert run.mismatches == 0, run.as_dict()["streams"]
    assert run.keys_equal and run.satellite_key.size > 0


def test_e2e_hook_without_a_packet(tmp_path):
    """The hook of make sim on a window shorter than a packet: no key, said in the summary, the
    sampled counters read from the window's stimulus; no key file is a mismatch."""
    rng = np.random.default_rng(SEED)
    pulses = np.sort(rng.choice(1 << 20, 500, replace=False)).astype(np.uint64)
    stimulus = tmp_path / "stimulus.npz"
    np.savez(stimulus, det_pulse=pulses, det_basis=rng.integers(0, 2, 500, dtype=np.uint8),
             det_bit=rng.integers(0, 2, 500, dtype=np.uint8))
    sat, gnd, _, _ = synthetic_window(0, 0.02, SEED)
    keys = tmp_path / "keys.npz"
    np.savez(keys, satellite=np.asarray(sat), ground=np.asarray(gnd))
    result = {"mismatches": 0}
    lines = e2e_keys(result, stimulus, keys, SEED, "verilator")
    assert "no whole 100,000-bit packet" in lines[0] and f"{len(sat):,} sifted" in lines[0]
    assert result["distillation"]["packets"] == 0 and result["mismatches"] == 0
    missing = e2e_keys(result, stimulus, tmp_path / "none.npz", SEED, "verilator")
    assert "wrote no key streams" in missing[0] and result["mismatches"] == 1
