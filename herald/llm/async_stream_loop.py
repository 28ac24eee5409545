"""The async stream loop: `stream_loop.read_sse`, awaited.

    async with wire.open_raw(async_client, kwargs) as response:     # the SDK's raw streaming response
        answer = await read_sse_async(response, wire.reader(acc, sink), watch)

The request goes out through the SDK's own `with_streaming_response.create(...)`, as on the
sync path (its request building, authentication, base URL, headers, timeouts and status
errors). Everything done with a chunk is the sync loop's `SSEFeed` (SSE split, JSON decode,
the wire's pure reader); this module only awaits the chunks and touches the `StallWatch`.
"""

from __future__ import annotations

from contextlib import aclosing
from typing import Any, AsyncGenerator

from herald.llm.async_guard import StallWatch
from herald.llm.stream_loop import HEAD_BYTES, SSEFeed, StreamReader, is_event_stream, not_an_event_stream
from herald.llm.types import LLMResponse


async def read_sse_async(response: Any, reader: StreamReader, watch: StallWatch | None) -> LLMResponse:
    """Read an async SDK raw streaming response (`AsyncAPIResponse`) to its end through `reader`.

    Raises:
        IncompleteStream: not an event stream, or the reader found the answer incomplete.
        The HTTP library's transport errors (translated by the caller's `translate_errors`).
    """
    content_type = response.headers.get("content-type")
    if not is_event_stream(content_type):
        raise not_an_event_stream(content_type, await _head(response.iter_bytes()))
    sse = SSEFeed(reader)
    async for chunk in response.iter_bytes():  # decoded: a provider may gzip its stream
        content = sse.feed(chunk)
        if watch is not None and content is not None:
            watch.touch(content=content)
    return sse.finish()


async def _head(chunks: AsyncGenerator[bytes, None]) -> bytes:
    """The start of a body that is not SSE (see `stream_loop.HEAD_BYTES`)."""
    head = b""
    async with aclosing(chunks):  # left early: close the generator now, not when it is collected
        async for chunk in chunks:
            head += chunk
            if len(head) >= HEAD_BYTES:
                break
    return head[:HEAD_BYTES]


__all__ = ["read_sse_async"]
