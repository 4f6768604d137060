"""models.postprocess.pipeline: the EC thread count (documented default 2, at least 1)."""

import re
from pathlib import Path

import pytest

from models.postprocess.pipeline import DistillConfig, DistillConfigError


def test_ec_workers_default_is_the_documented_one_and_one_is_allowed():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "postprocessing.md").read_text()
    documented = re.search(r"`DistillConfig.ec_workers`, default (\d+)", doc)
    assert documented and DistillConfig().ec_workers == int(documented.group(1))
    assert DistillConfig(ec_workers=1).ec_workers == 1
    with pytest.raises(DistillConfigError, match="ec_workers=0 must be >= 1"):
        DistillConfig(ec_workers=0)
