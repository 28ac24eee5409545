"""Section 12: `herald serve` in front of a provider, against going direct and against the LiteLLM proxy.

Three processes besides this one: the provider (`bench.slow_server`: CHUNKS chunks, INTERVAL_MS
apart, the first on arrival), `herald serve` (one worker), and the LiteLLM proxy (`litellm --config`,
as its docs say, when `litellm[proxy]` is installed in this environment or HERALD_BENCH_LITELLM names
its command: it is not a dependency).
This process is the client: N concurrent streams over raw aiohttp, the same for every target.

Reported per N (1, 100, 1,000 streams): time to first token p50 / p99 and what the gateway adds
to going direct, the client-visible chunk rate, the gateway's CPU per relayed chunk (its process's
user + system time over the run, from /proc), and wall at 1,000 streams as a ratio of direct.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import aiohttp

from bench.servers import ROOT, _env_with_root
from bench.slow_server import slow_server_process, stats
from bench.stats import median, percentile
from bench.table import Row, ms, ratio, signed_ms

SECTION = "12 gateway"
CHUNKS = 50
INTERVAL_MS = 20.0
TARGET_ADDED_TTFT = 0.001  # at 100 streams, p50
TARGET_CPU_PER_CHUNK = 10e-6
TARGET_WALL = 1.15  # at 1,000 streams, × direct
TARGET_CANCEL = 0.050  # from the client's disconnect to the provider seeing its stream closed
MODEL = "bench"
CLIENT_KEY = "sk-bench-client"  # both gateways check it, as deployed ones do


@dataclass
class Run:
    """N concurrent streams through one target."""

    ttft: list[float]
    chunks: int
    wall: float
    failed: int
    cpu: float | None  # the gateway process's CPU seconds (None going direct)

    @property
    def chunk_rate(self) -> float:
        return self.chunks / self.wall if self.wall > 0 else 0.0


def run(quick: bool) -> list[Row]:
    sizes, chunks, interval_ms, repeats = ((1, 5), 10, 5.0, 3) if quick else ((1, 100, 1000), CHUNKS, INTERVAL_MS, 20)
    with slow_server_process(chunks, interval_ms, first_at_once=True) as provider:
        with herald_gateway(provider) as herald, litellm_proxy(provider, enabled=not quick) as litellm:
            targets = {"direct": (provider, None), "herald": herald}
            if litellm is not None:
                targets["litellm"] = litellm
            results: dict[int, dict[str, Run]] = {}
            for n in sizes:
                results[n] = {name: _measure(url, pid, n, chunks, repeats) for name, (url, pid) in _warm(targets, chunks).items()}
            cancel_n = sizes[-1] if quick else 100
            cancels = {name: asyncio.run(_cancel_time(url, provider, cancel_n)) for name, (url, _) in targets.items() if name != "direct"}
    return _rows(results, litellm is not None) + _cancel_rows(cancels, cancel_n)


async def _cancel_time(base_url: str, provider: str, n: int) -> float:
    """N streams read to their first content, then the client disconnects all of them: seconds until
    the provider holds none of them open (its own count, polled)."""
    body = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "stream": True}
    headers = {"Authorization": f"Bearer {CLIENT_KEY}"}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        requests = [asyncio.ensure_future(session.post(f"{base_url}/chat/completions", json=body, headers=headers)) for _ in range(n)]
        try:
            responses = await asyncio.gather(*requests)
            for response in responses:
                while b'"content":"w' not in await response.content.readline():
                    pass
        finally:
            for request in requests:  # the client is gone: every response closed with its connection
                if request.done() and not request.cancelled() and request.exception() is None:
                    request.result().close()
                else:
                    request.cancel()
            await asyncio.gather(*requests, return_exceptions=True)
    closed_at = time.perf_counter()
    while stats(provider.removesuffix("/v1"))["open"] > 0:
        if time.perf_counter() - closed_at > 30:
            return float("inf")
        await asyncio.sleep(0.002)
    return time.perf_counter() - closed_at


def _cancel_rows(cancels: dict[str, float], n: int) -> list[Row]:
    herald = cancels["herald"]
    other = f"litellm {ms(cancels['litellm'])}" if "litellm" in cancels else "—"
    return [Row(SECTION, f"upstream closed after {n} clients disconnect", ms(herald), other, "—", "≤ 50 ms", herald <= TARGET_CANCEL)]


def _warm(targets: dict[str, tuple[str, int | None]], chunks: int) -> dict[str, tuple[str, int | None]]:
    for url, _ in targets.values():
        asyncio.run(_streams(url, 2, chunks))
    return targets


def _measure(url: str, pid: int | None, n: int, expected: int, repeats: int) -> Run:
    before = process_cpu(pid) if pid else None
    started = time.perf_counter()
    if n == 1:  # one at a time, `repeats` times: a distribution for p50 / p99
        runs = [asyncio.run(_streams(url, 1, expected)) for _ in range(repeats)]
        ttft = [t for r in runs for t in r[0]]
        chunks, failed = sum(r[1] for r in runs), sum(r[2] for r in runs)
    else:
        ttft, chunks, failed = asyncio.run(_streams(url, n, expected))
    wall = time.perf_counter() - started
    cpu = process_cpu(pid) - before if pid and before is not None else None
    return Run(ttft, chunks, wall, failed, cpu)


async def _streams(base_url: str, n: int, expected: int) -> tuple[list[float], int, int]:
    """N concurrent chat streams: each one's time to first content, content chunks, failures."""
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=300)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        results = await asyncio.gather(*(_one(session, base_url, expected) for _ in range(n)), return_exceptions=True)
    ttft = [r[0] for r in results if isinstance(r, tuple)]
    chunks = sum(r[1] for r in results if isinstance(r, tuple))
    return ttft, chunks, sum(1 for r in results if not isinstance(r, tuple))


