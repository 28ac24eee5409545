"""The async stream loop: `stream_loop.read_sse`, awaited, on a lean request.

    async with open_stream(async_client, wire.stream_path, kwargs) as response:   # an httpx2.Response
        answer = await read_sse_async(response, wire.reader(acc, sink), watch)

The request goes out through the SDK's own `client.post(...)`: its request building,
authentication, base URL, headers, timeouts and status errors, minus `create()`'s parameter
transform, which walks every message against the SDK's typed-dict annotations and leaves a
request built from plain JSON values as it was (tests/llm/test_lean_stream_request.py checks
that the bytes sent are the same). Everything done with a chunk is the sync loop's `SSEFeed`
(SSE split, JSON decode, the wire's pure reader); this module only awaits the chunks and
touches the `StallWatch`. The chunks come from aiohttp itself when the client runs on
`aiohttp_transport.AiohttpTransport` (`body_chunks`), not through httpx2's async generators.
What each costs: docs/performance-async.md.
"""

from __future__ import annotations

from contextlib import aclosing, asynccontextmanager
from typing import Any, AsyncIterator

import httpx2

from herald.llm.aiohttp_transport import aiohttp_errors_as_httpx2, body_chunks
from herald.llm.async_guard import StallWatch
from herald.llm.stream_loop import HEAD_BYTES, SSEFeed, StreamReader, is_event_stream, not_an_event_stream
from herald.llm.types import LLMResponse


@asynccontextmanager
async def open_stream(client: Any, path: str, kwargs: dict[str, Any], *, timeout: float | None = None) -> AsyncIterator[httpx2.Response]:
    """The streamed response to a `stream: true` request of `kwargs` to `path`, on an async SDK client.

    `timeout` replaces the client's own (see `StreamTimeouts.socket_timeout`); None keeps it.

    The request goes out on entry; a status error is the SDK's (`APIStatusError`), raised there.
    The response is closed on exit, however the block ends: a body not read to its end closes
    its connection.
    """
    body = {k: v for k, v in kwargs.items() if k not in ("extra_body", "extra_headers")}
    body.update(kwargs.get("extra_body") or {})  # what `create()` would merge: temperature, continuation flags, …
    body["stream"] = True
    options: dict[str, Any] = {"headers": kwargs["extra_headers"]} if kwargs.get("extra_headers") else {}
    if timeout is not None:
        options["timeout"] = timeout
    response = await client.post(path, body=body, options=options, cast_to=httpx2.Response, stream=True)
    try:
        yield response
    finally:
        await response.aclose()


async def read_sse_async(response: httpx2.Response, reader: StreamReader, watch: StallWatch | None) -> LLMResponse:
    """Read a streamed response to its end through `reader`.

    Raises:
        IncompleteStream: not an event stream, or the reader found the answer incomplete.
        The HTTP library's transport errors (translated by the caller's `translate_errors`).
    """
    content_type = response.headers.get("content-type")
    if not is_event_stream(content_type):
        raise not_an_event_stream(content_type, await _head(response.aiter_bytes()))
    sse = SSEFeed(reader)
    with aiohttp_errors_as_httpx2():  # a cut or reset mid-body, as the SDK's transport reports it
        async for chunk in body_chunks(response):  # decoded: a provider may gzip its stream
            content = sse.feed(chunk)
            if watch is not None and content is not None:
                watch.touch(content=content)
    return sse.finish()


async def _head(chunks: AsyncIterator[bytes]) -> bytes:
    """The start of a body that is not SSE (see `stream_loop.HEAD_BYTES`)."""
    head = b""
    async with aclosing(chunks):  # type: ignore[type-var]  # left early: close the generator now
        async for chunk in chunks:
            head += chunk
            if len(head) >= HEAD_BYTES:
                break
    return head[:HEAD_BYTES]


__all__ = ["open_stream", "read_sse_async"]
