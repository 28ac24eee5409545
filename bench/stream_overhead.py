"""Section 1: what Herald's streaming costs over a bare openai-SDK loop on a long stream."""

from __future__ import annotations

from bench.contenders import BareSDK, Herald, RawHTTP
from bench.machine import http_library
from bench.serve import answer_text
from bench.servers import provider_process
from bench.stats import Timing, interleaved, median, timed
from bench.table import Row, ms, ratio

SECTION = "1 stream overhead"
CHUNK_CHARS = 4
TARGET = 1.05


def run(quick: bool) -> list[Row]:
    chunks, rounds = (300, 2) if quick else (20_000, 9)
    expected = answer_text(chunks * CHUNK_CHARS)
    with provider_process(chunks * CHUNK_CHARS, CHUNK_CHARS) as base_url:
        herald, sdk, raw = Herald(base_url), BareSDK(base_url), RawHTTP(base_url)
        try:
            calls = {"herald": herald.stream, "sdk": sdk.stream, "raw": raw.stream}
            for name, call in calls.items():  # warm-up, and a check that all three read the same answer
                if call() != expected:
                    raise AssertionError(f"{name} read a different answer")
            results = interleaved({name: _timer(call) for name, call in calls.items()}, rounds)
        finally:
            sdk.close()
            raw.close()
    return _rows(results, chunks, rounds)


def _timer(call):  # type: ignore[no-untyped-def]
    return lambda: timed(call)


def _rows(results: dict[str, list[Timing]], chunks: int, rounds: int) -> list[Row]:
    wall = {name: median([t.wall for t in runs]) for name, runs in results.items()}
    cpu = {name: median([t.cpu for t in runs]) for name, runs in results.items()}
    label = f"{chunks:,} chunks, median of {rounds}"
    http = http_library()
    per_chunk_us = (cpu["herald"] - cpu["sdk"]) / chunks * 1e6
    return [
        Row(SECTION, f"wall, {label}", ms(wall["herald"]), f"{ms(wall['sdk'])} (bare SDK)",
            ratio(wall["herald"], wall["sdk"]), f"≤ {TARGET:.2f}×", wall["herald"] / wall["sdk"] <= TARGET),
        Row(SECTION, f"CPU, {label}", ms(cpu["herald"]), f"{ms(cpu['sdk'])} (bare SDK)",
            ratio(cpu["herald"], cpu["sdk"]), f"≤ {TARGET:.2f}×", cpu["herald"] / cpu["sdk"] <= TARGET),
        Row(SECTION, "Herald CPU added per chunk", f"{per_chunk_us:.2f} µs", "—", "—"),
        Row(SECTION, f"raw floor ({http} + json.loads) wall", ms(wall["raw"]), f"{ms(wall['sdk'])} (bare SDK)",
            ratio(wall["raw"], wall["sdk"])),
        Row(SECTION, f"raw floor ({http} + json.loads) CPU", ms(cpu["raw"]), f"{ms(cpu['sdk'])} (bare SDK)",
            ratio(cpu["raw"], cpu["sdk"])),
    ]
