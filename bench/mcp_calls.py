"""Section 7: an MCP tool call through Herald vs the bare `mcp` client, same stdio server.

Herald's call is made the way the sync agent makes it: from a plain thread, hopping onto the
MCP loop thread, with the connection checks, the timeout scope and the result conversion.
The baseline is `mcp.Client.call_tool` awaited inside its own event loop, timed there (no hop):
the floor any client of the SDK pays. Both talk to the same kind of server process.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import threading
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from bench.stats import interleaved, median
from bench.table import Row, ms, ratio

SECTION = "9 mcp tool call"
ROOT = Path(__file__).resolve().parent.parent
# Run as a module from the repository root: as a script, bench/ would come first on sys.path and
# bench/concurrent.py would shadow the standard library's `concurrent`.
SERVER_ARGS = ["-m", "bench.mcp_echo"]
TARGET_ADDED = 0.001  # seconds added per call


class BareClient:
    """`mcp.Client` over stdio, entered and left in one task on a loop thread of its own."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._ready: asyncio.Future[Any] = asyncio.run_coroutine_threadsafe(self._open(), self._loop).result()
        self.client = asyncio.run_coroutine_threadsafe(self._wait_ready(), self._loop).result(120)

    async def _open(self) -> asyncio.Future[Any]:
        ready: asyncio.Future[Any] = self._loop.create_future()
        self._stop = asyncio.Event()
        self._task = self._loop.create_task(self._hold(ready))
        return ready

    async def _wait_ready(self) -> Any:
        return await self._ready

    async def _hold(self, ready: asyncio.Future[Any]) -> None:
        from mcp import Client, StdioServerParameters
        from mcp.client.stdio import stdio_client

        params = StdioServerParameters(command=sys.executable, args=SERVER_ARGS, cwd=str(ROOT))
        try:
            with open(os.devnull, "w") as errlog:  # a real file: the child writes its stderr there
                async with AsyncExitStack() as stack:
                    started = time.perf_counter()
                    client = await stack.enter_async_context(Client(stdio_client(params, errlog=errlog)))
                    await client.list_tools()
                    self.connect_seconds = time.perf_counter() - started
                    ready.set_result(client)
                    await self._stop.wait()
        except Exception as error:
            if not ready.done():
                ready.set_exception(error)
            raise

    async def _timed_echo(self) -> float:
        started = time.perf_counter()
        result = await self.client.call_tool("echo", {"text": "ping"})
        assert result.content[0].text == "ping"
        return time.perf_counter() - started

    def echo(self) -> float:
        return asyncio.run_coroutine_threadsafe(self._timed_echo(), self._loop).result(60)

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        asyncio.run_coroutine_threadsafe(asyncio.wait([self._task]), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


def run(quick: bool) -> list[Row]:
    from herald.mcp import INSTALL_HINT, mcp_available, parse_mcp_servers

    if not mcp_available():
        return [Row(SECTION, "not run", f"needs the mcp extra: {INSTALL_HINT}")]
    from herald.mcp.manager import MCPManager

    calls = 20 if quick else 500
    with tempfile.TemporaryDirectory() as logs:
        bare, hopped = BareClient(), BareClient()
        manager = MCPManager(parse_mcp_servers({"echo": {"command": sys.executable, "args": SERVER_ARGS, "cwd": str(ROOT)}}), log_dir=Path(logs))
        started = time.perf_counter()
        manager.start()
        herald_connect = time.perf_counter() - started
        try:
            def herald_echo() -> float:
                began = time.perf_counter()
                outcome = manager.call("echo", "echo", {"text": "ping"})
                assert outcome.text == "ping", outcome.text
                return time.perf_counter() - began

            def hopped_echo() -> float:
                began = time.perf_counter()
                hopped.echo()
                return time.perf_counter() - began

            contenders = {"herald": herald_echo, "bare": bare.echo, "hopped": hopped_echo}
            for measure in contenders.values():  # warm-up
                for _ in range(10):
                    measure()
            results = interleaved(contenders, calls)
        finally:
            bare.close()
            hopped.close()
            manager.close()
    h, b, hop = (median(results[name]) for name in ("herald", "bare", "hopped"))
    added = h - b
    return [
        Row(SECTION, f"echo over stdio, median of {calls}", ms(h), f"{ms(b)} (bare mcp.Client, timed in its loop)",
            ratio(h, b), f"≤ +{ms(TARGET_ADDED)} added", added <= TARGET_ADDED),
        Row(SECTION, "same, bare client called from a thread (the hop a sync agent needs)", ms(h), f"{ms(hop)} (bare mcp.Client + thread hop)",
            ratio(h, hop)),
        Row(SECTION, "start a server and list its tools", ms(herald_connect), f"{ms(bare.connect_seconds)} (bare mcp.Client)",
            ratio(herald_connect, bare.connect_seconds)),
    ]
