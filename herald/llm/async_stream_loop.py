"""The async stream loop: the sync `stream_loop.read_sse`, awaited.

    async with open_raw_async(client, wire.mode, kwargs) as response:
        answer = await read_sse_async(response, wire.reader(acc, sink), watch)

The request goes out through the SDK client's own `post` (its authentication, base URL,
default headers, timeouts and status errors), asking for the raw streaming HTTP response.
`create()`'s per-request parameter transform is skipped: it walks every message through
the SDK's TypedDict machinery and measured 0.5 ms of CPU per request, half a second of a
thousand conversations' start, for kwargs that Herald already builds in wire format.

Bytes → `SSEDecoder` → `decode_json` → the wire's pure reader, unchanged. Each event touches
the `StallWatch`. The helpers that are not loops are the sync module's.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

import httpx2

from herald.llm.async_guard import StallWatch
from herald.llm.decode import decode_json
from herald.llm.sse import SSEDecoder
from herald.llm.stream_loop import StreamReader, is_event_stream, not_an_event_stream
from herald.llm.types import LLMResponse

_DONE = b"[DONE]"
_PATHS = {
    "chat_completions": "/chat/completions",
    "codex_responses": "/responses",
    "anthropic_messages": "/v1/messages",
}


@asynccontextmanager
async def open_raw_async(client: Any, mode: str, kwargs: dict[str, Any]) -> AsyncIterator[httpx2.Response]:
    """The raw streaming response of one streamed call on an async SDK client; closed on exit.

    Raises:
        The SDK's status and connection errors (translated by the caller's `translate_errors`).
    """
    body = {**kwargs, "stream": True}
    response = await client.post(_PATHS[mode], cast_to=httpx2.Response, body=body, stream=True)
    try:
        yield response
    finally:
        await response.aclose()


async def read_sse_async(response: httpx2.Response, reader: StreamReader, watch: StallWatch | None) -> LLMResponse:
    """Read a raw streaming HTTP response to its end through `reader`.

    Raises:
        IncompleteStream: not an event stream, or the reader found the answer incomplete.
        The HTTP library's transport errors (translated by the caller's `translate_errors`).
    """
    content_type = response.headers.get("content-type")
    if not is_event_stream(content_type):
        raise not_an_event_stream(content_type, await response.aread())
    decoder = SSEDecoder()
    feed = reader.feed
    async for chunk in response.aiter_bytes():  # decoded: a provider may gzip its stream
        for event in decoder.feed(chunk):
            data = event.data
            if data == _DONE:
                continue
            content = feed(decode_json(data))
            if watch is not None:
                watch.touch(content=content)
    for event in decoder.flush():
        if event.data != _DONE:
            feed(decode_json(event.data))
    return reader.finish()
