"""The Anthropic Messages wire ("anthropic_messages"), spoken with the official `anthropic` SDK.

Streams `messages.create(stream=True)`: through the SDK's raw response for a real SDK client,
through its event objects otherwise. The fallback is a plain `messages.create(...)`.
"""

from __future__ import annotations

import json
from typing import Any, ContextManager, Mapping

from herald.errors import BadResponse, IncompleteStream
from herald.llm.accumulate import StreamAccumulator
from herald.llm.fields import plain
from herald.llm import plain as plain_requests
from herald.llm.history import to_anthropic_messages, to_anthropic_tools
from herald.llm.wire import OnHeaders, PlainSteps, SendPlain
from herald.llm.openai_chat import error_text
from herald.llm.sink import DeltaSink
from herald.llm.stream_loop import closing_events
from herald.llm.types import LLMResponse

_STOP_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "tool_use": "tool_calls",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "refusal": "content_filter",
}

DEFAULT_MAX_TOKENS = 8192
"""Anthropic requires `max_tokens`; this is used when the caller gives none."""


class AnthropicWire:
    """Requests, streams and answers in the Anthropic Messages format."""

    mode = "anthropic_messages"
    supports_stream_options = False
    stream_path = "/v1/messages"

    def build_kwargs(
        self, model: str, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None, max_tokens: int | None = None
    ) -> dict[str, Any]:
        """Native request kwargs from chat-format history and tools."""
        system, turns = to_anthropic_messages(messages)
        kwargs: dict[str, Any] = {"model": model, "messages": turns, "max_tokens": max_tokens or DEFAULT_MAX_TOKENS}
        if system:
            kwargs["system"] = system
        if tools:
            kwargs["tools"] = to_anthropic_tools(tools)
        return kwargs

    def stream_kwargs(self, api_kwargs: dict[str, Any], *, stream_options: bool) -> dict[str, Any]:
        # The openers set `stream` themselves.
        return self.plain_kwargs(api_kwargs)

    def plain_kwargs(self, api_kwargs: dict[str, Any]) -> dict[str, Any]:
        kwargs = {k: v for k, v in api_kwargs.items() if k not in ("stream", "stream_options")}
        kwargs.setdefault("max_tokens", DEFAULT_MAX_TOKENS)
        return kwargs

    def reader(self, acc: StreamAccumulator, sink: DeltaSink) -> AnthropicStreamReader:
        return AnthropicStreamReader(acc, sink)

    def open_raw(self, client: Any, kwargs: dict[str, Any]) -> Any:
        return open_anthropic_stream(client, kwargs)

    def open_objects(self, client: Any, kwargs: dict[str, Any]) -> ContextManager[Any]:
        # The raw events only: `messages.stream()` would add derived events (and a snapshot
        # rebuilt on every event) that repeat them.
        return closing_events(client.messages.create(**kwargs, stream=True))

    def send_plain(self, client: Any, kwargs: dict[str, Any], *, raw: bool = False) -> Any:
        """The SDK's plain `create`: a Message (a coroutine of one, on an async client); `raw`: its raw response."""
        return (client.messages.with_raw_response if raw else client.messages).create(**kwargs)

    def request_steps(self, kwargs: dict[str, Any]) -> PlainSteps:
        return response_from_message((yield SendPlain(kwargs)))

    def request(self, client: Any, kwargs: dict[str, Any], *, on_headers: OnHeaders | None = None) -> LLMResponse:
        return plain_requests.request(self, client, kwargs, on_headers=on_headers)


def open_anthropic_stream(client: Any, kwargs: dict[str, Any]) -> Any:
    """The SDK's raw streaming response for a Messages call, as a context manager: `with` on an
    `Anthropic` client, `async with` on an `AsyncAnthropic` one. The request goes out on entry."""
    return client.messages.with_streaming_response.create(**kwargs, stream=True)


