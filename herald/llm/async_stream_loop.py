"""The async stream loop: the sync `stream_loop.read_sse`, awaited.

Bytes from the SDK's raw streaming response (`AsyncAPIResponse`) → `SSEDecoder` → `decode_json`
→ the wire's pure reader, unchanged. Each event touches the `StallWatch`. The helpers that are
not loops (`is_event_stream`, `not_an_event_stream`) are the sync module's.
"""

from __future__ import annotations

from typing import Any

from herald.llm.async_guard import StallWatch
from herald.llm.decode import decode_json
from herald.llm.sse import SSEDecoder
from herald.llm.stream_loop import StreamReader, is_event_stream, not_an_event_stream
from herald.llm.types import LLMResponse

_DONE = b"[DONE]"


async def read_sse_async(response: Any, reader: StreamReader, watch: StallWatch | None) -> LLMResponse:
    """Read an async SDK raw streaming response to its end through `reader`.

    Raises:
        IncompleteStream: not an event stream, or the reader found the answer incomplete.
        The HTTP library's transport errors (translated by the caller's `translate_errors`).
    """
    content_type = response.headers.get("content-type")
    if not is_event_stream(content_type):
        raise not_an_event_stream(content_type, await response.read())
    decoder = SSEDecoder()
    feed = reader.feed
    async for chunk in response.iter_bytes():
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
