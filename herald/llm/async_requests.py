"""A plain (non-streaming) request on an async SDK client: the wire's `request_steps`, awaited.

What the request is (one `create`; for Responses a buffered stream first) is each wire's
decision, written once in `herald.llm.plain`'s steps; this module only performs them.
"""

from __future__ import annotations

import inspect
from typing import Any

from herald.llm.stream_loop import is_sdk_client
from herald.llm.wire import OnHeaders, PlainStep, SendPlain, Wire
from herald.llm.responses import ResponsesWire, buffered_failures, buffered_reader
from herald.llm.async_stream_loop import open_stream, read_sse_async
from herald.llm.steps import arun_steps
from herald.llm.types import LLMResponse


async def request_async(wire: Wire, client: Any, kwargs: dict[str, Any], *, on_headers: OnHeaders | None = None) -> LLMResponse:
    """The wire's plain request on an async client (`kwargs` are `plain_kwargs`); `on_headers` receives
    a real SDK client's response headers."""

    async def perform(step: PlainStep) -> Any:
        if isinstance(step, SendPlain):
            if on_headers is not None and is_sdk_client(client):
                raw = await wire.send_plain(client, step.kwargs, raw=True)
                on_headers(raw.headers)
                parsed = raw.parse()  # awaitable on some SDKs' async clients (Anthropic's)
                return await parsed if inspect.isawaitable(parsed) else parsed
            return await wire.send_plain(client, step.kwargs)
        return await buffered_request_async(client, step.kwargs)

    return await arun_steps(wire.request_steps(kwargs), perform)


async def buffered_request_async(client: Any, kwargs: dict[str, Any]) -> LLMResponse:
    """`responses.buffered_request` on an async client: the stream read to its terminal event, delivering nothing."""
    with buffered_failures():
        async with open_stream(client, ResponsesWire.stream_path, kwargs) as raw:
            response = await read_sse_async(raw, buffered_reader(), None)
    response.streamed = False
    return response


__all__ = ["buffered_request_async", "request_async"]