async def _one(session: aiohttp.ClientSession, base_url: str, expected: int) -> tuple[float, int]:
    body = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "stream": True}
    started = time.perf_counter()
    first: float | None = None
    chunks = 0
    async with session.post(f"{base_url}/chat/completions", json=body, headers={"Authorization": f"Bearer {CLIENT_KEY}"}) as response:
        response.raise_for_status()
        async for line in response.content:
            if not line.startswith(b"data: "):
                continue
            if line.startswith(b"data: [DONE]"):
                break
            if b'"content":"' in line and b'"content":""' not in line:
                chunks += 1
                if first is None:
                    first = time.perf_counter() - started
    if first is None or chunks != expected:
        raise RuntimeError(f"{chunks} of {expected} chunks")
    return first, chunks


def process_cpu(pid: int) -> float:
    """User + system seconds of `pid` and every process under it (from /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total, children = 0.0, _children()
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
        pending.extend(children.get(current, ()))
    return total


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            tree.setdefault(parent, []).append(int(entry.name))
    return tree


@contextmanager
def herald_gateway(provider: str) -> Iterator[tuple[str, int]]:
    """`herald serve` (one worker) in front of `provider`; yields (its /v1 URL, its pid)."""
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "gateway.toml"
        config.write_text(
            f'keys = ["{CLIENT_KEY}"]\n[[models]]\nname = "{MODEL}"\n'
            f'providers = [{{ model = "bench-model", base_url = "{provider}" }}]\n'
        )
        with herald_gateway_config(config) as running:
            yield running


@contextmanager
def herald_gateway_config(config: Path) -> Iterator[tuple[str, int]]:
    """`herald serve --config CONFIG` (one worker, any free port); yields (its /v1 URL, its pid)."""
    command = [sys.executable, "-m", "herald", "serve", "--config", str(config), "--port", "0"]
    child = subprocess.Popen(command, cwd=ROOT, env=_env_with_root(), stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        assert child.stderr is not None
        line = child.stderr.readline()
        if "listening on " not in line:
            raise RuntimeError(f"herald serve did not start: {line!r}")
        url = line.split("listening on ", 1)[1].split()[0]
        yield f"{url}/v1", child.pid
    finally:
        _stop(child)


@contextmanager
def litellm_proxy(provider: str, *, enabled: bool = True) -> Iterator[tuple[str, int] | None]:
    """The LiteLLM proxy in front of `provider` when `litellm[proxy]` is installed here (or its
    `litellm` command is named by HERALD_BENCH_LITELLM, e.g. in a virtualenv of its own, so its
    pins do not change this one); else None."""
    executable = Path(os.environ.get("HERALD_BENCH_LITELLM") or Path(sys.executable).parent / "litellm")
    if not enabled or not executable.exists():
        yield None
        return
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "litellm.yaml"
        config.write_text(
            f"model_list:\n  - model_name: {MODEL}\n    litellm_params:\n      model: openai/bench-model\n"
            f"      api_base: {provider}\n      api_key: sk-bench\n"
            f"general_settings:\n  master_key: {CLIENT_KEY}\n"  # it refuses to start without one
        )
        port = _free_port()
        env = dict(os.environ, LITELLM_LOCAL_MODEL_COST_MAP="True", LITELLM_LOG="ERROR", NO_DOCS="True")
        command = [str(executable), "--config", str(config), "--host", "127.0.0.1", "--port", str(port), "--num_workers", "1"]
        child = subprocess.Popen(command, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait_healthy(f"http://127.0.0.1:{port}/health/liveliness", child, 180)
            yield f"http://127.0.0.1:{port}/v1", child.pid
        finally:
            _stop(child)


def _wait_healthy(url: str, child: subprocess.Popen[bytes], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise RuntimeError(f"the LiteLLM proxy exited ({child.returncode})")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("the LiteLLM proxy did not become healthy")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _stop(child: subprocess.Popen[str] | subprocess.Popen[bytes]) -> None:
    if child.poll() is None:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    for stream in (child.stdout, child.stderr):
        if stream is not None:
            stream.close()


def _rows(results: dict[int, dict[str, Run]], with_litellm: bool) -> list[Row]:
    rows: list[Row] = []
    gateways = ["herald", "litellm"] if with_litellm else ["herald"]
    largest = max(results)
    for n, runs in results.items():
        direct = runs["direct"]
        d50, d99 = median(direct.ttft), percentile(direct.ttft, 99)
        for name in gateways:
            run, label = runs[name], f"{name}, {n:,} stream{'s' if n > 1 else ''}"
            added50, added99 = median(run.ttft) - d50, percentile(run.ttft, 99) - d99
            other = runs.get("litellm") if name == "herald" else None
            target = n == 100 and name == "herald"
            rows.append(Row(
                SECTION, f"added TTFT p50 / p99, {label}", f"{signed_ms(added50)} / {signed_ms(added99)}",
                f"direct {ms(d50)} / {ms(d99)}" + (f"; litellm {signed_ms(median(other.ttft) - d50)}" if other else ""), "—",
                "≤ 1 ms" if target else "—", added50 <= TARGET_ADDED_TTFT if target else None,
            ))
            rows.append(Row(SECTION, f"chunk rate, {label}", f"{run.chunk_rate:,.0f}/s", f"direct {direct.chunk_rate:,.0f}/s",
                            ratio(run.chunk_rate, direct.chunk_rate)))
            if run.cpu is not None and n > 1:
                per_chunk = run.cpu / max(run.chunks, 1)
                versus = runs["litellm"].cpu / max(runs["litellm"].chunks, 1) if other and runs["litellm"].cpu is not None else None
                rows.append(Row(
                    SECTION, f"gateway CPU per chunk, {label}", f"{per_chunk * 1e6:.1f} µs",
                    f"litellm {versus * 1e6:.1f} µs" if versus else "—", ratio(per_chunk, versus) if versus else "—",
                    "≤ 10 µs" if name == "herald" else "—", per_chunk <= TARGET_CPU_PER_CHUNK if name == "herald" else None,
                ))
            if run.failed:
                rows.append(Row(SECTION, f"failed streams, {label}", str(run.failed), "—", "—", "0", False))
        if n == largest:
            for name in gateways:
                wall = runs[name].wall / direct.wall
                is_herald = name == "herald"
                rows.append(Row(SECTION, f"wall, {name}, {n:,} streams", ms(runs[name].wall), f"direct {ms(direct.wall)}",
                                f"{wall:.3f}×", f"≤ {TARGET_WALL}×" if is_herald else "—", wall <= TARGET_WALL if is_herald else None))
    if not with_litellm:
        rows.append(Row(SECTION, "LiteLLM proxy", "not run", "pip install 'litellm[proxy]' here or set HERALD_BENCH_LITELLM (full run only)"))
    return rows


if __name__ == "__main__":  # a quick look: python -m bench.gateway [--quick]
    from bench.table import render_text

    print(render_text(run("--quick" in sys.argv)))
