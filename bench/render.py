"""Section 5: renderer scaling, measured by `bench/render_scaling.py` (written on branch `renderer`).

This module only adapts its results to the report; until that module is merged, the
section prints one "not available" row instead of failing the whole run.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from bench.table import Row

SECTION = "5 renderer scaling"
QUICK_SIZES = (1_000, 4_000)
FULL_SIZES = (10_000, 40_000, 160_000)


def run(quick: bool) -> list[Row]:
    if importlib.util.find_spec("bench.render_scaling") is None:
        return [Row(SECTION, "long answers render in linear time", "not available",
                    "bench/render_scaling.py (branch renderer) not merged yet")]
    from bench import render_scaling  # an error inside it is a real failure: let it show
    results = render_scaling.run(QUICK_SIZES if quick else FULL_SIZES)
    return [_as_row(item) for item in results] or [Row(SECTION, "renderer scaling", "no results")]


def _as_row(item: Any) -> Row:
    """Pass report rows through; show anything else as it describes itself."""
    if isinstance(item, Row):
        return item
    if isinstance(item, dict):
        return Row(SECTION, str(item.get("metric", "")), str(item.get("value", item)))
    return Row(SECTION, "result", str(item))
