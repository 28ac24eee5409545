"""Run a piece of awaited work as a task and hand what it emits to an `async for`.

Both awaited streams (`AsyncClient.stream`, `AsyncAIAgent.stream`) are this: the work runs in
its own task, emitting events; the consumer gets them in order, then the work's result as the
last event, or its error raised where it iterates; leaving the loop early cancels the work.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress
from dataclasses import dataclass
from typing import AsyncGenerator, Awaitable, Callable, Generic, TypeVar

E = TypeVar("E")

Emit = Callable[[E], None]


async def relay(work: Callable[[Emit[E]], Awaitable[E]]) -> AsyncGenerator[E, None]:
    """Yield what `work(emit)` emits, then what it returns; raise what it raises."""
    queue: asyncio.Queue[E | _Last[E] | _Failure] = asyncio.Queue()

    async def produce() -> None:
        try:
            last = await work(queue.put_nowait)
        except asyncio.CancelledError:
            raise
        except BaseException as error:  # handed to the consumer, raised there
            queue.put_nowait(_Failure(error))
        else:
            queue.put_nowait(_Last(last))

    producer = asyncio.create_task(produce())
    try:
        while True:
            item = await queue.get()
            if isinstance(item, _Failure):
                raise item.error
            if isinstance(item, _Last):
                yield item.event
                return
            yield item
    finally:
        if not producer.done():
            producer.cancel()
            with suppress(asyncio.CancelledError):
                await producer


@dataclass
class _Last(Generic[E]):
    event: E


@dataclass
class _Failure:
    error: BaseException