class AnthropicStreamReader:
    """Feeds Anthropic Messages stream event dicts to an accumulator and the sink. No I/O.

    Thinking blocks (with their signatures), tool calls and cumulative usage are all kept by
    the accumulator; this reader only maps events. Events it does not know (`ping`, the SDK
    helper's derived "text" / "thinking" / "input_json" events) are ignored.

    Raises (from `feed`):
        IncompleteStream: an in-band `error` event (e.g. `overloaded_error` mid-stream).
    """

    def __init__(self, acc: StreamAccumulator, sink: DeltaSink) -> None:
        self.acc = acc
        self.sink = sink
        self._stop_reason: str | None = None

    def feed(self, event: Mapping[str, Any]) -> bool:
        """Apply one event; True when it carried content (resets the idle timer)."""
        acc = self.acc
        acc.events_seen = True
        kind = event.get("type")
        if kind == "content_block_delta":
            return self._delta(event.get("index"), event.get("delta") or {})
        if kind == "content_block_start":
            return self._start(event.get("index"), event.get("content_block") or {})
        if kind == "message_start":
            message = event.get("message") or {}
            acc.handle_meta(response_id=message.get("id"), model=message.get("model"))
            acc.handle_usage_counts(counts=message.get("usage") or {})
        elif kind == "message_delta":
            stop_reason = (event.get("delta") or {}).get("stop_reason")
            if stop_reason:
                self._stop_reason = stop_reason
                acc.handle_finish(reason=finish_reason_for(stop_reason))
            acc.handle_usage_counts(counts=event.get("usage") or {})
        elif kind == "error":
            raise IncompleteStream("error_event", error_text(event.get("error") or event))
        return False

    def finish(self) -> LLMResponse:
        """The answer. Raises `IncompleteStream` if no event or no stop reason arrived (the SDK
        ends a cut stream quietly)."""
        return self.acc.complete(state="incomplete" if self._stop_reason == "max_tokens" else "complete")

    def _start(self, index: Any, block: Mapping[str, Any]) -> bool:
        acc, sink = self.acc, self.sink
        kind = block.get("type")
        if kind == "text":
            text = block.get("text")
            if text:
                sink.emit(acc.handle_text_delta(text=text))
                return True
        elif kind == "thinking":
            acc.handle_thinking_start(index=index, signature=block.get("signature") or "")
            return self._thinking(index, block.get("thinking"))
        elif kind == "redacted_thinking":
            acc.handle_thinking_start(index=index, redacted=True, data=block.get("data") or "")
        elif kind == "tool_use":
            sink.close_text()  # a tool-calling turn: the rest of the text is not for display
            # Some proxies put the whole input here and stream no input_json_delta; a tool
            # without parameters streams none at all.
            start_input = block.get("input")
            sink.emit(
                acc.handle_tool_call_delta(
                    index=index,
                    call_id=block.get("id"),
                    name=block.get("name"),
                    fallback_arguments=json.dumps(start_input) if start_input else "{}",
                )
            )
            return True
        return False

    def _delta(self, index: Any, delta: Mapping[str, Any]) -> bool:
        kind = delta.get("type")
        if kind == "text_delta":
            self.sink.emit(self.acc.handle_text_delta(text=delta.get("text") or ""))
            return True
        if kind == "input_json_delta":
            self.acc.handle_tool_call_delta(index=index, arguments=delta.get("partial_json") or "")
            return True
        if kind == "thinking_delta":
            return self._thinking(index, delta.get("thinking"))
        if kind == "signature_delta":
            self.acc.handle_signature(index=index, signature=delta.get("signature") or "")
        return False

    def _thinking(self, index: Any, text: Any) -> bool:
        if not text or not isinstance(text, str):
            return False
        self.sink.emit(self.acc.handle_thinking_delta(index=index, text=text))
        return True


def finish_reason_for(stop_reason: str | None) -> str | None:
    """The chat-completions finish reason for an Anthropic `stop_reason` (None stays None)."""
    if stop_reason is None:
        return None
    return _STOP_REASONS.get(stop_reason, "stop")


def response_from_message(message: Any) -> LLMResponse:
    """Read a non-streaming Anthropic `Message` into `LLMResponse`, through the stream reader:
    its content blocks arrive whole, as if each had streamed in one piece.

    Raises:
        BadResponse: it is not a Message (e.g. an HTML page).
    """
    data = plain(message)
    content = data.get("content") if isinstance(data, dict) else None
    if not isinstance(content, list):
        raise BadResponse(f"the provider's answer is not an Anthropic message: {str(message)[:200]}")
    reader = AnthropicStreamReader(StreamAccumulator(), DeltaSink())
    reader.feed({"type": "message_start", "message": {**data, "content": []}})
    for index, block in enumerate(content):
        reader.feed({"type": "content_block_start", "index": index, "content_block": block})
    has_calls = any(isinstance(block, dict) and block.get("type") == "tool_use" for block in content)
    stop_reason = data.get("stop_reason") or ("tool_use" if has_calls else "end_turn")
    reader.feed({"type": "message_delta", "delta": {"stop_reason": stop_reason}, "usage": {}})
    response = reader.finish()
    response.streamed = False
    return response


__all__ = [
    "DEFAULT_MAX_TOKENS",
    "AnthropicStreamReader",
    "AnthropicWire",
    "finish_reason_for",
    "open_anthropic_stream",
    "response_from_message",
]
