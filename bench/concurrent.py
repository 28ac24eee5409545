"""Section 7: N concurrent streaming conversations, each contender in its own process.

The provider (`bench.slow_server`) holds every stream: 100 chunks, 30 ms apart (3.0 s of
wire). Each contender (`bench.concurrent_contenders`) reads N of them at once in a fresh
process, so its CPU time is its own: the bare `AsyncOpenAI` loop (`asyncio.gather`), Herald's
`AsyncAIAgent`, Herald's transport without the agent (`AsyncLLMCaller`), and the raw floor
(aiohttp + msgspec, and aiohttp + orjson where orjson is installed). Reported: wall / wire, client
CPU per chunk, CPU per chunk over the floor's, and the streams the server still holds open
afterwards (must be zero). Where the CPU goes: docs/performance-async.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

from bench.concurrent_contenders import CONTENDERS
from bench.servers import ROOT, _env_with_root
from bench.slow_server import slow_server_process
from bench.stats import percentile
from bench.table import Row, ms

SECTION = "7 concurrency"
CHUNKS = 100
INTERVAL_MS = 30.0
WIRE_SECONDS = CHUNKS * INTERVAL_MS / 1000
TARGET_WALL_OVER_WIRE = 1.3
TARGET_VS_SDK = 0.5
TARGET_CANCEL_P95 = 0.050
TARGET_CPU_OVER_FLOOR = 1.5
HERALD = "herald"
CALLER = "herald-caller"
CLIENT = "herald-client"
BARE = "sdk-httpx"
FLOOR = "floor"
ORJSON_FLOOR = "floor-orjson"


@dataclass(frozen=True)
class Run:
    """One contender's N streams."""

    name: str
    n: int
    wall: float
    cpu: float
    chunks: int
    short: int
    left_open: int

    @property
    def cpu_per_chunk_us(self) -> float:
        return self.cpu / max(self.chunks, 1) * 1e6


def run_contender(name: str, n: int, base_url: str) -> Run:
    """Run one contender in a child process against the server at `base_url`."""
    data = _child(name, n, base_url)
    return Run(name, n, data["wall"], data["cpu"], data["chunks"], data["short"], data["left_open"])


def run_cancellations(n: int, base_url: str, *, saved: bool = True) -> tuple[list[float], int]:
    """Cancel N concurrent Herald streams mid-answer (child process); latencies and streams left open."""
    data = _child("cancel" if saved else "cancel-unsaved", n, base_url)
    return data["latencies"], data["left_open"]


def _child(name: str, n: int, base_url: str) -> dict[str, Any]:
    """`bench.concurrent_contenders NAME N URL` in a fresh process; its JSON line."""
    child = subprocess.run(
        [sys.executable, "-m", "bench.concurrent_contenders", name, str(n), base_url],
        cwd=ROOT,
        env=_env_with_root(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if child.returncode != 0:
        raise RuntimeError(f"contender {name} failed: {child.stderr.strip().splitlines()[-1:]}")
    return json.loads(child.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def run(quick: bool) -> list[Row]:
    sizes = (20,) if quick else (100, 1000)
    chunks, interval = (10, 30.0) if quick else (CHUNKS, INTERVAL_MS)
    wire = chunks * interval / 1000
    every = (
        (BARE, HERALD, CLIENT, CALLER, FLOOR, ORJSON_FLOOR)
        if quick
        else (BARE, HERALD, CLIENT, CALLER, "sdk-aiohttp", "raw-httpx", "raw-aiohttp", FLOOR, ORJSON_FLOOR)
    )
    names = [name for name in every if name in CONTENDERS]
    rows: list[Row] = []
    with slow_server_process(chunks, interval) as base_url:
        for n in sizes:
            runs = {name: run_contender(name, n, base_url) for name in names}
            rows.extend(_rows(n, wire, runs))
        for n in sizes:  # at every size: a saturated loop (N = 1,000 here) answers a cancel only as fast as it runs
            latencies, left_open = run_cancellations(n, base_url)
            p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
            rows.append(
                Row(
                    SECTION,
                    f"N={n:,} Herald streams cancelled mid-answer: cancel → task done",
                    f"p50 {ms(p50)} / p95 {ms(p95)}",
                    target=f"p95 ≤ {ms(TARGET_CANCEL_P95)}",
                    met=p95 <= TARGET_CANCEL_P95,
                )
            )
            rows.append(Row(SECTION, f"N={n:,} cancelled: streams left open on the server", str(left_open), target="0", met=left_open == 0))
        # How much of that is the partial answers' SQLite writes, made on the loop.
        n = max(sizes)
        latencies, _ = run_cancellations(n, base_url, saved=False)
        rows.append(
            Row(
                SECTION,
                f"N={n:,} cancelled, no session store: cancel → task done",
                f"p50 {ms(percentile(latencies, 50))} / p95 {ms(percentile(latencies, 95))}",
            )
        )
    return rows


def _rows(n: int, wire: float, runs: dict[str, Run]) -> list[Row]:
    bare = runs[BARE]
    rows = []
    for name, result in runs.items():
        met: bool | None = None
        target = "—"
        if name in (HERALD, CLIENT, CALLER) and n >= 1000:
            met = result.wall <= TARGET_WALL_OVER_WIRE * wire and result.wall <= TARGET_VS_SDK * bare.wall
            target = f"≤ {TARGET_WALL_OVER_WIRE}× wire and ≤ {TARGET_VS_SDK}× bare SDK"
        rows.append(
            Row(
                SECTION,
                f"N={n:,} {name}: wall / wire ({wire:.1f} s), CPU per chunk",
                f"{result.wall / wire:.2f}× ({result.wall:.2f} s), {result.cpu_per_chunk_us:.1f} µs",
                f"{bare.wall / wire:.2f}× ({bare.wall:.2f} s) bare SDK gather",
                f"{result.wall / bare.wall:.3f}×",
                target,
                met,
            )
        )
    floor = runs.get(ORJSON_FLOOR) or runs[FLOOR]
    for name in (HERALD, CLIENT, CALLER):
        if name in runs and n >= 1000:
            over = runs[name].cpu_per_chunk_us / floor.cpu_per_chunk_us
            rows.append(
                Row(
                    SECTION,
                    f"N={n:,} {name}: CPU per chunk over the floor's ({floor.name})",
                    f"{runs[name].cpu_per_chunk_us:.1f} µs",
                    f"{floor.cpu_per_chunk_us:.1f} µs",
                    f"{over:.2f}×",
                    f"≤ {TARGET_CPU_OVER_FLOOR}× the floor",
                    over <= TARGET_CPU_OVER_FLOOR,
                )
            )
    left = sum(result.left_open for result in runs.values()) + sum(result.short for result in runs.values())
    rows.append(Row(SECTION, f"N={n:,}: streams left open on the server, short streams", str(left), target="0", met=left == 0))
    return rows
