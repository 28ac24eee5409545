"""Section 5: renderer scaling, measured by `bench/render_scaling.py` (written on branch `renderer`).

This module only turns that benchmark's results into report rows: CPU to show a streamed
markdown answer with `LiveMarkdown` vs re-rendering `Markdown(everything so far)` per
frame, at growing answer sizes, and whether Herald's cost per character stays flat.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from bench.table import Row, ms, ratio

SECTION = "5 renderer scaling"
LINEAR_SLACK = 1.5
"""Linear time: CPU per character at the largest size at most this many times that at the smallest."""


def run(quick: bool) -> list[Row]:
    if importlib.util.find_spec("bench.render_scaling") is None:
        return [Row(SECTION, "long answers render in linear time", "not available",
                    "bench/render_scaling.py (branch renderer) not merged yet")]
    from bench import render_scaling  # an error inside it is a real failure: let it show

    if quick:
        results = render_scaling.run(render_scaling.QUICK_SIZES, sections_per_unit=1)
    else:
        results = render_scaling.run(render_scaling.FULL_SIZES)
    return [*(_size_row(result) for result in results), _linearity_row(results)]


def _size_row(result: dict[str, Any]) -> Row:
    return Row(SECTION, f"CPU to show {result['chars']:,} chars ({result['deltas']:,} deltas)",
               ms(result["ours_cpu_s"]), f"{ms(result['baseline_cpu_s'])} (re-render all per frame)",
               ratio(result["ours_cpu_s"], result["baseline_cpu_s"]))


def _linearity_row(results: list[dict[str, Any]]) -> Row:
    first, last = results[0], results[-1]
    per_char = [r["ours_cpu_s"] / r["chars"] for r in (first, last)]
    base_per_char = [r["baseline_cpu_s"] / r["chars"] for r in (first, last)]
    growth = per_char[1] / per_char[0]
    size_growth = last["chars"] / first["chars"]
    return Row(SECTION, f"CPU per char, {size_growth:.0f}× longer answer vs shortest", f"{growth:.2f}×",
               f"{base_per_char[1] / base_per_char[0]:.2f}× (re-render all per frame)", "—",
               f"≤ {LINEAR_SLACK:.1f}× (linear)", growth <= LINEAR_SLACK)
