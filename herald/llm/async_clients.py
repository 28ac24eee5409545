"""Async SDK clients over aiohttp, and the pool one async agent's conversations share.

Transport: aiohttp under the SDKs' httpx2 client (`aiohttp_transport.AiohttpTransport`, what the
SDKs' own `DefaultAioHttpClient` does, with the body's aiohttp response in reach of the stream
loop), so authentication, base URL, headers and status errors stay the SDK's while HTTP is parsed
by aiohttp's C parser instead of a pure-Python one. Measured here with `bench.concurrent_contenders`
(1,000 streams of 100 chunks 30 ms apart, 3.0 s of wire, the same raw SSE + msgspec reading on
both): 4.2 s on aiohttp against 5.4 s on the default httpx2 transport; the bare SDK loop takes
10.4 s and 16.7 s. See docs/performance.md.

The pool is sized for the concurrency asked for: `max_connections=None` means no limit at
all (aiohttp's `limit=0`), never a library default (aiohttp's own is 100, and the vendored
transport falls back to it when given no number).
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable

import httpx2
import openai

from herald.llm.aiohttp_transport import AiohttpTransport
from herald.llm.clients import _key_for, _shared_ssl_context
from herald.llm.endpoint import Endpoint

if TYPE_CHECKING:
    import anthropic  # imported on first use: see herald.llm.sdks


def pool_limits(max_connections: int | None) -> httpx2.Limits:
    """Connection limits for the aiohttp transport; 0 is aiohttp's "unlimited"."""
    size = max_connections or 0
    return httpx2.Limits(max_connections=size, max_keepalive_connections=size)


def aiohttp_client(*, timeout: float, max_connections: int | None) -> httpx2.AsyncClient:
    """The SDKs' HTTP client on `AiohttpTransport`, with the SDKs' `DefaultAioHttpClient` settings."""
    limits = pool_limits(max_connections)
    transport = AiohttpTransport(_shared_ssl_context(), limits)
    return httpx2.AsyncClient(transport=transport, timeout=timeout, limits=limits, follow_redirects=True)


def make_async_openai_client(endpoint: Endpoint, *, timeout: float, max_connections: int | None) -> openai.AsyncOpenAI:
    """An AsyncOpenAI on aiohttp with SDK retries off: Herald retries (and falls back) itself."""
    http_client = aiohttp_client(timeout=timeout, max_connections=max_connections)
    return openai.AsyncOpenAI(
        api_key=_key_for(endpoint), base_url=endpoint.base_url, max_retries=0, timeout=timeout, http_client=http_client
    )


def make_async_anthropic_client(
    endpoint: Endpoint, *, timeout: float, max_connections: int | None
) -> anthropic.AsyncAnthropic:
    """An AsyncAnthropic on aiohttp with SDK retries off."""
    import anthropic

    http_client = aiohttp_client(timeout=timeout, max_connections=max_connections)
    return anthropic.AsyncAnthropic(
        api_key=_key_for(endpoint), base_url=endpoint.base_url, max_retries=0, timeout=timeout, http_client=http_client
    )


@dataclass
class _Entry:
    client: Any
    users: int = 0


class ClientPool:
    """One async client per event loop, shared by the conversations running on that loop.

    A client (and its connection pool) belongs to the loop it was opened on. It lives while
    a conversation leases it, or while the pool is held open (`async with AsyncAIAgent(…)`),
    and is closed when the last lease ends: an agent that is never closed explicitly still
    leaves no session or socket behind.
    """

    def __init__(self, factory: Callable[[], Any]) -> None:
        self._factory = factory
        self._by_loop: dict[asyncio.AbstractEventLoop, _Entry] = {}
        self._held: set[asyncio.AbstractEventLoop] = set()

    @asynccontextmanager
    async def lease(self) -> AsyncIterator[Any]:
        """The running loop's client, for the duration of the block."""
        loop = asyncio.get_running_loop()
        entry = self._by_loop.get(loop)
        if entry is None:
            entry = self._by_loop[loop] = _Entry(self._factory())
        entry.users += 1
        try:
            yield entry.client
        finally:
            entry.users -= 1
            if entry.users == 0 and loop not in self._held:
                await self._close(loop)

    def hold(self) -> None:
        """Keep the running loop's client open between conversations, until `release()`."""
        self._held.add(asyncio.get_running_loop())

    async def release(self) -> None:
        """Stop holding the running loop's client; close it unless a conversation still uses it."""
        loop = asyncio.get_running_loop()
        self._held.discard(loop)
        entry = self._by_loop.get(loop)
        if entry is not None and entry.users == 0:
            await self._close(loop)

    @property
    def open_clients(self) -> int:
        """How many clients are open (one per loop at most); for tests and leak checks."""
        return len(self._by_loop)

    async def _close(self, loop: asyncio.AbstractEventLoop) -> None:
        entry = self._by_loop.pop(loop, None)
        if entry is not None:
            await entry.client.close()
