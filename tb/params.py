"""Parameters handed from pytest (:func:`tb.runner.run_cocotb`) to a cocotb test module."""

from __future__ import annotations

import json
import os
from typing import Any


def tb_params() -> dict[str, Any]:
    """The ``params`` mapping given to :func:`tb.runner.run_cocotb`, as a dict."""
    return json.loads(os.environ.get("TB_PARAMS", "{}"))
