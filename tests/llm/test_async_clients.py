"""Async clients: aiohttp under the SDK, a pool sized for the concurrency, nothing left open."""

from __future__ import annotations

import asyncio
import gc

from bench.slow_server import slow_server_process, stats
from fakeprovider import FakeProvider, Reply
from herald.llm.async_clients import ClientPool, make_async_openai_client, pool_limits
from herald.llm.endpoint import resolve_endpoint

MESSAGES = [{"role": "user", "content": "hi"}]


async def read_stream(client: object) -> None:
    """Open one raw stream and read it whole."""
    create = client.chat.completions.with_streaming_response.create  # type: ignore[attr-defined]
    async with create(model="m", messages=MESSAGES, stream=True) as response:
        async for _ in response.http_response.aiter_bytes():
            pass


def test_no_silent_connection_cap_when_none_is_asked_for() -> None:
    # 150 streams of 1 s each on a server that holds them all: a 100-connection cap shows as peak 100.
    with slow_server_process(chunks=50, interval_ms=20) as base_url:
        endpoint = resolve_endpoint(model="m", base_url=base_url, api_key="k", api_mode=None)
        pool = ClientPool(lambda: make_async_openai_client(endpoint, timeout=30, max_connections=None))

        async def main() -> None:
            async with pool.lease() as client:
                await asyncio.gather(*(read_stream(client) for _ in range(150)))

        asyncio.run(main())
        counts = stats(base_url)
    assert counts["peak"] == 150 and counts["finished"] == 150 and counts["open"] == 0
    assert pool.open_clients == 0  # the last lease closed the client


def test_a_limit_asked_for_is_the_pool_size() -> None:
    assert pool_limits(None).max_connections == 0  # aiohttp: unlimited
    assert pool_limits(250).max_connections == 250


def test_leases_share_one_client_per_loop_and_held_pools_outlive_conversations(fake: FakeProvider) -> None:
    fake.default = Reply(text="ok")
    endpoint = resolve_endpoint(model="m", base_url=fake.base_url, api_key="k", api_mode=None)
    made: list[object] = []

    def factory() -> object:
        made.append(make_async_openai_client(endpoint, timeout=30, max_connections=None))
        return made[-1]

    pool = ClientPool(factory)

    async def conversation() -> object:
        async with pool.lease() as client:
            await read_stream(client)
            return client

    async def main() -> None:
        first, second = await asyncio.gather(conversation(), conversation())
        assert first is second and pool.open_clients == 0
        pool.hold()
        one = await conversation()
        two = await conversation()
        assert one is two and pool.open_clients == 1
        await pool.release()
        assert pool.open_clients == 0

    asyncio.run(main())
    assert len(made) == 2
    gc.collect()  # an unclosed aiohttp session would warn here (warnings are errors)
