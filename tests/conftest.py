"""Time limits sized to the kind of test (pytest-timeout; the default is ``timeout`` in
pyproject.toml). The longest cocotb case of ``make test`` takes about 100 s alone on a 2-core
machine, builds included, and up to three times that under a loaded CI run; slow runs are the
whole-window co-simulations of ``make test-slow``. A test's own ``@pytest.mark.timeout`` wins."""

import pytest

LIMITS_S = {"slow": 3600, "cocotb": 900}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("timeout"):
            continue
        for marker, limit in LIMITS_S.items():
            if item.get_closest_marker(marker):
                item.add_marker(pytest.mark.timeout(limit))
                break
