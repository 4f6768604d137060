"""Parameter limits of the satellite blocks and models at their edges: mapper thresholds
0 .. 256 (9-bit registers) with decoy_below >= signal_below, probabilities that round onto
them, the RND cache's block-RAM depth, the QRNG fault codes and the health cutoffs' smallest
values. Each refusal is one line naming the value."""

import numpy as np
import pytest

from models.health import apt_cutoff, rct_cutoff
from models.qrng import FAULT_BIASED, source_words
from models.symbols import MapperConfig
from rtl.satellite.rnd_cache import EBR_DEPTH, RndCache


@pytest.mark.parametrize("thresholds", [(0, 0, 0), (256, 256, 256), (100, 100, 0), (0, 256, 1)])
def test_mapper_thresholds_at_the_register_ends_are_accepted(thresholds):
    assert MapperConfig(*thresholds) == MapperConfig(*thresholds)


@pytest.mark.parametrize(("thresholds", "message"), [
    ((257, 257, 0), "signal_below=257 is outside 0..256"),
    ((0, 0, -1), "z_below=-1 is outside 0..256"),
    ((0, 257, 0), "decoy_below=257 is outside 0..256"),
    ((101, 100, 0), "decoy_below=100 < signal_below=101"),
])
def test_mapper_thresholds_one_past_the_ends_are_refused(thresholds, message):
    with pytest.raises(ValueError, match=message):
        MapperConfig(*thresholds)


def test_probabilities_at_their_ends():
    assert MapperConfig.from_probabilities(0.5, 0.5, 1.0) == MapperConfig(128, 256, 256)
    assert MapperConfig.from_probabilities(0.0, 0.0, 0.0) == MapperConfig(0, 0, 0)
    assert MapperConfig.from_probabilities(1 / 256, 255 / 256, 1.0) == MapperConfig(1, 256, 256)
    for args in ((0.5, 0.5 + 1e-9, 0.5), (0.5, 0.25, 1 + 1e-9), (-1e-9, 0.5, 0.5)):
        with pytest.raises(ValueError, match="mapper probabilities out of range"):
            MapperConfig.from_probabilities(*args)


def test_rnd_cache_block_ram_depth_limit():
    assert RndCache(4, EBR_DEPTH, ecp5_ebr=True).capacity == 4 * EBR_DEPTH
    message = f"ecp5_ebr needs rows <= {EBR_DEPTH}, got {2 * EBR_DEPTH}"
    with pytest.raises(ValueError, match=message):
        RndCache(4, 2 * EBR_DEPTH, ecp5_ebr=True)


def test_qrng_fault_codes_end_at_biased():
    assert source_words(1, np.arange(4), FAULT_BIASED).shape == (4,)
    with pytest.raises(ValueError, match=f"unknown QRNG fault code {FAULT_BIASED + 1}"):
        source_words(1, np.arange(4), FAULT_BIASED + 1)


def test_health_cutoffs_never_reach_one():
    """The RTL's ``cutoff <= 1`` branches (every sample fails) need alpha >= 1: unreachable with
    a probability alpha < 1, so the smallest cutoffs are 2."""
    assert rct_cutoff(8.0, -1e-9) == 2
    assert apt_cutoff(8.0, -1e-9, 2) == 2
