"""StallWatch: stall limits as asyncio deadlines; every other cancellation left alone."""

from __future__ import annotations

import asyncio
import time
from typing import AsyncIterator

import pytest

from herald.errors import StreamStalled
from herald.llm.async_guard import StallWatch
from herald.llm.timeouts import StreamTimeouts


async def events(gaps: list[float], content: bool = True) -> AsyncIterator[bool]:
    for gap in gaps:
        await asyncio.sleep(gap)
        yield content


async def read(watch_limits: StreamTimeouts, source: AsyncIterator[bool], keepalive_first: int = 0) -> int:
    count = 0
    async with StallWatch(watch_limits) as watch:
        async for content in source:
            watch.touch(content=content and count >= keepalive_first)
            count += 1
    return count


def test_a_steady_stream_is_not_stalled() -> None:
    limits = StreamTimeouts(first_byte=0.5, idle=0.3, total=5)
    assert asyncio.run(read(limits, events([0.1] * 10))) == 10


@pytest.mark.parametrize(
    ("limits", "gaps", "limit"),
    [
        (StreamTimeouts(first_byte=0.2, idle=None, total=None), [5.0], "first_byte"),
        # The idle limit is sooner than the first-byte one: it must not wait for the first-byte deadline.
        (StreamTimeouts(first_byte=30, idle=0.2, total=None), [0.0, 0.05, 5.0], "idle"),
        (StreamTimeouts(first_byte=None, idle=None, total=0.4), [0.1] * 20, "total"),
    ],
)
def test_each_limit_raises_stream_stalled_promptly(limits: StreamTimeouts, gaps: list[float], limit: str) -> None:
    started = time.monotonic()
    with pytest.raises(StreamStalled) as stalled:
        asyncio.run(read(limits, events(gaps)))
    assert stalled.value.limit == limit
    assert time.monotonic() - started < 2.0


def test_keepalives_do_not_reset_the_idle_limit() -> None:
    limits = StreamTimeouts(first_byte=5, idle=0.3, total=None)

    async def keepalives() -> AsyncIterator[bool]:
        yield True
        for _ in range(50):
            await asyncio.sleep(0.05)
            yield False  # a keep-alive: data, but no content

    with pytest.raises(StreamStalled) as stalled:
        asyncio.run(read(limits, keepalives()))
    assert stalled.value.limit == "idle"


def test_an_outside_cancellation_is_a_cancellation_not_a_stall() -> None:
    async def main() -> None:
        task = asyncio.create_task(read(StreamTimeouts(first_byte=0.3, idle=None, total=None), events([5.0])))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())


def test_an_outer_asyncio_timeout_still_works_inside_and_around() -> None:
    async def main() -> None:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.1):
                await read(StreamTimeouts(first_byte=10, idle=None, total=None), events([5.0]))
        # A stall inside an outer timeout that has not expired is a stall.
        async with asyncio.timeout(5):
            with pytest.raises(StreamStalled):
                await read(StreamTimeouts(first_byte=0.1, idle=None, total=None), events([5.0]))
        assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]

    asyncio.run(main())
