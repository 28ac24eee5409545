"""Section 2: time from call start to the first text delta, Herald vs the bare SDK, per wire."""

from __future__ import annotations

import gc
from typing import Callable

from bench.contenders import WIRE_NAMES, WIRES, BareSDK, Herald
from bench.servers import provider_process
from bench.stats import interleaved, median
from bench.table import Row, ms, signed_ms

SECTION = "2 first delta"
TARGET_ADDED = 0.001  # seconds


def _collected(measure: Callable[[], float]) -> Callable[[], float]:
    """Collect garbage before each measurement, so one contender's litter (a fresh SDK client
    builds an SSL context) is not collected on another's clock."""

    def run() -> float:
        gc.collect()
        return measure()

    return run


def run(quick: bool) -> list[Row]:
    runs = 5 if quick else 50
    rows: list[Row] = []
    with provider_process(64, 4) as base_url:
        for mode in WIRES:
            rows.extend(_run_wire(mode, base_url, runs))
    return rows


def _run_wire(mode: str, base_url: str, runs: int) -> list[Row]:
    herald, sdk = Herald(base_url, mode), BareSDK(base_url, mode)
    fresh = BareSDK(base_url, mode, fresh_client=True)
    try:
        for contender in (herald, sdk, fresh):  # warm-up: imports, first connection
            contender.time_to_first_delta()
        results = interleaved(
            {"herald": _collected(herald.time_to_first_delta), "sdk": _collected(sdk.time_to_first_delta),
             "fresh": _collected(fresh.time_to_first_delta)},
            runs,
        )
    finally:
        herald.close()
        sdk.close()
        fresh.close()
    h, s, f = (median(results[name]) for name in ("herald", "sdk", "fresh"))
    added, wire = h - s, WIRE_NAMES[mode]
    # A fresh SDK client builds its own SSL context (loads the CA bundle); Herald's per-request
    # clients share one, which is why its per-call client is cheap.
    return [
        Row(SECTION, f"{wire}, median of {runs}, call start → first delta", ms(h), f"{ms(s)} (bare SDK, reused client)",
            signed_ms(added), f"≤ +{ms(TARGET_ADDED)}", added <= TARGET_ADDED),
        Row(SECTION, f"{wire}, same, SDK with a fresh client per call", ms(h), f"{ms(f)} (bare SDK, fresh client)",
            signed_ms(h - f)),
    ]
