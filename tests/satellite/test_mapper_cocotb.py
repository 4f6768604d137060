import pytest

from rtl.satellite.mapper import SymbolMapper
from tb.runner import SIMULATORS, run_cocotb


@pytest.mark.cocotb
@pytest.mark.parametrize("simulator", SIMULATORS)
@pytest.mark.parametrize(
    ("lanes", "thresholds"), [(4, (128, 192, 128)), (2, (77, 200, 31))], ids=["default", "custom"]
)
def test_mapper_cocotb(simulator, lanes, thresholds):
    run_cocotb(
        SymbolMapper(lanes), "tb.satellite.cocotb_mapper", simulator,
        case=f"mapper_l{lanes}",
        params={"lanes": lanes, "beats": 2000, "seed": 7 + lanes,
                "thresholds": thresholds, "idle": 0.2, "stall": 0.3},
    )
