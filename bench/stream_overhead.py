"""Section 1: client CPU per streamed chunk, Herald vs the bare SDK loop vs the raw floor, per wire."""

from __future__ import annotations

from typing import Callable

from bench.contenders import WIRE_NAMES, WIRES, BareSDK, Herald, RawHTTP
from bench.machine import http_library
from bench.serve import answer_text
from bench.servers import provider_process
from bench.stats import Timing, interleaved, median, timed
from bench.table import Row, ms, ratio

SECTION = "1 stream overhead"
CHUNK_CHARS = 4
TARGETS = {"chat_completions": 0.10, "codex_responses": 0.15, "anthropic_messages": 0.40}
"""Herald's CPU per chunk as a fraction of the bare SDK loop's, on each wire."""


def run(quick: bool) -> list[Row]:
    chunks, rounds = (300, 2) if quick else (20_000, 9)
    expected = answer_text(chunks * CHUNK_CHARS)
    rows: list[Row] = []
    with provider_process(chunks * CHUNK_CHARS, CHUNK_CHARS) as base_url:
        for mode in WIRES:
            rows.extend(_run_wire(mode, base_url, expected, chunks, rounds))
    return rows


def _run_wire(mode: str, base_url: str, expected: str, chunks: int, rounds: int) -> list[Row]:
    herald, sdk, raw = Herald(base_url, mode), BareSDK(base_url, mode), RawHTTP(base_url, mode)
    try:
        calls: dict[str, Callable[[], str]] = {"herald": herald.stream, "sdk": sdk.stream, "raw": raw.stream}
        for name, call in calls.items():  # warm-up, and a check that all three read the same answer
            if call() != expected:
                raise AssertionError(f"{name} read a different answer on the {WIRE_NAMES[mode]} wire")
        results = interleaved({name: _timer(call) for name, call in calls.items()}, rounds)
    finally:
        herald.close()
        sdk.close()
        raw.close()
    return _rows(mode, results, chunks, rounds)


def _timer(call: Callable[[], str]) -> Callable[[], Timing]:
    return lambda: timed(call)


def _rows(mode: str, results: dict[str, list[Timing]], chunks: int, rounds: int) -> list[Row]:
    wall = {name: median([t.wall for t in runs]) for name, runs in results.items()}
    cpu = {name: median([t.cpu for t in runs]) for name, runs in results.items()}
    wire, target, http = WIRE_NAMES[mode], TARGETS[mode], http_library()
    label = f"{wire}, {chunks:,} chunks, median of {rounds}"
    per_chunk = {name: value / chunks * 1e6 for name, value in cpu.items()}
    return [
        Row(SECTION, f"CPU, {label}", ms(cpu["herald"]), f"{ms(cpu['sdk'])} (bare SDK)",
            ratio(cpu["herald"], cpu["sdk"]), f"≤ {target:.2f}×", cpu["herald"] / cpu["sdk"] <= target),
        Row(SECTION, f"CPU per chunk, {wire}", f"{per_chunk['herald']:.2f} µs",
            f"{per_chunk['sdk']:.2f} µs (bare SDK); raw floor {per_chunk['raw']:.2f} µs", "—"),
        Row(SECTION, f"wall, {label}", ms(wall["herald"]), f"{ms(wall['sdk'])} (bare SDK)", ratio(wall["herald"], wall["sdk"])),
        Row(SECTION, f"raw floor ({http} + json.loads) CPU, {wire}", ms(cpu["raw"]), f"{ms(cpu['sdk'])} (bare SDK)",
            ratio(cpu["raw"], cpu["sdk"])),
    ]
