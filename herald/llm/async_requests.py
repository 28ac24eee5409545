"""Plain (non-streaming) requests on an async SDK client, per wire: each wire's `request`, awaited.

The answers are read by the wires' own converters; the Responses wire's fallback rules (a
buffered stream first, `stream: false` when that is refused) are its own, repeated here with
awaits because its sync `request` blocks.
"""

from __future__ import annotations

from typing import Any

import openai

from herald.errors import BadResponse, IncompleteStream, ProviderError, ProviderUnreachable
from herald.llm.accumulate import StreamAccumulator
from herald.llm.anthropic import response_from_message
from herald.llm.async_stream_loop import open_raw_async, read_sse_async
from herald.llm.caller import Wire
from herald.llm.openai_chat import response_from_completion
from herald.llm.responses import (
    ResponsesStreamReader,
    ResponsesWire,
    _refuses_streaming,
    response_from_responses,
)
from herald.llm.sink import DeltaSink
from herald.llm.types import LLMResponse


async def plain_request_async(wire: Wire, client: Any, kwargs: dict[str, Any]) -> LLMResponse:
    """The wire's plain request on an async client (`kwargs` already `plain_kwargs`)."""
    if wire.mode == "chat_completions":
        return response_from_completion(await client.chat.completions.create(**kwargs))
    if wire.mode == "anthropic_messages":
        return response_from_message(await client.messages.create(**kwargs))
    assert isinstance(wire, ResponsesWire)
    return await _responses_request(wire, client, kwargs)


async def _responses_request(wire: ResponsesWire, client: Any, kwargs: dict[str, Any]) -> LLMResponse:
    if wire.fallback == "plain":
        return response_from_responses(await client.responses.create(**kwargs))
    try:
        return await _buffered_responses(client, kwargs)
    except (openai.APIStatusError, ProviderError) as error:
        if wire.fallback == "buffered" or not _refuses_streaming(error):
            raise
        return response_from_responses(await client.responses.create(**kwargs))


async def _buffered_responses(client: Any, kwargs: dict[str, Any]) -> LLMResponse:
    """`responses.create(stream=True)` consumed to its terminal event, delivering nothing."""
    reader = ResponsesStreamReader(StreamAccumulator(), DeltaSink(), incomplete_is_failure=False)
    try:
        async with open_raw_async(client, "codex_responses", kwargs) as raw:
            response = await read_sse_async(raw, reader, None)
    except IncompleteStream as exc:
        if exc.reason == "no_finish":
            raise ProviderUnreachable(f"the buffered Responses stream was cut: {exc}") from None
        raise BadResponse(str(exc)) from None
    response.streamed = False
    return response
